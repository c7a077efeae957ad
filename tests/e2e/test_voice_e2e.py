"""The voice socket end to end: a real websocket client, daphne processes on PostgreSQL and Redis,
the real deepgram-sdk against the fake Deepgram, and the real anthropic SDK against the fake Anthropic."""

import asyncio
import json
import time

import httpx
import pytest
import websockets
from rest_framework_simplejwt.tokens import AccessToken

from chats.models import Message
from fakes.deepgram_server import TEST_API_KEY
from tests.factories import TEST_PASSWORD, ConversationFactory, UserFactory
from tests.sockets import receive, receive_until, socket_url, speak
from tests.streams import auth, message_sent

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

AUDIO_QUERY = "encoding=linear16&sample_rate=16000&channels=1"


@pytest.fixture
def speech(monkeypatch, deepgram_server):
    """Processes started after this use the fake Deepgram through the real SDK."""
    monkeypatch.setenv("NORA_STT_PROVIDER", "deepgram")
    monkeypatch.setenv("DEEPGRAM_API_KEY", TEST_API_KEY)
    monkeypatch.setenv("DEEPGRAM_BASE_URL", deepgram_server.url)
    return deepgram_server


def ticket_of(process, user) -> str:
    response = httpx.post(f"{process.url}/auth/ws-ticket", headers=auth(user))
    return response.json()["data"]["ticket"]


def test_a_spoken_turn_over_a_real_socket_and_no_token_in_the_logs(speech, daphne_processes, anthropic_server):
    speech.script(words=["is", "coffee", "safe", "while", "pregnant"])
    anthropic_server.reply_script(tokens=["Up", " to", " 200", " mg", " a", " day."], token_interval=0.02)
    user = UserFactory()
    token = str(AccessToken.for_user(user))
    (process,) = daphne_processes(count=1)

    async def conversation() -> list[dict]:
        async with websockets.connect(socket_url(process.url, token=token, query=AUDIO_QUERY)) as socket:
            connected = await receive(socket)
            await speak(socket, words=5, stop=True)
            messages = await receive_until(socket, "ai_response", complete=True)
            return [connected, *messages]

    messages = asyncio.run(conversation())
    session_id = messages[0]["session_id"]
    final = next(m for m in messages if m["type"] == "final_transcript")
    assert final["text"].lower().startswith("is coffee safe while pregnant")
    complete = messages[-1]
    assert complete["text"] == "Up to 200 mg a day." and complete["disclaimer"]
    saved = list(
        Message.objects.filter(conversation_id=session_id)
        .order_by("created_at")
        .values_list("sender", "source", "status")
    )
    assert saved == [("user", "voice", "complete"), ("ai", "voice", "complete")]
    assert speech.stream.query["model"] == "nova-3" and speech.stream.query["encoding"] == "linear16"
    process.popen.terminate()
    process.reap()
    assert token not in process.output()
    assert "is coffee safe" not in process.output().lower()


def test_an_idle_socket_outlives_redis_read_timeouts(daphne_processes):
    """redis-py 8 times out reads after 5 s by default; a consumer on channels-redis must not die of it."""
    user = UserFactory()
    (process,) = daphne_processes(count=1)

    async def idle_then_ping() -> dict:
        async with websockets.connect(socket_url(process.url, ticket=ticket_of(process, user))) as socket:
            await receive(socket)
            await asyncio.sleep(6.5)
            await socket.send(json.dumps({"type": "ping", "timestamp": "after-idle"}))
            return await receive(socket)

    assert asyncio.run(idle_then_ping()) == {"type": "pong", "timestamp": "after-idle"}
    assert "TimeoutError" not in process.output()


def test_a_ticket_from_one_process_opens_a_socket_on_another_once(daphne_processes):
    user = UserFactory()
    first, second = daphne_processes(count=2)
    ticket = ticket_of(first, user)

    async def open_with(ticket: str) -> dict:
        async with websockets.connect(socket_url(second.url, ticket=ticket)) as socket:
            return await receive(socket)

    assert asyncio.run(open_with(ticket))["message"] == "Connected"
    assert asyncio.run(open_with(ticket))["type"] == "error"


def test_stop_sent_to_another_process_stops_a_spoken_reply(speech, daphne_processes, anthropic_server):
    speech.script(words=["tell", "me", "a", "story"])
    anthropic_server.reply_script(tokens=[f" word{i}" for i in range(300)], token_interval=0.05)
    user = UserFactory()
    first, second = daphne_processes(count=2)

    async def spoken_turn_stopped_elsewhere() -> list[dict]:
        url = socket_url(first.url, ticket=ticket_of(first, user), query=AUDIO_QUERY)
        async with websockets.connect(url) as socket:
            session_id = (await receive(socket))["session_id"]
            await speak(socket, words=4, stop=True)
            await receive_until(socket, "ai_response")
            async with httpx.AsyncClient() as client:
                stopped = await client.post(
                    f"{second.url}/chats/{session_id}/stop",
                    headers=auth(user),
                )
            assert stopped.json()["data"] == {"stopping": True}
            return await receive_until(socket, "ai_response", complete=True)

    messages = asyncio.run(spoken_turn_stopped_elsewhere())
    assert messages[-1]["status"] == "stopped"
    reply = Message.objects.get(sender="ai", conversation__user=user)
    assert reply.status == "stopped" and 0 < len(reply.message.split()) < 300


def minute_room_wait(*, seconds: float) -> None:
    """Sleep into the next minute when fewer than `seconds` of this one are left.

    The rate limits count in fixed minutes on the servers' own clocks, which a test cannot
    shift as it does in process (tests/conftest.py), so a test that counts hits waits instead.
    """
    left = 60 - time.time() % 60
    if left < seconds:
        time.sleep(left)


def test_throttles_and_quotas_hold_across_processes(daphne_processes, anthropic_server, settings):
    user = UserFactory()
    first, second = daphne_processes(count=2)
    minute_room_wait(seconds=10)
    for index in range(settings.NORA_AUTH_ACCOUNT_FAILURES):
        process = (first, second)[index % 2]
        assert (
            httpx.post(f"{process.url}/auth/login", json={"email": user.email, "password": "wrong"}).status_code == 401
        )
    locked = httpx.post(f"{first.url}/auth/login", json={"email": user.email, "password": TEST_PASSWORD})
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) > 0

    other = UserFactory()
    statuses = []
    with httpx.Client(timeout=30, trust_env=False) as client:
        for index in range(settings.NORA_RATE_MESSAGES_PER_MINUTE + 2):
            conversation = ConversationFactory(user=other)
            process = (first, second)[index % 2]
            statuses.append(message_sent(client, process.url, other, conversation.id, {"message": "hi"}).status_code)
    assert statuses.count(200) == settings.NORA_RATE_MESSAGES_PER_MINUTE
    assert statuses[-2:] == [429, 429]
