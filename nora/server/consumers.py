"""Socket frames handed to the consumer without Channels' database clean-up before each one.

Channels' `AsyncConsumer.dispatch` closes the thread's stale database connections (a hop to
the database thread and back) before every message it handles, so that a handler that uses
the ORM directly never meets a dead connection. Audio arrives as many frames a second on
every voice socket, and Nora's handlers reach the database only through
`database_sync_to_async`, which does the same clean-up around each call that needs it. Frames
(`websocket.receive`) go straight to the consumer's handler; connect, disconnect and
channel-layer messages keep Channels' path.
"""

from django.conf import settings


class FramesWithoutConnectionCleanup:
    """A mixin for an AsyncConsumer whose handlers touch the database only through database_sync_to_async."""

    async def dispatch(self, message) -> None:
        if settings.NORA_SERVER_FRAMES_WITHOUT_CLEANUP and message["type"] == "websocket.receive":
            await self.websocket_receive(message)
            return
        await super().dispatch(message)
