"""A server process that goes away mid-reply loses nothing and blocks nothing."""

import signal
import time

import httpx
import pytest

from chats.models import Message
from tests.e2e.test_stream_e2e import auth, events_of, frames_until_chunks, sse_frames
from tests.factories import ConversationFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def reply_status_wait(conversation, *, timeout: float) -> Message:
    deadline = time.monotonic() + timeout
    while True:
        reply = Message.objects.filter(conversation=conversation, sender="ai").first()
        if reply is not None and reply.status != Message.Status.STREAMING or time.monotonic() > deadline:
            return reply
        time.sleep(0.05)


def reply_started(process, conversation, user) -> tuple[httpx.Client, list]:
    """Open a long reply on `process` and read its first chunks; the stream stays open."""
    client = httpx.Client(timeout=30)
    stream = client.stream(
        "POST",
        f"{process.url}/chats/{conversation.id}/message",
        json={"message": "tell me everything"},
        headers=auth(user),
    )
    response = stream.__enter__()
    frames = frames_until_chunks(sse_frames(response), 3)
    return client, events_of(frames)


def test_sigterm_mid_reply_saves_the_partial_reply_as_incomplete(daphne_processes, anthropic_server):
    anthropic_server.reply_script(tokens=[f" word{i}" for i in range(400)], token_interval=0.05)
    user = UserFactory()
    conversation = ConversationFactory(user=user)
    (process,) = daphne_processes(count=1)
    client, events = reply_started(process, conversation, user)
    signalled = time.monotonic()
    process.popen.send_signal(signal.SIGTERM)
    process.popen.wait(timeout=10)
    reply = reply_status_wait(conversation, timeout=1)
    assert time.monotonic() - signalled < 10
    assert reply.status == Message.Status.INCOMPLETE
    streamed = "".join(e["content"] for e in events if e["type"] == "chunk")
    assert reply.message.startswith(streamed)
    assert len(reply.message.split()) < 400
    client.close()


def test_a_reply_orphaned_by_sigkill_is_recovered_and_does_not_block(daphne_processes, anthropic_server, settings):
    anthropic_server.reply_script(tokens=[f" word{i}" for i in range(400)], token_interval=0.05)
    user = UserFactory()
    conversation = ConversationFactory(user=user)
    first, second = daphne_processes(count=2)
    client, _ = reply_started(first, conversation, user)
    time.sleep(0.3)  # let a progress save land
    first.popen.send_signal(signal.SIGKILL)
    first.popen.wait(timeout=5)
    client.close()
    orphan = Message.objects.get(conversation=conversation, sender="ai")
    assert orphan.status == Message.Status.STREAMING and orphan.message

    blocked = httpx.post(
        f"{second.url}/chats/{conversation.id}/message", json={"message": "hello?"}, headers=auth(user)
    )
    assert blocked.status_code == 409
    time.sleep(settings.NORA_REPLY_STALE_SECONDS + 0.5)
    with httpx.stream(
        "POST",
        f"{second.url}/chats/{conversation.id}/message",
        json={"message": "hello?"},
        headers=auth(user),
        timeout=30,
    ) as response:
        assert response.status_code == 200
        events = events_of(list(sse_frames(response)))
    assert events[-1]["type"] == "done"
    orphan.refresh_from_db()
    assert orphan.status == Message.Status.INCOMPLETE and orphan.message
