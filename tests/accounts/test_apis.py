from datetime import timedelta

import pytest
from rest_framework_simplejwt.tokens import AccessToken

from accounts.models import User
from tests.factories import TEST_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def register(client, **overrides):
    body = {"email": "Ada@Example.com", "password": "a-long-test-passphrase-42", "name": "Ada", **overrides}
    return client.post("/auth/register", body, format="json")


def test_register_returns_user_and_tokens(anon):
    response = register(anon)
    assert response.status_code == 201
    data = response.json()["data"]
    assert data["user"]["email"] == "ada@example.com"
    assert data["user"]["name"] == "Ada"
    assert data["access"] and data["refresh"]
    assert User.objects.filter(email="ada@example.com").exists()


def test_register_without_name(anon):
    response = anon.post("/auth/register/", {"email": "b@example.com", "password": TEST_PASSWORD}, format="json")
    assert response.status_code == 201
    assert response.json()["data"]["user"]["name"] == ""


def test_register_taken_email_is_400_in_any_case(anon):
    register(anon)
    response = register(anon, email="ADA@example.com")
    assert response.status_code == 400
    body = response.json()
    assert body["message"] == "An account with this email already exists."
    assert "email" in body["errors"]


@pytest.mark.parametrize("password", ["short", "password123", "12345678901"])
def test_register_applies_password_validators(anon, password):
    response = register(anon, password=password)
    assert response.status_code == 400
    assert response.json()["errors"]["password"]
    assert not User.objects.exists()


def test_register_rejects_bad_email(anon):
    response = register(anon, email="not-an-email")
    assert response.status_code == 400
    assert "email" in response.json()["errors"]


def test_register_rejects_non_json_with_envelope(anon):
    response = anon.post("/auth/register", "email=a", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415
    assert set(response.json()) == {"message", "errors"}


def test_login_returns_tokens(anon, user):
    response = anon.post("/auth/login", {"email": user.email.upper(), "password": TEST_PASSWORD}, format="json")
    assert response.status_code == 200
    data = response.json()["data"]
    assert data["user"]["id"] == str(user.id)
    assert data["access"] and data["refresh"]


def test_login_wrong_password_is_401(anon, user):
    response = anon.post("/auth/login", {"email": user.email, "password": "wrong"}, format="json")
    assert response.status_code == 401
    assert response.json() == {"message": "Incorrect email or password.", "errors": {}}


def test_login_unknown_email_is_401(anon):
    response = anon.post("/auth/login", {"email": "nobody@example.com", "password": "x"}, format="json")
    assert response.status_code == 401


def test_login_inactive_user_is_401(anon):
    user = UserFactory(is_active=False)
    response = anon.post("/auth/login", {"email": user.email, "password": TEST_PASSWORD}, format="json")
    assert response.status_code == 401


def _login(anon, user) -> dict:
    return anon.post("/auth/login", {"email": user.email, "password": TEST_PASSWORD}, format="json").json()["data"]


def test_refresh_rotates_and_blacklists(anon, user):
    tokens = _login(anon, user)
    response = anon.post("/auth/refresh", {"refresh": tokens["refresh"]}, format="json")
    assert response.status_code == 200
    fresh = response.json()["data"]
    assert fresh["access"] and fresh["refresh"] != tokens["refresh"]

    reused = anon.post("/auth/refresh", {"refresh": tokens["refresh"]}, format="json")
    assert reused.status_code == 401
    assert anon.post("/auth/refresh", {"refresh": fresh["refresh"]}, format="json").status_code == 200


def test_refresh_with_garbage_is_401(anon):
    response = anon.post("/auth/refresh", {"refresh": "garbage"}, format="json")
    assert response.status_code == 401
    assert "message" in response.json()


def test_refresh_missing_field_is_400(anon):
    response = anon.post("/auth/refresh", {}, format="json")
    assert response.status_code == 400
    assert "refresh" in response.json()["errors"]


def test_logout_kills_the_refresh_token(anon, user):
    tokens = _login(anon, user)
    response = anon.post("/auth/logout", {"refresh": tokens["refresh"]}, format="json")
    assert response.status_code == 200
    assert anon.post("/auth/refresh", {"refresh": tokens["refresh"]}, format="json").status_code == 401
    assert anon.post("/auth/logout", {"refresh": tokens["refresh"]}, format="json").status_code == 401


def test_me_returns_profile(api, user):
    response = api.get("/auth/me")
    assert response.status_code == 200
    data = response.json()["data"]
    assert set(data) == {"id", "email", "name", "due_date", "default_personality", "country", "language", "created_at"}
    assert data["default_personality"] == "mother_figure"
    assert (data["country"], data["language"]) == (None, None)


def test_me_update_sets_and_clears_country_and_language(api, user):
    response = api.patch("/auth/me", {"country": "MX", "language": "es"}, format="json")
    assert response.status_code == 200
    assert (response.json()["data"]["country"], response.json()["data"]["language"]) == ("MX", "es")
    user.refresh_from_db()
    assert (user.country, user.language) == ("MX", "es")
    assert api.get("/auth/me").json()["data"]["country"] == "MX"

    response = api.patch("/auth/me", {"country": None, "language": None}, format="json")
    assert response.status_code == 200
    user.refresh_from_db()
    assert (user.country, user.language) == (None, None)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("country", "UK"),  # not ISO 3166-1: the United Kingdom is GB
        ("country", "gb"),
        ("country", "GBR"),
        ("country", ""),
        ("country", 44),
        ("language", "de"),  # no notice is written in German
        ("language", "ES"),
        ("language", "spanish"),
        ("language", ""),
    ],
)
def test_me_update_refuses_what_is_not_a_code_nora_knows(api, user, field, value):
    response = api.patch("/auth/me", {field: value}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["message"] == f"Invalid input: {field}."
    assert list(body["errors"]) == [field]
    user.refresh_from_db()
    assert getattr(user, field) is None


def test_me_update(api, user):
    response = api.patch(
        "/auth/me/", {"name": "Grace", "due_date": "2027-03-01", "default_personality": "midwife"}, format="json"
    )
    assert response.status_code == 200
    user.refresh_from_db()
    assert (user.name, str(user.due_date), user.default_personality) == ("Grace", "2027-03-01", "midwife")


def test_me_update_ignores_protected_fields(api, user):
    response = api.patch("/auth/me", {"email": "evil@example.com", "is_staff": True, "id": "x"}, format="json")
    assert response.status_code == 200
    user.refresh_from_db()
    assert user.email != "evil@example.com" and not user.is_staff


def test_me_update_rejects_unknown_personality(api):
    response = api.patch("/auth/me", {"default_personality": "pirate"}, format="json")
    assert response.status_code == 400
    assert "default_personality" in response.json()["errors"]


def test_me_requires_token(anon):
    response = anon.get("/auth/me")
    assert response.status_code == 401
    assert set(response.json()) == {"message", "errors"}


def test_me_rejects_bad_token(anon):
    anon.credentials(HTTP_AUTHORIZATION="Bearer not.a.token")
    assert anon.get("/auth/me").status_code == 401


def test_expired_access_token_is_401(anon, user):
    token = AccessToken.for_user(user)
    token.set_exp(lifetime=-timedelta(seconds=1))
    anon.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert anon.get("/auth/me").status_code == 401
