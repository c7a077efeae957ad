"""A server process that goes away mid-reply loses nothing and blocks nothing."""

import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from chats.models import Message
from tests.factories import ConversationFactory, UserFactory
from tests.streams import events_of, frames_until_chunks, message_sent, message_streamed, reply_settled

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def reply_status_wait(conversation, *, timeout: float) -> Message:
    return reply_settled(Message.objects.filter(conversation=conversation, sender="ai").first, timeout=timeout)


@contextmanager
def reply_started(process, conversation, user) -> Iterator[list]:
    """A long reply open on `process`, read to its first chunks (their events); the stream stays open inside."""
    body = {"message": "tell me everything"}
    with httpx.Client(timeout=30, trust_env=False) as client:
        with message_streamed(client, process.url, user, conversation.id, body) as (_, frames):
            yield events_of(frames_until_chunks(frames, 3))


def test_sigterm_mid_reply_saves_the_partial_reply_as_incomplete(daphne_processes, anthropic_server):
    anthropic_server.reply_script(tokens=[f" word{i}" for i in range(400)], token_interval=0.05)
    user = UserFactory()
    conversation = ConversationFactory(user=user)
    (process,) = daphne_processes(count=1)
    with reply_started(process, conversation, user) as events:
        signalled = time.monotonic()
        process.popen.send_signal(signal.SIGTERM)
        process.popen.wait(timeout=10)
        reply = reply_status_wait(conversation, timeout=1)
    assert time.monotonic() - signalled < 10
    assert reply.status == Message.Status.INCOMPLETE
    streamed = "".join(e["content"] for e in events if e["type"] == "chunk")
    assert reply.message.startswith(streamed)
    assert len(reply.message.split()) < 400


def test_a_reply_orphaned_by_sigkill_is_recovered_and_does_not_block(daphne_processes, anthropic_server, settings):
    anthropic_server.reply_script(tokens=[f" word{i}" for i in range(400)], token_interval=0.05)
    user = UserFactory()
    conversation = ConversationFactory(user=user)
    first, second = daphne_processes(count=2)
    with reply_started(first, conversation, user):
        time.sleep(0.3)  # let a progress save land
        first.popen.send_signal(signal.SIGKILL)
        first.popen.wait(timeout=5)
    orphan = Message.objects.get(conversation=conversation, sender="ai")
    assert orphan.status == Message.Status.STREAMING and orphan.message

    with httpx.Client(timeout=30, trust_env=False) as client:
        blocked = message_sent(client, second.url, user, conversation.id, {"message": "hello?"})
        assert blocked.status_code == 409
        time.sleep(settings.NORA_REPLY_STALE_SECONDS + 0.5)
        with message_streamed(client, second.url, user, conversation.id, {"message": "hello?"}) as (response, frames):
            assert response.status_code == 200
            events = events_of(list(frames))
    assert events[-1]["type"] == "done"
    orphan.refresh_from_db()
    assert orphan.status == Message.Status.INCOMPLETE and orphan.message
