import json
import logging

import pytest
from asgiref.sync import sync_to_async
from django.test import AsyncClient
from rest_framework_simplejwt.tokens import AccessToken

from nora.observability import ContextFilter, JsonFormatter
from tests.factories import TEST_PASSWORD, ConversationFactory, UserFactory
from tests.sockets import socket_communicator
from tests.streams import message_post, without_keepalives

pytestmark = pytest.mark.django_db(transaction=True)

SECRET_MESSAGE = "my secret worry about the baby"


def test_each_response_carries_a_request_id(anon):
    generated = anon.get("/healthz")["X-Request-ID"]
    assert len(generated) == 32
    assert anon.get("/healthz", HTTP_X_REQUEST_ID="trace-abc.123")["X-Request-ID"] == "trace-abc.123"
    assert anon.get("/healthz", HTTP_X_REQUEST_ID="bad id\nwith newline")["X-Request-ID"] != "bad id\nwith newline"


def test_json_log_lines_are_single_objects_with_ids(caplog, anon):
    with caplog.at_level(logging.INFO, logger="nora.requests"):
        anon.get("/healthz", HTTP_X_REQUEST_ID="req-1")
    record = next(r for r in caplog.records if r.name == "nora.requests")
    ContextFilter().filter(record)
    line = JsonFormatter().format(record)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["request_id"] == "req-1"
    assert entry["path"] == "/healthz" and entry["status"] == 200 and entry["latency_ms"] >= 0


def logged_text(caplog) -> str:
    formatter = JsonFormatter()
    lines = []
    for record in caplog.records:
        ContextFilter().filter(record)
        lines.append(formatter.format(record))
    return "\n".join(lines)


async def test_no_secret_or_message_text_reaches_a_log_line(caplog):
    caplog.set_level(logging.DEBUG)
    client = AsyncClient()
    registered = await client.post(
        "/auth/register",
        json.dumps({"email": "log@example.com", "password": TEST_PASSWORD}),
        content_type="application/json",
    )
    tokens = registered.json()["data"]
    await client.post("/auth/refresh", json.dumps({"refresh": tokens["refresh"]}), content_type="application/json")
    await client.post(
        "/auth/login",
        json.dumps({"email": "log@example.com", "password": "wrong-password-1"}),
        content_type="application/json",
    )
    user = await sync_to_async(UserFactory)()
    access = str(AccessToken.for_user(user))
    conversation = await sync_to_async(ConversationFactory)(user=user)
    _, events = await message_post(user, conversation.id, {"message": SECRET_MESSAGE}, client=client, token=access)
    communicator = socket_communicator(token=access, session_id=conversation.id, query="")
    await communicator.connect()
    await communicator.receive_json_from(timeout=5)
    await communicator.disconnect()

    logged = logged_text(caplog)
    assert "nora.requests" in logged and "voice.open" in logged
    for secret in (TEST_PASSWORD, "wrong-password-1", tokens["access"], tokens["refresh"], access, SECRET_MESSAGE):
        assert secret not in logged
    reply_text = "".join(event.get("content", "") for event in without_keepalives(events))
    assert reply_text and reply_text[:40] not in logged


def test_metrics_are_exposed(anon, settings):
    anon.get("/healthz")
    body = anon.get("/metrics").content.decode()
    for name in (
        "nora_http_requests_total",
        "nora_open_streams",
        "nora_open_voice_sockets",
        "nora_time_to_first_chunk_seconds",
        "nora_provider_errors_total",
        "nora_tokens_total",
    ):
        assert name in body


def test_metrics_can_require_a_token(anon, settings):
    settings.NORA_METRICS_TOKEN = "scrape-me"
    assert anon.get("/metrics").status_code == 401
    assert anon.get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-me").status_code == 200
