import pytest

from tests.factories import TEST_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def login(client, email, password="wrong", **extra):
    return client.post("/auth/login", {"email": email, "password": password}, format="json", **extra)


def test_ten_failed_logins_lock_the_account(anon, settings):
    user = UserFactory()
    for _ in range(settings.NORA_AUTH_ACCOUNT_FAILURES):
        assert login(anon, user.email, REMOTE_ADDR=f"10.0.0.{_}").status_code == 401
    response = login(anon, user.email, TEST_PASSWORD, REMOTE_ADDR="10.0.1.1")
    assert response.status_code == 429
    assert response.json() == {"message": "Too many attempts. Please wait a while and try again.", "errors": {}}
    assert 0 < int(response["Retry-After"]) <= settings.NORA_AUTH_WINDOW_SECONDS


def test_successful_logins_do_not_count_against_the_account(anon, settings):
    user = UserFactory()
    for index in range(settings.NORA_AUTH_ACCOUNT_FAILURES + 2):
        assert login(anon, user.email, TEST_PASSWORD, REMOTE_ADDR=f"10.0.0.{index}").status_code == 200


def test_one_address_is_limited_across_accounts(anon, settings):
    settings.NORA_AUTH_ADDRESS_ATTEMPTS = 5
    for index in range(5):
        assert login(anon, f"someone{index}@example.com").status_code == 401
    assert login(anon, "another@example.com").status_code == 429
    assert (
        anon.post("/auth/register", {"email": "new@example.com", "password": TEST_PASSWORD}, format="json").status_code
        == 429
    )
    assert login(anon, "another@example.com", REMOTE_ADDR="192.0.2.9").status_code == 401


def test_forwarded_address_is_ignored_unless_a_proxy_is_trusted(anon, settings):
    settings.NORA_AUTH_ADDRESS_ATTEMPTS = 3
    for index in range(3):
        login(anon, "a@example.com", HTTP_X_FORWARDED_FOR=f"198.51.100.{index}")
    assert login(anon, "a@example.com", HTTP_X_FORWARDED_FOR="198.51.100.99").status_code == 429


def test_trusted_proxy_header_gives_each_client_its_own_limit(anon, settings):
    settings.NORA_AUTH_ADDRESS_ATTEMPTS = 3
    settings.NORA_TRUSTED_PROXY = 1
    for _ in range(3):
        login(anon, "a@example.com", HTTP_X_FORWARDED_FOR="spoofed, 198.51.100.1")
    assert login(anon, "a@example.com", HTTP_X_FORWARDED_FOR="198.51.100.1").status_code == 429
    assert login(anon, "a@example.com", HTTP_X_FORWARDED_FOR="198.51.100.2").status_code == 401
