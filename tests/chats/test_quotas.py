"""Per-user limits on model calls, shared by text and voice."""

import asyncio
import contextvars

import pytest
import redis
from asgiref.sync import sync_to_async
from django.core.cache import caches

from chats import quotas
from chats.models import Message
from nora.errors import TooManyRequestsError
from nora.ratelimit import window_count
from tests.factories import ConversationFactory, UserFactory
from tests.streams import message_post

pytestmark = pytest.mark.django_db(transaction=True)


async def send(user, conversation_id, text="hello"):
    response, _ = await message_post(user, conversation_id, {"message": text})
    return response


async def conversations(owner, count):
    return [await sync_to_async(ConversationFactory)(user=owner) for _ in range(count)]


async def test_messages_per_minute(owner, settings):
    settings.NORA_RATE_MESSAGES_PER_MINUTE = 2
    chats = await conversations(owner, 3)
    assert (await send(owner, chats[0].id)).status_code == 200
    assert (await send(owner, chats[1].id)).status_code == 200
    response = await send(owner, chats[2].id)
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 60
    assert response.json()["message"] == "You are sending messages too quickly. Please wait a moment and try again."
    assert not await Message.objects.filter(conversation=chats[2]).aexists()


async def test_messages_per_day(owner, settings):
    settings.NORA_QUOTA_MESSAGES_PER_DAY = 1
    chats = await conversations(owner, 2)
    assert (await send(owner, chats[0].id)).status_code == 200
    response = await send(owner, chats[1].id)
    assert response.status_code == 429
    assert "today's message limit" in response.json()["message"]


async def test_tokens_per_day(owner, settings):
    settings.NORA_QUOTA_TOKENS_PER_DAY = 10
    chats = await conversations(owner, 2)
    assert (await send(owner, chats[0].id)).status_code == 200
    response = await send(owner, chats[1].id)
    assert response.status_code == 429
    assert "allowance" in response.json()["message"]


async def test_limits_are_per_user(owner, settings):
    settings.NORA_RATE_MESSAGES_PER_MINUTE = 1
    other = await sync_to_async(UserFactory)()
    mine, theirs = (await conversations(owner, 1))[0], (await conversations(other, 1))[0]
    assert (await send(owner, mine.id)).status_code == 200
    assert (await send(other, theirs.id)).status_code == 200


async def test_a_refused_turn_does_not_use_the_quota(owner, settings):
    settings.NORA_RATE_MESSAGES_PER_MINUTE = 1
    chat = (await conversations(owner, 1))[0]
    assert (await send(owner, "00000000-0000-0000-0000-000000000000")).status_code == 404
    assert (await send(owner, chat.id)).status_code == 200


async def test_an_emergency_over_the_limit_still_gets_the_notice(owner, settings):
    settings.NORA_RATE_MESSAGES_PER_MINUTE = 1
    settings.NORA_EMERGENCY_NUMBER = "911"
    chats = await conversations(owner, 2)
    await send(owner, chats[0].id)
    response = await send(owner, chats[1].id, "im 30 weeks and bleeding a lot")
    assert response.status_code == 200
    reply = await Message.objects.filter(conversation=chats[1], sender="ai").afirst()
    assert "911" in reply.message and reply.model == ""


async def test_an_emergency_over_the_limit_in_a_new_conversation_is_answered_at_once(owner, settings):
    """With no reply from the model, the title has nothing to wait for."""
    settings.NORA_RATE_MESSAGES_PER_MINUTE = 1
    settings.NORA_TITLE_WAIT_SECONDS = 30
    chats = await conversations(owner, 1)
    untitled = await sync_to_async(ConversationFactory)(user=owner, title=None)
    await send(owner, chats[0].id)
    response = await asyncio.wait_for(send(owner, untitled.id, "im 30 weeks and bleeding a lot"), 5)
    assert response.status_code == 200
    await untitled.arefresh_from_db()
    assert untitled.title == "Warning Signs to Know"


@pytest.fixture(params=["redis", "other cache"])
def counters(request, settings):
    """The quotas run as one Redis script; on any other cache, as the same steps in a thread."""
    if request.param == "other cache":
        settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    return request.param


async def reserved(user_id) -> bool:
    try:
        await quotas.model_call_reserve(user_id=user_id)
    except TooManyRequestsError:
        return False
    return True


async def test_the_limit_holds_under_concurrent_requests(counters, settings, user):
    """Twenty reservations at once: exactly the limit gets through."""
    settings.NORA_RATE_MESSAGES_PER_MINUTE = 5
    results = await asyncio.gather(*(reserved(user.id) for _ in range(20)))
    assert results.count(True) == 5


async def test_a_refusal_counts_nothing(counters, settings, user):
    """Refused by the daily limit: the minute's hit is given back, so the next minute is not used up."""
    settings.NORA_RATE_MESSAGES_PER_MINUTE = 2
    settings.NORA_QUOTA_MESSAGES_PER_DAY = 1
    per_minute, per_day, _ = quotas._windows()
    assert await reserved(user.id)
    assert not await reserved(user.id)
    assert await sync_to_async(window_count)(window=per_minute, subject=str(user.id)) == 1
    assert await sync_to_async(window_count)(window=per_day, subject=str(user.id)) == 1


async def test_tokens_over_the_allowance_refuse_the_next_message(counters, settings, user):
    settings.NORA_QUOTA_TOKENS_PER_DAY = 100
    await quotas.tokens_charge(user_id=user.id, tokens=99)
    assert await reserved(user.id)
    await quotas.tokens_charge(user_id=user.id, tokens=1)
    with pytest.raises(TooManyRequestsError) as refusal:
        await quotas.model_call_reserve(user_id=user.id)
    assert refusal.value.message == "You have used today's allowance. It resets at midnight UTC."
    assert 0 < refusal.value.retry_after <= quotas.DAY
    per_minute, _, _ = quotas._windows()
    assert await sync_to_async(window_count)(window=per_minute, subject=str(user.id)) == 1


async def test_a_refund_gives_the_message_back(counters, settings, user):
    settings.NORA_RATE_MESSAGES_PER_MINUTE = 1
    assert await reserved(user.id)
    await quotas.model_call_refund(user_id=user.id)
    assert await reserved(user.id)
    assert not await reserved(user.id)


async def test_counters_expire_with_their_window(settings, user):
    """Each window's counter lives as long as its window, so Redis does not fill with old ones."""
    await quotas.model_call_reserve(user_id=user.id)
    await quotas.tokens_charge(user_id=user.id, tokens=50)
    client = redis.Redis.from_url(settings.REDIS_URL)
    try:
        ttls = {key.decode().split(":")[3]: client.ttl(key) for key in client.scan_iter("*ratelimit*")}
    finally:
        client.close()
    assert set(ttls) == {"messages-minute", "messages-day", "tokens-day"}
    assert 0 < ttls["messages-minute"] <= 61
    assert 60 < ttls["messages-day"] <= quotas.DAY + 1
    assert 60 < ttls["tokens-day"] <= quotas.DAY + 1


async def test_reserving_builds_no_cache_backend_per_request(user, monkeypatch):
    """Under ASGI every request and every reply runs in a context of its own, and `cache` is a
    backend per context: naming the script's keys must not build one each time."""
    await quotas.model_call_reserve(user_id=user.id)
    built = []
    create_connection = caches.create_connection
    monkeypatch.setattr(caches, "create_connection", lambda alias: built.append(alias) or create_connection(alias))
    for _ in range(3):
        await asyncio.create_task(quotas.model_call_reserve(user_id=user.id), context=contextvars.Context())
        await asyncio.create_task(quotas.tokens_charge(user_id=user.id, tokens=5), context=contextvars.Context())
    assert built == []


async def test_the_scripts_keys_follow_a_changed_key_prefix(settings, user):
    """The script names its keys as `cache` does, also after the cache's settings change."""
    await quotas.model_call_reserve(user_id=user.id)
    settings.CACHES = {"default": {**settings.CACHES["default"], "KEY_PREFIX": "elsewhere"}}
    await quotas.model_call_reserve(user_id=user.id)
    per_minute, _, _ = quotas._windows()
    assert await sync_to_async(window_count)(window=per_minute, subject=str(user.id)) == 1


async def test_concurrent_sends_cannot_pass_the_limit_together(owner, settings):
    settings.NORA_RATE_MESSAGES_PER_MINUTE = 3
    chats = await conversations(owner, 8)
    responses = await asyncio.gather(*(send(owner, chat.id) for chat in chats))
    assert sorted(r.status_code for r in responses) == [200] * 3 + [429] * 5
