"""Injected faults: what the client sees and what is saved when a dependency fails."""

import asyncio
import shutil
import socket
import subprocess
import time

import pytest
from asgiref.sync import sync_to_async
from django.db import OperationalError
from django.test import AsyncClient

from chats import services
from chats.models import Message
from fakes.deepgram_server import refused_url
from tests.factories import ConversationFactory
from tests.streams import message_post, without_keepalives

pytestmark = pytest.mark.django_db(transaction=True)


async def send(user, conversation_id, text="hello"):
    response, events = await message_post(user, conversation_id, {"message": text})
    return response, without_keepalives(events) if events is not None else None


async def reply_of(conversation) -> Message:
    return await Message.objects.filter(conversation=conversation, sender="ai").aget()


async def test_model_provider_down(settings, owner, conversation):
    settings.NORA_LLM_PROVIDER = "anthropic"
    settings.ANTHROPIC_API_KEY = "sk-ant-faults"
    settings.ANTHROPIC_BASE_URL = refused_url().replace("ws://", "http://")
    _, events = await send(owner, conversation.id)
    assert events[-1] == {"type": "error", "message": events[-1]["message"]}
    assert "connect" in events[-1]["message"].lower() or "reach" in events[-1]["message"].lower()
    reply = await reply_of(conversation)
    assert reply.status == "error"


async def test_model_provider_slow_times_out(anthropic_model, settings, owner, conversation):
    settings.NORA_LLM_TIMEOUT_SECONDS = 0.3
    settings.NORA_LLM_RETRIES = 0
    anthropic_model.reply_script(hang=True)
    started = time.monotonic()
    _, events = await send(owner, conversation.id)
    assert time.monotonic() - started < 5
    assert events[-1]["type"] == "error"
    assert (await reply_of(conversation)).status == "error"


async def test_emergency_notice_survives_a_provider_failure(anthropic_model, settings, owner, conversation):
    settings.NORA_EMERGENCY_NUMBER = "112"
    anthropic_model.reply_script(status=401)
    _, events = await send(owner, conversation.id, "im pregnant and bleeding heavily")
    assert events[0]["type"] == "start"
    assert events[1]["type"] == "chunk" and "112" in events[1]["content"]
    assert events[-1]["type"] == "error"
    reply = await reply_of(conversation)
    assert reply.status == "error" and "112" in reply.message


async def test_database_refusing_the_final_write_ends_the_stream_with_error(
    anthropic_model, owner, conversation, monkeypatch
):
    anthropic_model.reply_script(tokens=["one", " two", " three"], token_interval=0.1)

    def refuse(**kwargs):
        raise OperationalError("the database is read-only")

    monkeypatch.setattr(services, "reply_finish", refuse)
    _, events = await send(owner, conversation.id)
    assert [e["type"] for e in events][-1] == "error"
    assert events[-1]["message"] == "Nora could not save this reply. Please try again in a moment."
    reply = await reply_of(conversation)
    assert reply.status == "streaming" and reply.message.startswith("one")


async def test_database_refusing_the_turn_never_half_saves_the_user_message(owner, conversation, monkeypatch):
    create = Message.objects.create

    def create_refusing_replies(**fields):
        if fields.get("sender") == Message.Sender.AI:
            raise OperationalError("disk full")
        return create(**fields)

    monkeypatch.setattr(Message.objects, "create", create_refusing_replies)
    response, _ = await send(owner, conversation.id)
    assert response.status_code == 503
    assert response.json() == {
        "message": "Nora is temporarily unavailable. Please try again in a moment.",
        "errors": {},
    }
    assert await Message.objects.filter(conversation=conversation).acount() == 0


def closed_redis_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"redis://127.0.0.1:{port}/0"


def redis_at(url: str) -> dict:
    return {
        "caches": {
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": url,
                "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
            }
        },
        "layers": {
            "default": {
                "BACKEND": "channels_redis.core.RedisChannelLayer",
                "CONFIG": {"hosts": [{"address": url, "socket_timeout": None, "socket_connect_timeout": 1}]},
            }
        },
    }


async def test_redis_unreachable_at_start_is_a_clear_error_without_a_hang(settings, owner, conversation):
    unreachable = redis_at(closed_redis_url())
    settings.CACHES = unreachable["caches"]
    settings.CHANNEL_LAYERS = unreachable["layers"]
    started = time.monotonic()
    response, _ = await send(owner, conversation.id)
    assert time.monotonic() - started < 5
    assert response.status_code == 503
    assert response.json()["message"] == "Nora is temporarily unavailable. Please try again in a moment."
    ready = await AsyncClient().get("/readyz")
    assert ready.status_code == 503 and ready.json()["checks"]["channel_layer"] == "unavailable"


@pytest.fixture
def private_redis():
    """A Redis of this test's own, which it can stop mid-run."""
    assert shutil.which("redis-server"), "redis-server is needed for the Redis fault test"
    url = closed_redis_url()
    port = url.rsplit(":", 1)[1].split("/")[0]
    process = subprocess.Popen(
        ["redis-server", "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    import redis

    deadline = time.monotonic() + 10
    while True:
        try:
            redis.Redis.from_url(url).ping()
            break
        except redis.ConnectionError:
            assert time.monotonic() < deadline, "the private redis-server did not start"
            time.sleep(0.05)
    yield url, process
    process.kill()
    process.wait()


async def test_redis_going_away_mid_reply(settings, anthropic_model, owner, private_redis):
    url, process = private_redis
    services_at = redis_at(url)
    settings.CACHES = services_at["caches"]
    settings.CHANNEL_LAYERS = services_at["layers"]
    anthropic_model.reply_script(tokens=[f" w{i}" for i in range(20)], token_interval=0.05)
    first = await sync_to_async(ConversationFactory)(user=owner)
    reply_task = asyncio.create_task(send(owner, first.id))
    await asyncio.sleep(0.3)
    assert not reply_task.done()
    process.kill()
    process.wait()
    _, events = await reply_task
    assert events[-1]["type"] == "done" and events[-1]["status"] == "complete"
    assert (await reply_of(first)).message == "".join(e["content"] for e in events if e["type"] == "chunk")

    second = await sync_to_async(ConversationFactory)(user=owner)
    started = time.monotonic()
    response, _ = await send(owner, second.id)
    assert response.status_code == 503
    assert time.monotonic() - started < 5
