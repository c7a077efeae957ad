"""What daphne itself puts on the wire for Nora's responses."""

import httpx
import pytest

from tests.factories import UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def one_failed_login_allowed(monkeypatch) -> None:
    # daphne_processes copies os.environ when it is set up, so this must come before it.
    monkeypatch.setenv("NORA_AUTH_ACCOUNT_FAILURES", "1")


def test_a_429_has_its_reason_phrase(one_failed_login_allowed, daphne_processes):
    """Not `HTTP/1.1 429 Unknown Status`: Twisted's table of phrases lacks 429."""
    [server] = daphne_processes()
    UserFactory(email="ada@example.com")
    wrong = {"email": "ada@example.com", "password": "not-the-password"}

    with httpx.Client(base_url=server.url, trust_env=False) as client:
        first = client.post("/auth/login", json=wrong)
        throttled = client.post("/auth/login", json=wrong)

    assert (first.status_code, first.reason_phrase) == (401, "Unauthorized")
    assert (throttled.status_code, throttled.reason_phrase) == (429, "Too Many Requests")
    assert throttled.http_version == "HTTP/1.1"
    assert int(throttled.headers["Retry-After"]) > 0
