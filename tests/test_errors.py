"""The one error envelope: the same sentences and the same bytes from every endpoint, DEBUG or not."""

import uuid

import pytest
from django.test import Client

from nora.errors import NOT_AUTHENTICATED

pytestmark = pytest.mark.django_db

MALFORMED = "{not json"


@pytest.mark.parametrize("path", ["/auth/login", "/auth/register", "/chats"])
def test_malformed_json_is_answered_with_a_sentence(anon, api, path):
    """Not the decoder's 'JSON parse error - Expecting property name ... (char 1)'."""
    client = api if path == "/chats" else anon
    response = client.post(path, MALFORMED, content_type="application/json")
    assert response.status_code == 400
    assert response.json() == {"message": "The request body must be valid JSON.", "errors": {}}


def test_the_message_stream_and_rest_send_malformed_json_the_same_bytes(api):
    rest = api.post("/chats", MALFORMED, content_type="application/json")
    stream = api.post(f"/chats/{uuid.uuid4()}/message", MALFORMED, content_type="application/json")
    assert stream.status_code == rest.status_code == 400
    assert stream.content == rest.content
    assert stream["Content-Type"] == rest["Content-Type"] == "application/json"


def test_the_message_stream_and_rest_send_deeply_nested_json_the_same_bytes(api):
    nested = "[" * 5000
    rest = api.post("/chats", nested, content_type="application/json")
    stream = api.post(f"/chats/{uuid.uuid4()}/message", nested, content_type="application/json")
    assert stream.status_code == rest.status_code == 400
    assert rest.json()["message"] == "The JSON is nested too deeply."
    assert stream.content == rest.content


def test_the_message_stream_and_rest_send_401_the_same_bytes(anon):
    rest = anon.get("/chats")
    stream = anon.post(f"/chats/{uuid.uuid4()}/message", {"message": "hi"}, content_type="application/json")
    assert stream.status_code == rest.status_code == 401
    assert rest.json()["message"] == NOT_AUTHENTICATED
    assert stream.content == rest.content
    assert stream["WWW-Authenticate"] == rest["WWW-Authenticate"] == 'Bearer realm="api"'


@pytest.mark.parametrize("debug", [False, True], ids=["production", "debug"])
@pytest.mark.parametrize(
    ("method", "path"),
    [("get", "/chats/not-a-uuid"), ("patch", "/chats/not-a-uuid/title"), ("post", "/no-such-path"), ("get", "/x/")],
)
def test_a_path_no_route_matches_is_the_json_404(settings, debug, method, path):
    """Even with DEBUG on (`make run`), where Django would show its HTML debug page, and for a
    POST, which Django's CSRF check would otherwise answer with a 403 page."""
    settings.DEBUG = debug
    response = getattr(Client(), method)(path, content_type="application/json")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"message": "Not found.", "errors": {}}


def test_the_health_checks_render_json_as_the_api_does(anon):
    response = anon.get("/healthz")
    assert response.content == b'{"status":"ok"}'
    assert response["Content-Type"] == "application/json"


def test_an_unusable_access_token_is_answered_with_a_sentence(anon):
    """Not simplejwt's checks as a Python repr ("{'detail': ErrorDetail(...")."""
    response = anon.get("/chats", HTTP_AUTHORIZATION="Bearer not-a-token")
    assert response.status_code == 401
    assert response.json() == {"message": NOT_AUTHENTICATED, "errors": {}}
