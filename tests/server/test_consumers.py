"""Voice frames reach the consumer without Channels' per-message database clean-up (nora/server/consumers.py)."""

import inspect

import channels.consumer
import pytest
from channels.consumer import AsyncConsumer, get_handler_name

from tests.sockets import socket_connected

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def cleanups(monkeypatch) -> list[str]:
    """The type of every message before which Channels closed stale database connections."""
    seen: list[str] = []
    original = AsyncConsumer.dispatch

    async def recorded(self, message):
        seen.append(message["type"])
        await original(self, message)

    async def closed():
        pass

    # Channels' dispatch runs the clean-up and then the handler; counting the messages that
    # reach Channels' dispatch counts the clean-ups.
    monkeypatch.setattr(AsyncConsumer, "dispatch", recorded)
    monkeypatch.setattr(channels.consumer, "aclose_old_connections", closed)
    return seen


async def pings(owner, count: int) -> None:
    communicator, _ = await socket_connected(owner)
    for number in range(count):
        await communicator.send_json_to({"type": "ping", "timestamp": str(number)})
        assert (await communicator.receive_json_from())["type"] == "pong"
    await communicator.disconnect()


async def test_frames_skip_the_clean_up_when_the_setting_is_on(owner, settings, cleanups):
    settings.NORA_SERVER_FRAMES_WITHOUT_CLEANUP = True
    await pings(owner, 3)
    assert "websocket.connect" in cleanups
    assert "websocket.receive" not in cleanups


async def test_frames_take_channels_path_when_the_setting_is_off(owner, settings, cleanups):
    settings.NORA_SERVER_FRAMES_WITHOUT_CLEANUP = False
    await pings(owner, 3)
    assert cleanups.count("websocket.receive") == 3


def test_channels_still_cleans_up_before_every_message_and_names_the_frame_handler():
    """What the mixin skips and what it calls in its place, read from the installed Channels."""
    source = inspect.getsource(AsyncConsumer.dispatch)
    assert "aclose_old_connections()" in source
    assert "get_handler_name(message)" in source
    assert get_handler_name({"type": "websocket.receive"}) == "websocket_receive"
