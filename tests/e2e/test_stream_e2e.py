"""POST /chats/{id}/message end to end: real daphne processes, PostgreSQL, Redis and the real
anthropic SDK talking to the fake Anthropic server."""

import time
from collections.abc import Iterator

import httpx
import pytest

from accounts.models import User
from chats.models import Conversation, Message
from tests.e2e.conftest import FAKE_API_KEY
from tests.factories import ConversationFactory, UserFactory
from tests.streams import (
    KEEP_ALIVE,
    auth,
    chunks_text,
    events_of,
    frames_until_chunks,
    message_sent,
    message_streamed,
    reply_settled,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SAVE_WAIT_SECONDS = 10.0


def reply_saved(message_id: str) -> Message:
    """The reply once its generator has finished with it, however long that takes within reason."""
    return reply_settled(Message.objects.filter(id=message_id).first, timeout=SAVE_WAIT_SECONDS)


def words(count: int) -> list[str]:
    return [f" word{index}" for index in range(count)]


@pytest.fixture
def owner() -> User:
    return UserFactory()


@pytest.fixture
def conversation(owner) -> Conversation:
    # A titled conversation, so no title request competes with the reply for the fake's scripts.
    return ConversationFactory(user=owner, title="Existing chat")


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    # Everything is on 127.0.0.1: no proxy from the environment may stand in between.
    with httpx.Client(timeout=10.0, trust_env=False) as client:
        yield client


def test_a_reply_streams_incrementally_and_is_saved_complete(
    daphne_processes, anthropic_server, client, owner, conversation
):
    """Chunks leave daphne as the model produces them, not buffered, and the reply is saved whole."""
    [server] = daphne_processes()
    tokens = words(10)
    anthropic_server.reply_script(tokens=tokens, token_interval=0.1)
    body = {"message": "Is it normal to feel tired?"}
    with message_streamed(client, server.url, owner, conversation.id, body) as (response, frames):
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/event-stream"
        assert response.headers["cache-control"] == "no-cache"
        frames = list(frames)

    start, *chunks, done = events_of(frames)
    assert start == {"type": "start", "message_id": start["message_id"]}
    assert chunks == [{"type": "chunk", "content": token} for token in tokens]
    assert (done["type"], done["message_id"], done["status"]) == ("done", start["message_id"], "complete")
    chunk_times = [frame.arrived_at for frame in frames if frame.event != KEEP_ALIVE and frame.event["type"] == "chunk"]
    # Nine intervals of 0.1 s separate the first token from the last at the fake.
    assert chunk_times[-1] - chunk_times[0] > 0.6

    reply = Message.objects.get(id=start["message_id"])
    assert (reply.sender, reply.status, reply.message) == ("ai", "complete", "".join(tokens))
    assert (reply.model, reply.output_tokens) == ("claude-sonnet-4-6", len(tokens))
    [request] = anthropic_server.reply_requests
    assert FAKE_API_KEY in request.headers.get("x-api-key", "") + request.headers.get("authorization", "")
    assert request.body["messages"][-1]["content"] in (
        "Is it normal to feel tired?",
        [{"type": "text", "text": "Is it normal to feel tired?"}],
    )


def test_a_reply_outlives_a_client_that_disconnects(daphne_processes, anthropic_server, client, owner, conversation):
    """Closing the stream after the first chunk does not stop the reply: it is saved complete."""
    [server] = daphne_processes()
    tokens = words(20)
    anthropic_server.reply_script(tokens=tokens, token_interval=0.05)
    body = {"message": "tell me a story"}
    with message_streamed(client, server.url, owner, conversation.id, body) as (response, frames):
        read = frames_until_chunks(frames, 1)
    start = events_of(read)[0]
    assert Message.objects.get(id=start["message_id"]).status == "streaming"

    reply = reply_saved(start["message_id"])
    assert (reply.status, reply.message) == ("complete", "".join(tokens))


def test_stop_sent_to_another_process_ends_the_reply(daphne_processes, anthropic_server, client, owner, conversation):
    """A stop posted to process B ends the reply streaming from process A; the partial text is kept."""
    a, b = daphne_processes(count=2)
    tokens = words(100)
    anthropic_server.reply_script(tokens=tokens, token_interval=0.03)
    body = {"message": "tell me a long story"}
    with message_streamed(client, a.url, owner, conversation.id, body) as (response, frames):
        read = frames_until_chunks(frames, 3)
        stop = client.post(f"{b.url}/chats/{conversation.id}/stop", headers=auth(owner))
        assert stop.status_code == 200
        assert stop.json() == {"message": "Stopping the reply", "data": {"stopping": True}}
        read += list(frames)

    events = events_of(read)
    done = events[-1]
    assert (done["type"], done["status"]) == ("done", "stopped")
    streamed = chunks_text(events)
    assert 0 < len(streamed) < len("".join(tokens))
    reply = Message.objects.get(id=done["message_id"])
    assert (reply.status, reply.message) == ("stopped", streamed)


def test_a_second_message_to_another_process_is_409(daphne_processes, anthropic_server, client, owner, conversation):
    """One reply per conversation holds across processes: B refuses a message while A generates."""
    a, b = daphne_processes(count=2)
    anthropic_server.reply_script(tokens=words(10), token_interval=0.1)
    with message_streamed(client, a.url, owner, conversation.id, {"message": "first"}) as (response, frames):
        assert response.status_code == 200
        second = message_sent(client, b.url, owner, conversation.id, {"message": "second"})
        assert second.status_code == 409
        assert second.json() == {"message": "A reply is already being generated", "errors": {}}
        events = events_of(list(frames))

    assert events[-1]["status"] == "complete"
    saved = Message.objects.filter(conversation=conversation).order_by("created_at")
    assert list(saved.values_list("message", flat=True)) == ["first", "".join(words(10))]


def test_stop_still_works_after_the_model_was_silent_longer_than_redis_idles(
    daphne_processes, anthropic_server, client, owner, conversation
):
    """Keep-alives flow through a 6 s silence, and the stop listener, idle on Redis all that time,
    still hears a stop: redis-py 8's default 5 s socket timeout would have killed it."""
    a, b = daphne_processes(count=2)
    anthropic_server.reply_script(tokens=words(60), first_token_delay=6.0, token_interval=0.05)
    asked_at = time.monotonic()
    with message_streamed(client, a.url, owner, conversation.id, {"message": "are you there?"}) as (response, frames):
        read = frames_until_chunks(frames, 1)
        assert read[-1].arrived_at - asked_at > 5.5
        assert sum(1 for frame in read if frame.event == KEEP_ALIVE) >= 10
        stop = client.post(f"{b.url}/chats/{conversation.id}/stop", headers=auth(owner))
        assert stop.json()["data"] == {"stopping": True}
        read += list(frames)

    events = events_of(read)
    assert (events[-1]["type"], events[-1]["status"]) == ("done", "stopped")
    reply = Message.objects.get(id=events[-1]["message_id"])
    assert (reply.status, reply.message) == ("stopped", chunks_text(events))
    assert len(reply.message) < len("".join(words(60)))
