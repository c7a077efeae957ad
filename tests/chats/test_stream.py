"""POST /chats/{id}/message: the reply streamed as Server-Sent Events, through the real anthropic SDK."""

import asyncio
import json
import uuid
from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from django.db import OperationalError
from django.db.models.signals import pre_save
from django.test import AsyncClient
from django.utils import timezone
from rest_framework_simplejwt.tokens import AccessToken

from chats import selectors, services
from chats.engine.replies import ReplyChunk, ReplyDone, ReplyStart, turn_start
from chats.models import Conversation, Message
from chats.streams import sse_stream
from nora.errors import ConflictError
from tests.factories import ConversationFactory, MessageFactory
from tests.streams import auth, message_post, sse_parse, without_keepalives

pytestmark = pytest.mark.django_db(transaction=True)

KEY = "sk-ant-test-key-never-shown"


async def messages_of(conversation_id) -> list[Message]:
    return [m async for m in Message.objects.filter(conversation_id=conversation_id).order_by("created_at", "id")]


async def test_streams_a_reply_and_saves_both_messages(anthropic_model, owner, conversation):
    anthropic_model.reply_script(tokens=["During", " the first", " trimester", "..."])
    response, events = await message_post(
        owner, conversation.id, {"message": "What should I expect in my first trimester?"}
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "text/event-stream"
    assert response["Cache-Control"] == "no-cache"
    assert response["X-Accel-Buffering"] == "no"
    events = without_keepalives(events)
    start, *chunks, done = events
    assert start["type"] == "start" and "title" not in start
    assert [c["content"] for c in chunks] == ["During", " the first", " trimester", "..."]
    assert all(set(c) == {"type", "content"} and c["type"] == "chunk" for c in chunks)
    assert done["type"] == "done" and done["message_id"] == start["message_id"] and done["status"] == "complete"

    user_message, reply = await messages_of(conversation.id)
    assert (user_message.sender, user_message.message, user_message.source) == (
        "user",
        "What should I expect in my first trimester?",
        "text",
    )
    assert str(reply.id) == start["message_id"]
    assert (reply.sender, reply.message, reply.status) == ("ai", "During the first trimester...", "complete")
    assert reply.model == "claude-sonnet-4-6"
    assert reply.input_tokens > 0 and reply.output_tokens == 4


async def test_first_message_gets_a_title_from_the_model(anthropic_model, owner):
    conversation = await sync_to_async(ConversationFactory)(user=owner, title=None)
    anthropic_model.title_script(title="Pregnancy Questions")
    anthropic_model.reply_script(tokens=["Hi"], first_token_delay=0.3)
    _, events = await message_post(owner, conversation.id, {"message": "what should i expect in my first trimester"})
    start, *_, done = without_keepalives(events)
    assert start["title"] == "Pregnancy Questions"
    assert "title" not in done
    await conversation.arefresh_from_db()
    assert conversation.title == "Pregnancy Questions"
    title_request = anthropic_model.title_requests[0]
    assert title_request.body["model"] == "claude-haiku-4-5"


async def test_slow_title_does_not_delay_the_first_chunk(anthropic_model, owner):
    conversation = await sync_to_async(ConversationFactory)(user=owner, title=None)
    anthropic_model.title_script(title="Morning Sickness Help", first_token_delay=0.4)
    anthropic_model.reply_script(tokens=["Ginger", " helps"])
    _, events = await message_post(owner, conversation.id, {"message": "morning sickness is awful any tips"})
    start, first, *_, done = without_keepalives(events)
    assert start["title"] == "Morning sickness is awful any tips"
    assert first == {"type": "chunk", "content": "Ginger"}
    assert done["title"] == "Morning Sickness Help"
    await conversation.arefresh_from_db()
    assert conversation.title == "Morning Sickness Help"


async def test_title_failure_keeps_the_fallback(anthropic_model, owner):
    conversation = await sync_to_async(ConversationFactory)(user=owner, title=None)
    anthropic_model.title_script(status=500)
    anthropic_model.title_script(status=500)
    anthropic_model.title_script(status=500)
    _, events = await message_post(owner, conversation.id, {"message": "Can I eat sushi while pregnant?"})
    start, *_, done = without_keepalives(events)
    assert start["title"] == "Can I eat sushi while pregnant?"
    assert done["status"] == "complete" and "title" not in done
    await conversation.arefresh_from_db()
    assert conversation.title == "Can I eat sushi while pregnant?"


async def test_the_title_is_asked_for_once_the_reply_is_under_way(anthropic_model, owner):
    """Sent together, the title's request and answer took CPU from the reply's first words."""
    conversation = await sync_to_async(ConversationFactory)(user=owner, title=None)
    anthropic_model.title_script(title="Pregnancy Questions")
    anthropic_model.reply_script(tokens=["Hi"], first_token_delay=0.3)
    _, events = await message_post(owner, conversation.id, {"message": "what should i expect in my first trimester"})
    assert without_keepalives(events)[0]["title"] == "Pregnancy Questions"
    asked = [request for request in anthropic_model.requests if not request.is_triage]
    assert [request.is_stream for request in asked] == [True, False]


async def test_a_reply_that_fails_before_it_opens_still_gets_its_title(anthropic_model, owner, settings):
    settings.NORA_LLM_RETRIES = 0
    conversation = await sync_to_async(ConversationFactory)(user=owner, title=None)
    anthropic_model.title_script(title="Sushi in Pregnancy")
    anthropic_model.reply_script(status=400)
    _, events = await message_post(owner, conversation.id, {"message": "Can I eat sushi while pregnant?"})
    assert without_keepalives(events)[-1]["type"] == "error"
    for _ in range(100):
        await conversation.arefresh_from_db()
        if conversation.title == "Sushi in Pregnancy":
            break
        await asyncio.sleep(0.02)
    assert conversation.title == "Sushi in Pregnancy"


async def test_a_rename_during_the_reply_wins_over_the_model_title(anthropic_model, owner):
    conversation = await sync_to_async(ConversationFactory)(user=owner, title=None)
    anthropic_model.title_script(title="Model Title", first_token_delay=0.5)
    anthropic_model.reply_script(tokens=["a", "b", "c"], token_interval=0.1)
    client = AsyncClient()
    task = asyncio.create_task(message_post(owner, conversation.id, {"message": "hello there"}))
    await asyncio.sleep(0.2)
    renamed = await client.patch(
        f"/chats/{conversation.id}/title", {"title": "Mine"}, content_type="application/json", headers=auth(owner)
    )
    assert renamed.status_code == 200
    await task
    await conversation.arefresh_from_db()
    assert conversation.title == "Mine"


async def test_history_personality_and_profile_reach_the_model(anthropic_model, owner, conversation):
    owner.due_date = timezone.localdate() + timedelta(weeks=20)
    await owner.asave()
    await sync_to_async(MessageFactory)(conversation=conversation, sender="user", message="I'm Sam")
    await sync_to_async(MessageFactory)(conversation=conversation, sender="ai", message="Hi Sam!")
    await message_post(owner, conversation.id, {"message": "What now?", "personality": "midwife"})
    request = anthropic_model.reply_requests[-1].body
    assert [
        (m["role"], m["content"] if isinstance(m["content"], str) else m["content"][0]["text"])
        for m in request["messages"]
    ] == [
        ("user", "I'm Sam"),
        ("assistant", "Hi Sam!"),
        ("user", "What now?"),
    ]
    system = request["system"] if isinstance(request["system"], str) else request["system"][0]["text"]
    assert "practical midwife" in system
    assert "about 20 weeks pregnant" in system
    await conversation.arefresh_from_db()
    assert conversation.personality == "midwife"


async def test_history_is_bounded_oldest_dropped_first(anthropic_model, owner, conversation, settings):
    settings.NORA_HISTORY_MAX_CHARS = 50
    for index in range(5):
        await sync_to_async(MessageFactory)(
            conversation=conversation, sender="user", message=f"old question {index} " + "x" * 20
        )
        await sync_to_async(MessageFactory)(conversation=conversation, sender="ai", message=f"old answer {index}")
    await message_post(owner, conversation.id, {"message": "newest"})
    messages = anthropic_model.reply_requests[-1].body["messages"]
    assert messages[-1]["content"] in ("newest", [{"type": "text", "text": "newest"}])
    assert messages[0]["role"] == "user"
    assert len(json.dumps(messages)) < 400


async def test_overload_before_any_text_is_retried_quietly(anthropic_model, owner, conversation):
    anthropic_model.reply_script(status=529)
    anthropic_model.reply_script(error_after=0)
    anthropic_model.reply_script(tokens=["Fine", " now"])
    _, events = await message_post(owner, conversation.id, {"message": "hello"})
    events = without_keepalives(events)
    assert [e["type"] for e in events] == ["start", "chunk", "chunk", "done"]
    assert len(anthropic_model.reply_requests) == 3


async def test_overload_after_text_saves_the_partial_reply_and_ends_with_error(anthropic_model, owner, conversation):
    anthropic_model.reply_script(tokens=["Part", " one", " two"], error_after=2)
    _, events = await message_post(owner, conversation.id, {"message": "hello"})
    events = without_keepalives(events)
    assert [e["type"] for e in events] == ["start", "chunk", "chunk", "error"]
    assert events[-1]["message"] == "Nora's AI service is busy right now. Please try again in a moment."
    _, reply = await messages_of(conversation.id)
    assert (reply.message, reply.status) == ("Part one", "error")


async def test_provider_401_is_a_clear_error_without_secrets(anthropic_model, owner, conversation):
    anthropic_model.reply_script(status=401)
    _, events = await message_post(owner, conversation.id, {"message": "hello"})
    events = without_keepalives(events)
    assert [e["type"] for e in events] == ["start", "error"]
    error = events[-1]
    assert set(error) == {"type", "message"}
    assert KEY not in error["message"] and "x-api-key" not in error["message"]
    assert len(anthropic_model.reply_requests) == 1
    _, reply = await messages_of(conversation.id)
    assert reply.status == "error"


async def test_keep_alive_comments_while_the_model_is_silent(anthropic_model, owner, conversation, settings):
    settings.NORA_SSE_KEEPALIVE_SECONDS = 0.1
    anthropic_model.reply_script(tokens=["late"], first_token_delay=0.5)
    _, events = await message_post(owner, conversation.id, {"message": "hello"})
    assert "keep-alive" in events
    assert without_keepalives(events)[-1]["type"] == "done"


async def test_text_is_saved_while_it_grows(anthropic_model, owner, conversation):
    anthropic_model.reply_script(tokens=["one", " two", " three", " four"], token_interval=0.3)
    task = asyncio.create_task(message_post(owner, conversation.id, {"message": "hello"}))
    await asyncio.sleep(0.75)
    _, reply = await messages_of(conversation.id)
    assert reply.status == "streaming"
    assert reply.message.startswith("one")
    await task
    _, reply = await messages_of(conversation.id)
    assert (reply.message, reply.status) == ("one two three four", "complete")


async def test_the_progress_of_every_live_reply_is_saved_in_one_statement(
    anthropic_model, owner, conversation, monkeypatch
):
    other = await sync_to_async(ConversationFactory)(user=owner, title="Other")
    saves = []
    save = services.replies_progress_save

    def recorded(*, texts):
        saves.append(set(texts))
        save(texts=texts)

    monkeypatch.setattr(services, "replies_progress_save", recorded)
    for _ in range(2):
        anthropic_model.reply_script(tokens=["one", " two", " three"], token_interval=0.3)
    await asyncio.gather(
        message_post(owner, conversation.id, {"message": "hello"}), message_post(owner, other.id, {"message": "hi"})
    )

    replies = {m.id for m in await messages_of(conversation.id) + await messages_of(other.id) if m.sender == "ai"}
    assert replies in saves


def test_a_progress_save_leaves_a_reply_that_has_finished_its_final_text(conversation):
    live = MessageFactory(conversation=conversation, sender=Message.Sender.AI, status=Message.Status.STREAMING)
    finished = MessageFactory(
        conversation=conversation, sender=Message.Sender.AI, status=Message.Status.COMPLETE, message="The final text."
    )

    services.replies_progress_save(texts={live.id: "So far", finished.id: "The final"})

    live.refresh_from_db()
    finished.refresh_from_db()
    assert (live.message, finished.message) == ("So far", "The final text.")


async def test_progress_that_could_not_be_saved_is_saved_at_the_next_interval(
    anthropic_model, owner, conversation, monkeypatch
):
    attempts = []
    save = services.replies_progress_save

    def first_refused(*, texts):
        attempts.append(texts)
        if len(attempts) == 1:
            raise OperationalError("the database went away")
        save(texts=texts)

    monkeypatch.setattr(services, "replies_progress_save", first_refused)
    anthropic_model.reply_script(tokens=["one", " two", " three", " four"], token_interval=0.3)
    task = asyncio.create_task(message_post(owner, conversation.id, {"message": "hello"}))
    await asyncio.sleep(0.75)
    _, reply = await messages_of(conversation.id)
    assert len(attempts) > 1
    assert (reply.status, reply.message[:3]) == ("streaming", "one")
    _, events = await task
    assert without_keepalives(events)[-1]["type"] == "done"


async def test_a_second_message_while_a_reply_is_generated_is_409(anthropic_model, owner, conversation):
    anthropic_model.reply_script(tokens=["slow"], first_token_delay=0.5)
    first = asyncio.create_task(message_post(owner, conversation.id, {"message": "first"}))
    await asyncio.sleep(0.2)
    response, _ = await message_post(owner, conversation.id, {"message": "second"})
    assert response.status_code == 409
    assert response.json() == {"message": "A reply is already being generated", "errors": {}}
    await first
    texts = [m.message for m in await messages_of(conversation.id)]
    assert "second" not in texts


async def test_a_live_reply_older_than_the_history_read_still_blocks_a_turn(owner, conversation, settings):
    """A turn reads the last 200 messages; voice can keep that many user messages after a live reply."""
    settings.NORA_REPLY_STALE_SECONDS = 60
    live = await sync_to_async(MessageFactory)(conversation=conversation, sender="ai", status="streaming")
    await Message.objects.filter(id=live.id).aupdate(created_at=timezone.now() - timedelta(hours=1))
    await sync_to_async(MessageFactory.create_batch)(selectors.HISTORY_MESSAGES, conversation=conversation)
    response, _ = await message_post(owner, conversation.id, {"message": "are you still there?"})
    assert response.status_code == 409
    assert await Message.objects.filter(conversation=conversation).acount() == selectors.HISTORY_MESSAGES + 1


def reply_started_after_the_context_is_read(monkeypatch, conversation) -> None:
    """Another turn's reply begins streaming between a turn's read of its context and its writes."""
    read = selectors.prompt_context_read

    def read_then_another_reply_starts(**kwargs):
        context = read(**kwargs)
        MessageFactory(conversation=conversation, sender="ai", status="streaming")
        return context

    monkeypatch.setattr(selectors, "prompt_context_read", read_then_another_reply_starts)


async def test_a_reply_started_after_the_context_was_read_still_blocks_the_turn(
    anthropic_model, owner, conversation, monkeypatch, settings
):
    settings.NORA_REPLY_STALE_SECONDS = 60
    reply_started_after_the_context_is_read(monkeypatch, conversation)
    response, _ = await message_post(owner, conversation.id, {"message": "second"})
    assert response.status_code == 409
    assert response.json() == {"message": "A reply is already being generated", "errors": {}}
    assert [m.sender for m in await messages_of(conversation.id)] == ["ai"]


async def test_spoken_words_are_kept_when_a_reply_started_after_the_context_was_read(
    owner, conversation, monkeypatch, settings
):
    settings.NORA_REPLY_STALE_SECONDS = 60
    reply_started_after_the_context_is_read(monkeypatch, conversation)
    with pytest.raises(ConflictError):
        await turn_start(
            user_id=owner.id,
            conversation_id=conversation.id,
            text="are you there",
            source=Message.Source.VOICE,
            keep_user_message_on_conflict=True,
        )
    said = await Message.objects.filter(conversation=conversation, sender="user").aget()
    assert (said.message, said.source) == ("are you there", Message.Source.VOICE)


@pytest.fixture
def reply_insert(monkeypatch) -> list:
    """Hooks run on the database's thread just before the turn's streaming reply is inserted."""
    hooks: list = []

    def before_insert(sender, instance, raw, **kwargs):
        if instance._state.adding and instance.sender == Message.Sender.AI and instance.status == "streaming":
            for hook in hooks:
                hook()

    pre_save.connect(before_insert, sender=Message, weak=False)
    yield hooks
    pre_save.disconnect(before_insert, sender=Message)


async def test_a_second_message_while_a_reply_is_generated_never_reaches_the_model(
    anthropic_model, owner, conversation, reply_insert, settings
):
    settings.NORA_REPLY_STALE_SECONDS = 60
    # A first reply in another conversation builds the SDK's client, so a request would leave at once.
    await message_post(owner, (await sync_to_async(ConversationFactory)(user=owner)).id, {"message": "first"})
    anthropic_model.requests.clear()
    await sync_to_async(MessageFactory)(conversation=conversation, sender="ai", status="streaming")
    reply_insert.append(lambda: anthropic_model.reply_request_wait(timeout=1))
    response, _ = await message_post(owner, conversation.id, {"message": "second"})
    assert response.status_code == 409
    assert anthropic_model.reply_requests == []


async def test_the_model_is_asked_while_the_turn_is_being_saved(anthropic_model, owner, conversation, reply_insert):
    """The request leaves once the history is read, not after the turn's writes and commit."""
    asked_before_the_reply_was_written = []
    reply_insert.append(
        lambda: asked_before_the_reply_was_written.append(anthropic_model.reply_request_wait(timeout=2))
    )
    anthropic_model.reply_script(tokens=["Rest", " helps"])
    _, events = await message_post(owner, conversation.id, {"message": "so tired"})
    assert asked_before_the_reply_was_written == [True]
    assert [e["content"] for e in without_keepalives(events) if e["type"] == "chunk"] == ["Rest", " helps"]
    [request] = anthropic_model.reply_requests
    assert request.body["messages"][-1] == {"role": "user", "content": "so tired"}


async def test_a_turn_not_asked_while_saving_is_asked_once_saved(anthropic_model, owner, conversation, monkeypatch):
    """A reply that looked live when the history was read, and ended before the insert."""
    monkeypatch.setattr(selectors.PromptContext, "reply_live", property(lambda context: True))
    anthropic_model.reply_script(tokens=["Rest", " helps"])
    _, events = await message_post(owner, conversation.id, {"message": "so tired"})
    assert [e["content"] for e in without_keepalives(events) if e["type"] == "chunk"] == ["Rest", " helps"]
    [request] = anthropic_model.reply_requests
    assert request.body["messages"][-1] == {"role": "user", "content": "so tired"}


async def test_a_turn_that_cannot_be_saved_shows_nothing_of_the_reply(
    anthropic_model, owner, conversation, reply_insert
):
    def insert_refused():
        anthropic_model.reply_request_wait(timeout=2)
        raise OperationalError("disk full")

    reply_insert.append(insert_refused)
    response, _ = await message_post(owner, conversation.id, {"message": "so tired"})
    assert response.status_code == 503
    assert len(anthropic_model.reply_requests) == 1
    assert await Message.objects.filter(conversation=conversation).acount() == 0


async def test_stop_ends_the_stream_and_keeps_the_partial_text(anthropic_model, owner, conversation):
    anthropic_model.reply_script(tokens=[f" word{i}" for i in range(50)], token_interval=0.05)
    task = asyncio.create_task(message_post(owner, conversation.id, {"message": "tell me a long story"}))
    await asyncio.sleep(0.4)
    stop = await AsyncClient().post(f"/chats/{conversation.id}/stop", headers=auth(owner))
    assert stop.status_code == 200
    assert stop.json() == {"message": "Stopping the reply", "data": {"stopping": True}}
    _, events = await task
    done = without_keepalives(events)[-1]
    assert done["type"] == "done" and done["status"] == "stopped"
    _, reply = await messages_of(conversation.id)
    assert reply.status == "stopped"
    assert 0 < len(reply.message.split()) < 50
    streamed = "".join(e["content"] for e in without_keepalives(events) if e["type"] == "chunk")
    assert reply.message == streamed


async def test_stop_with_nothing_to_stop_is_200(owner, conversation):
    response = await AsyncClient().post(f"/chats/{conversation.id}/stop/", headers=auth(owner))
    assert response.status_code == 200
    assert response.json()["data"] == {"stopping": False}


async def test_a_reply_left_streaming_by_a_dead_process_does_not_block(anthropic_model, owner, conversation, settings):
    stale = await sync_to_async(MessageFactory)(
        conversation=conversation, sender="ai", status="streaming", message="half"
    )
    await Message.objects.filter(id=stale.id).aupdate(
        updated_at=timezone.now() - timedelta(seconds=settings.NORA_REPLY_STALE_SECONDS + 1)
    )
    response, events = await message_post(owner, conversation.id, {"message": "are you there?"})
    assert response.status_code == 200
    await stale.arefresh_from_db()
    assert (stale.status, stale.message) == ("incomplete", "half")


async def test_reading_a_conversation_recovers_a_dead_reply(owner, conversation, settings):
    stale = await sync_to_async(MessageFactory)(conversation=conversation, sender="ai", status="streaming")
    await Message.objects.filter(id=stale.id).aupdate(
        updated_at=timezone.now() - timedelta(seconds=settings.NORA_REPLY_STALE_SECONDS + 1)
    )
    response = await AsyncClient().get(f"/chats/{conversation.id}", headers=auth(owner))
    assert response.json()["data"]["messages"][0]["status"] == "incomplete"
    await stale.arefresh_from_db()
    assert stale.status == "incomplete"


async def test_a_dead_reply_on_a_page_not_read_is_left_to_the_next_turn(owner, conversation, settings):
    stale = await sync_to_async(MessageFactory)(conversation=conversation, sender="ai", status="streaming")
    await Message.objects.filter(id=stale.id).aupdate(
        updated_at=timezone.now() - timedelta(seconds=settings.NORA_REPLY_STALE_SECONDS + 1)
    )
    await sync_to_async(MessageFactory.create_batch)(3, conversation=conversation)
    response = await AsyncClient().get(f"/chats/{conversation.id}?page=2&per_page=2", headers=auth(owner))
    assert [m["status"] for m in response.json()["data"]["messages"]] == ["complete", "complete"]
    await stale.arefresh_from_db()
    assert stale.status == "streaming"


async def test_offline_provider_streams_word_by_word(owner, conversation):
    _, events = await message_post(owner, conversation.id, {"message": "what can I eat for nausea?"})
    events = without_keepalives(events)
    chunks = [e["content"] for e in events if e["type"] == "chunk"]
    assert len(chunks) > 10
    assert "offline" in "".join(chunks).lower()
    assert events[-1]["status"] == "complete"
    _, reply = await messages_of(conversation.id)
    assert reply.model == "offline" and reply.message == "".join(chunks)


@pytest.mark.parametrize(
    "body, field",
    [
        ({"message": ""}, "message"),
        ({"message": "   "}, "message"),
        ({}, "message"),
        ({"message": "x" * 8001}, "message"),
        ({"message": "hi", "personality": "pirate"}, "personality"),
        ({"message": ["a", "list"]}, "message"),
    ],
)
async def test_bad_input_is_400_before_streaming(owner, conversation, body, field):
    response, _ = await message_post(owner, conversation.id, body)
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert await Message.objects.filter(conversation=conversation).acount() == 0


async def test_message_of_exactly_8000_characters_is_accepted(owner, conversation):
    response, _ = await message_post(owner, conversation.id, {"message": "x" * 8000})
    assert response.status_code == 200


async def test_malformed_json_is_400(owner, conversation):
    response, _ = await message_post(owner, conversation.id, "{not json")
    assert response.status_code == 400
    assert response.json() == {"message": "The request body must be valid JSON.", "errors": {}}


async def test_someone_elses_or_unknown_conversation_is_404(owner):
    theirs = await sync_to_async(ConversationFactory)()
    response, _ = await message_post(owner, theirs.id, {"message": "hi"})
    assert response.status_code == 404
    assert response.json() == {"message": "Conversation not found.", "errors": {}}
    assert await Message.objects.filter(conversation=theirs).acount() == 0
    response, _ = await message_post(owner, "not-a-uuid", "{}")
    assert response.status_code == 404


async def test_no_or_bad_token_is_401(conversation):
    response, _ = await message_post(None, conversation.id, {"message": "hi"})
    assert response.status_code == 401
    response, _ = await message_post(None, conversation.id, {"message": "hi"}, token="nope")
    assert response.status_code == 401
    assert set(response.json()) == {"message", "errors"}


@pytest.mark.parametrize("gone", ["deactivated", "deleted"])
async def test_a_valid_token_of_a_user_since_gone_is_401(owner, conversation, gone):
    """The token is checked without the database; the user is read with the turn, and must still be there."""
    token = str(AccessToken.for_user(owner))
    if gone == "deactivated":
        await type(owner).objects.filter(id=owner.id).aupdate(is_active=False)
    else:
        await type(owner).objects.filter(id=owner.id).adelete()
    response, _ = await message_post(owner, conversation.id, {"message": "hi"}, token=token)
    assert response.status_code == 401
    assert response.json() == {"message": "Authentication credentials were not provided or are invalid.", "errors": {}}
    assert await Message.objects.acount() == 0


async def test_get_is_405(owner, conversation):
    response = await AsyncClient().get(f"/chats/{conversation.id}/message", headers=auth(owner))
    assert response.status_code == 405
    assert response.json()["message"] == "Method not allowed: send a POST."


async def test_conversation_moves_to_the_top_of_the_list(anthropic_model, owner):
    older = await sync_to_async(ConversationFactory)(user=owner)
    await sync_to_async(ConversationFactory)(user=owner)
    await message_post(owner, older.id, {"message": "hi"})
    first = await Conversation.objects.filter(user=owner).order_by("-last_activity_at").afirst()
    assert first.id == older.id


async def test_events_already_waiting_go_out_in_one_write():
    """Under load a stream falls behind its reply; what queued meanwhile is sent together."""

    class QueuedTurn:
        def __init__(self, events):
            self.events = asyncio.Queue()
            for event in events:
                self.events.put_nowait(event)

        async def next_event(self):
            return await self.events.get()

        def event_ready(self):
            return None if self.events.empty() else self.events.get_nowait()

    message_id = uuid.uuid4()
    turn = QueuedTurn(
        [
            ReplyStart(message_id=message_id, title=None),
            ReplyChunk(text="Rest"),
            ReplyChunk(text=" helps"),
            ReplyDone(message_id=message_id, status="complete", text="Rest helps", disclaimer=None, title=None),
        ]
    )
    writes = [write async for write in sse_stream(turn)]
    assert len(writes) == 1
    assert [e["type"] for e in sse_parse(writes[0])] == ["start", "chunk", "chunk", "done"]
