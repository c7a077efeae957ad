"""Schemathesis against the app's own OpenAPI schema: no 500, and every response as documented.

Cases run through the real ASGI application, authenticated as a real user; the generator is
handed the user's own conversation id, refresh token and password part of the time so the
deeper paths run, not only the 404s and 400s.
"""

import json
import uuid

import jsonschema
import pytest
import schemathesis
from django.test import AsyncClient, Client, override_settings
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from rest_framework_simplejwt.tokens import RefreshToken
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from nora.asgi import application
from tests.factories import TEST_PASSWORD, ConversationFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
CONVERSATION_ID = "7b0c5a52-6a47-4c36-9b55-2f0d7c1f2d11"
EMAIL = "fuzzed-parent@example.com"
SSE_PATH = "/chats/{session_id}/message"
NESTED = b"[" * 5000  # past Python's recursion limit
TOO_BIG = b'{"title": "' + b"x" * 70_000 + b'"}'  # past DATA_UPLOAD_MAX_MEMORY_SIZE

# The module is collected before the test environment lets the test client's host in.
with override_settings(ALLOWED_HOSTS=["testserver"]):
    schema = schemathesis.openapi.from_asgi("/api/schema/?format=json", application)
# Read every reply to its last event: a stream cut short leaves its reply running past the test.
schema.config.max_stream_events = 10_000

# The caller's secrets for the current test, for the hooks below.
known: dict[str, str] = {}


@schema.hook
def flatmap_path_parameters(context, path_parameters):
    """Half the time the conversation is the caller's own, so the paths past the 404 run too."""
    if not path_parameters:
        return st.just(path_parameters)
    name = "session_id" if "session_id" in path_parameters else "id"
    return st.sampled_from([path_parameters, {**path_parameters, name: CONVERSATION_ID}])


@schema.hook
def flatmap_body(context, body):
    """Half the time a body carries the caller's real refresh token, password or a valid message."""
    path = context.operation.path
    if not isinstance(body, dict):
        return st.just(body)
    if path in ("/auth/refresh/", "/auth/logout/"):
        return st.sampled_from([body, {**body, "refresh": known["refresh"]}])
    if path == "/auth/login/":
        return st.sampled_from([body, {**body, "email": EMAIL, "password": TEST_PASSWORD}])
    if path == SSE_PATH:
        return st.sampled_from([body, {"message": "Is sushi safe in pregnancy?"}])
    if path == "/auth/me/" and context.operation.method.lower() == "delete":
        return st.sampled_from([body, {**body, "password": TEST_PASSWORD}])
    return st.just(body)


@pytest.fixture
def bearer() -> str:
    user = UserFactory(email=EMAIL)
    ConversationFactory(user=user, id=uuid.UUID(CONVERSATION_ID))
    refresh = RefreshToken.for_user(user)
    known["refresh"] = str(refresh)
    return f"Bearer {refresh.access_token}"


def sse_events(raw: bytes) -> list[dict]:
    """`data: <json>` frames and `: keep-alive` comments, each ending in a blank line."""
    assert raw.endswith(b"\n\n"), raw[-200:]
    events = []
    for frame in raw[:-2].split(b"\n\n"):
        if frame == b": keep-alive":
            continue
        assert frame.startswith(b"data: ") and b"\n" not in frame, frame
        events.append(json.loads(frame[len(b"data: ") :]))
    return events


def stream_check(case, response) -> None:
    """Schemathesis reads a pre-3.2 event-stream schema as the shape of the SSE event itself; Nora's
    documents the JSON in each event's data line, so the frames are checked here."""
    documented = case.operation.definition.raw["responses"]["200"]["content"]["text/event-stream"]["schema"]
    validator = jsonschema.Draft202012Validator(documented, format_checker=jsonschema.FormatChecker())
    events = sse_events(response.content)
    for event in events:
        validator.validate(event)
    assert events[0]["type"] == "start" and events[-1]["type"] in {"done", "error"}


@schema.parametrize()
@settings(max_examples=25, derandomize=True, deadline=None, database=None, suppress_health_check=list(HealthCheck))
def test_api(case, bearer):
    """No 500; every status, content type and body as documented, the event stream's frames included."""
    response = case.call(headers={"Authorization": bearer})
    checks = CHECKS
    if case.operation.path == SSE_PATH and response.status_code == 200:
        stream_check(case, response)
        checks = [check for check in CHECKS if check is not response_schema_conformance]
    case.validate_response(response, checks=checks)


@pytest.mark.parametrize(
    "path", ["/auth/login", "/auth/register", "/auth/ws-ticket", "/chats", f"/chats/{CONVERSATION_ID}/stop"]
)
def test_options_is_not_a_server_error(bearer, path):
    """OPTIONS on a POST endpoint is answered, not a 500: DRF's metadata would need a serializer_class."""
    response = Client(raise_request_exception=False).options(path, headers={"authorization": bearer})
    assert response.status_code == 405


@pytest.mark.parametrize(
    "method, path, body",
    [
        ("post", "/chats", NESTED),
        ("post", f"/chats/{CONVERSATION_ID}/message", NESTED),
        ("patch", f"/chats/{CONVERSATION_ID}/title", TOO_BIG),
        ("post", "/auth/login", TOO_BIG),
        ("post", f"/chats/{CONVERSATION_ID}/message", TOO_BIG),
    ],
)
async def test_hostile_requests_are_not_server_errors(bearer, method, path, body):
    """Bodies nested past the recursion limit or over the size limit are a 4xx in the error envelope."""
    client = AsyncClient(raise_request_exception=False)
    headers = {"authorization": bearer}
    response = await getattr(client, method)(path, body, content_type="application/json", headers=headers)
    assert 400 <= response.status_code < 500, response.content[:200]
    assert set(response.json()) == {"message", "errors"}
