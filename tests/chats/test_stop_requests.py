"""POST /chats/{id}/stop reaches the reply it names, through one listener per server process."""

import asyncio

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.test import AsyncClient

from tests.chats.test_stream import messages_of
from tests.factories import ConversationFactory
from tests.streams import auth, message_post, without_keepalives

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _replies_stay_live(settings):
    """The first reply of a test run imports the SDK, which on a slow machine outlasts the
    tests' short staleness window; a reply taken for dead would have nothing to stop."""
    settings.NORA_REPLY_STALE_SECONDS = 60


async def stop(user, conversation_id):
    response = await AsyncClient().post(f"/chats/{conversation_id}/stop", headers=auth(user))
    assert response.status_code == 200
    return response.json()["data"]["stopping"]


async def reply_streaming(conversation_id) -> None:
    """Wait until the conversation's reply row exists, so a stop has something to end."""
    for _ in range(200):
        if len(await messages_of(conversation_id)) == 2:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the reply never started")


async def long_reply_stopped(anthropic_model, owner, conversation_id) -> str:
    """Stop a long reply once it streams; the status it ended with."""
    anthropic_model.reply_script(tokens=[f" w{i}" for i in range(40)], token_interval=0.05)
    streaming = asyncio.create_task(message_post(owner, conversation_id, {"message": "tell me a long story"}))
    await reply_streaming(conversation_id)
    assert await stop(owner, conversation_id) is True
    return without_keepalives((await streaming)[1])[-1]["status"]


async def test_a_stop_ends_only_the_reply_of_the_conversation_it_names(anthropic_model, owner):
    stopped, running = [await sync_to_async(ConversationFactory)(user=owner) for _ in range(2)]
    for _ in range(2):
        anthropic_model.reply_script(tokens=[f" w{i}" for i in range(40)], token_interval=0.05)
    stopped_task = asyncio.create_task(message_post(owner, stopped.id, {"message": "tell me a story"}))
    running_task = asyncio.create_task(message_post(owner, running.id, {"message": "tell me another"}))
    await reply_streaming(stopped.id)
    await reply_streaming(running.id)

    assert await stop(owner, stopped.id) is True

    stopped_events = without_keepalives((await stopped_task)[1])
    running_events = without_keepalives((await running_task)[1])
    assert stopped_events[-1]["status"] == "stopped"
    assert running_events[-1]["status"] == "complete"
    assert [e["content"] for e in running_events if e["type"] == "chunk"] == [f" w{i}" for i in range(40)]


async def test_a_turn_refused_while_a_reply_streams_leaves_that_reply_stoppable(anthropic_model, owner, conversation):
    anthropic_model.reply_script(tokens=[f" w{i}" for i in range(40)], token_interval=0.05)
    streaming = asyncio.create_task(message_post(owner, conversation.id, {"message": "tell me a long story"}))
    await reply_streaming(conversation.id)

    refused, _ = await message_post(owner, conversation.id, {"message": "and another thing"})
    assert refused.status_code == 409
    assert await stop(owner, conversation.id) is True

    events = without_keepalives((await streaming)[1])
    assert events[-1]["status"] == "stopped"


async def test_replies_in_one_process_share_one_receive_on_the_channel_layer(anthropic_model, owner, monkeypatch):
    """A receive cancelled at each reply's end cost a new Redis connection per reply."""
    layer = get_channel_layer()
    receives = []
    receive = layer.receive

    async def receive_counted(channel):
        receives.append(channel)
        return await receive(channel)

    monkeypatch.setattr(layer, "receive", receive_counted)
    for _ in range(4):
        conversation = await sync_to_async(ConversationFactory)(user=owner)
        response, events = await message_post(owner, conversation.id, {"message": "hello"})
        assert without_keepalives(events)[-1]["status"] == "complete"

    assert len(receives) == 1


async def test_stops_reach_replies_again_after_the_channel_layer_failed(
    anthropic_model, owner, conversation, monkeypatch
):
    layer = get_channel_layer()
    receive = layer.receive
    failures = []

    async def receive_failing_once(channel):
        if not failures:
            failures.append(channel)
            # As a restarted Redis would: the connection fails, and the groups are gone.
            await layer.group_discard("reply-stop", channel)
            raise ConnectionError("the channel layer went away")
        return await receive(channel)

    monkeypatch.setattr(layer, "receive", receive_failing_once)
    anthropic_model.reply_script(tokens=[f" w{i}" for i in range(40)], token_interval=0.05)
    streaming = asyncio.create_task(message_post(owner, conversation.id, {"message": "tell me a long story"}))
    await reply_streaming(conversation.id)
    await asyncio.sleep(0.2)

    assert await stop(owner, conversation.id) is True
    assert failures
    assert without_keepalives((await streaming)[1])[-1]["status"] == "stopped"


async def test_replies_after_the_first_leave_the_stop_group_alone(anthropic_model, owner, monkeypatch):
    """Joining and leaving a group per reply cost three round trips to Redis, two before the model was asked."""
    layer = get_channel_layer()
    memberships = []
    group_add, group_discard = layer.group_add, layer.group_discard

    async def group_add_counted(group, channel):
        memberships.append(("add", group))
        await group_add(group, channel)

    async def group_discard_counted(group, channel):
        memberships.append(("discard", group))
        await group_discard(group, channel)

    monkeypatch.setattr(layer, "group_add", group_add_counted)
    monkeypatch.setattr(layer, "group_discard", group_discard_counted)
    for _ in range(3):
        conversation = await sync_to_async(ConversationFactory)(user=owner)
        _, events = await message_post(owner, conversation.id, {"message": "hello"})
        assert without_keepalives(events)[-1]["status"] == "complete"

    assert memberships == [("add", "reply-stop")]


async def test_stops_still_arrive_after_channels_would_have_forgotten_the_process(anthropic_model, owner, settings):
    layer_settings = settings.CHANNEL_LAYERS["default"]
    settings.CHANNEL_LAYERS = {
        "default": {**layer_settings, "CONFIG": {**layer_settings.get("CONFIG", {}), "group_expiry": 1}}
    }
    first, second = [await sync_to_async(ConversationFactory)(user=owner) for _ in range(2)]
    _, events = await message_post(owner, first.id, {"message": "hello"})
    assert without_keepalives(events)[-1]["status"] == "complete"
    await asyncio.sleep(1.1)

    assert await long_reply_stopped(anthropic_model, owner, second.id) == "stopped"


async def test_stops_arrive_again_soon_after_redis_lost_the_stop_group(anthropic_model, owner, settings, monkeypatch):
    settings.NORA_STOP_GROUP_REJOIN_SECONDS = 0.5
    layer = get_channel_layer()
    channels = []
    group_add = layer.group_add

    async def group_add_seen(group, channel):
        channels.append(channel)
        await group_add(group, channel)

    monkeypatch.setattr(layer, "group_add", group_add_seen)
    first, second = [await sync_to_async(ConversationFactory)(user=owner) for _ in range(2)]
    _, events = await message_post(owner, first.id, {"message": "hello"})
    assert without_keepalives(events)[-1]["status"] == "complete"
    # Flushed, or a failover to a replica that never had it: the connections live on.
    await layer.group_discard("reply-stop", channels[0])
    await asyncio.sleep(0.6)

    assert await long_reply_stopped(anthropic_model, owner, second.id) == "stopped"
