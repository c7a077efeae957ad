"""Stop requests: how `/stop`, served by any server process, reaches the one generating the reply.

Each process listens on one channel of the channel layer, a member of one stop group that
every process joins. `/stop` sends to that group, naming the conversation, and the process
generating that conversation's reply ends it; the others have nothing of it and ignore it.

One group for all, not a group per conversation: joining and leaving a conversation's group
cost every reply three round trips to Redis, two of them before the model was asked, and
stops are rare enough that every process hearing each one costs less.

One receive per process, not one per reply: a receive is cancelled when its reply ends,
and redis-py drops a connection whose command was cancelled, so a receive per reply cost a
new Redis connection, channels_redis's clean-up script and a blocking pop for every reply.
The receive stays waiting on the server's event loop, its one loop (channels_redis lets one
loop at a time receive on a layer).
"""

import asyncio
import contextvars
import functools
import logging
import time

from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings

from chats import selectors, services
from chats.models import Conversation
from nora.event_loops import PerEventLoop

logger = logging.getLogger(__name__)

STOP = "reply.stop"
STOP_GROUP = "reply-stop"
# Channels forgets a group's members this long after they joined, unless the layer's
# `group_expiry` says otherwise; a process joins again before half of it has passed.
GROUP_EXPIRY_DEFAULT_SECONDS = 86400


async def reply_stop(*, conversation: Conversation) -> bool:
    """Ask whichever server process generates this conversation's reply to stop it.

    False when there is nothing to stop (a reply whose process died is marked incomplete first).
    """
    await database_sync_to_async(services.replies_recover_stale)(conversation_id=conversation.id)
    if not await database_sync_to_async(selectors.reply_in_progress)(conversation=conversation):
        return False
    await get_channel_layer().group_send(STOP_GROUP, {"type": STOP, "conversation": str(conversation.id)})
    return True


class StopSubscription:
    """One reply's interest in stop requests for its conversation; `requested` is set when one comes."""

    def __init__(self, *, listener: "StopListener", conversation: str) -> None:
        self.conversation = conversation
        self.requested = asyncio.Event()
        self._listener = listener

    def close(self) -> None:
        self._listener.unsubscribe(self)


class StopListener:
    """This process's channel for stop requests, and the replies waiting on it."""

    def __init__(self, *, layer) -> None:
        self.layer = layer
        self._channel: str | None = None
        self._joined_at: float | None = None
        self._rejoin_after = min(
            settings.NORA_STOP_GROUP_REJOIN_SECONDS, getattr(layer, "group_expiry", GROUP_EXPIRY_DEFAULT_SECONDS) / 2
        )
        self._subscriptions: dict[str, set[StopSubscription]] = {}
        self._receiving: asyncio.Task | None = None

    async def subscribe(self, *, conversation_id) -> StopSubscription | None:
        """Wait for stop requests for the conversation; None when the channel layer is unavailable.

        Subscribed before the reply exists, so a stop sent the moment it appears is not missed.
        """
        subscription = StopSubscription(listener=self, conversation=str(conversation_id))
        self._subscriptions.setdefault(subscription.conversation, set()).add(subscription)
        try:
            await self._join()
        except Exception as error:
            # Without the channel layer a reply still completes; only /stop cannot reach it.
            logger.warning("Stop requests cannot reach this reply: %s", type(error).__name__)
            self.unsubscribe(subscription)
            return None
        if self._receiving is None or self._receiving.done():
            # An empty context: the listener outlives the request that happened to start it,
            # and must not log under that request's id.
            self._receiving = asyncio.create_task(self._receive(), context=contextvars.Context())
        return subscription

    async def _join(self, *, again: bool = False) -> None:
        """Make this process's channel a member of the stop group, unless it recently was."""
        now = time.monotonic()
        if not again and self._joined_at is not None and now - self._joined_at < self._rejoin_after:
            return
        if self._channel is None:
            channel = await self.layer.new_channel()
            self._channel = self._channel or channel
        await self.layer.group_add(STOP_GROUP, self._channel)
        self._joined_at = now

    def unsubscribe(self, subscription: StopSubscription) -> None:
        subscriptions = self._subscriptions.get(subscription.conversation, set())
        subscriptions.discard(subscription)
        if not subscriptions:
            self._subscriptions.pop(subscription.conversation, None)

    async def _receive(self) -> None:
        failing = False
        while True:
            try:
                if failing:
                    # A restarted Redis keeps nothing, the stop group included.
                    await self._join(again=True)
                message = await self.layer.receive(self._channel)
            except Exception as error:
                if not failing:
                    logger.warning("Stop requests cannot reach this process: %s", type(error).__name__)
                failing = True
                await asyncio.sleep(settings.NORA_STOP_LISTENER_RETRY_SECONDS)
                continue
            failing = False
            if message.get("type") == STOP:
                for subscription in self._subscriptions.get(message.get("conversation"), ()):
                    subscription.requested.set()

    def close(self) -> None:
        if self._receiving is not None:
            self._receiving.cancel()


_listeners: PerEventLoop[StopListener] = PerEventLoop()


def stop_listener() -> StopListener:
    """The running event loop's listener on the current channel layer."""
    layer = get_channel_layer()
    listener_make = functools.partial(StopListener, layer=layer)
    listener = _listeners.get(listener_make)
    if listener.layer is not layer:
        # The channel layer was replaced (its settings changed): listen on the new one.
        listener.close()
        _listeners.pop()
        listener = _listeners.get(listener_make)
    return listener
