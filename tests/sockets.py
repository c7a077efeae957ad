"""Opening and driving the voice socket: the one way tests do it.

`socket_open` and `socket_connected` go through Nora's ASGI application in the test process;
`socket_url` names the socket on a running server for a websockets client. `send`, `receive`,
`speak` and the rest drive either.
"""

import asyncio
import base64
import json

from channels.testing import WebsocketCommunicator
from rest_framework_simplejwt.tokens import AccessToken

from nora.asgi import application

LINEAR16 = "encoding=linear16&sample_rate=16000"


def socket_communicator(
    user=None, session_id="new", *, token: str | None = None, query: str = LINEAR16, headers=None
) -> WebsocketCommunicator:
    """A communicator for /chats/ws/voice/{session_id}, with the user's access token unless `token` is given."""
    if token is None and user is not None:
        token = str(AccessToken.for_user(user))
    parameters = "&".join(part for part in (f"token={token}" if token is not None else "", query) if part)
    return WebsocketCommunicator(application, f"/chats/ws/voice/{session_id}?{parameters}", headers=headers)


async def socket_open(user=None, session_id="new", *, timeout: float = 5.0, **options) -> WebsocketCommunicator:
    """A socket the server accepted."""
    communicator = socket_communicator(user, session_id, **options)
    accepted, _ = await communicator.connect(timeout=timeout)
    assert accepted
    return communicator


async def socket_connected(
    user=None, session_id="new", *, timeout: float = 5.0, **options
) -> tuple[WebsocketCommunicator, str]:
    """A socket past its `Connected` status, and the conversation id that status named."""
    communicator = await socket_open(user, session_id, timeout=timeout, **options)
    status = await communicator.receive_json_from(timeout=timeout)
    assert status["type"] == "status" and status["message"] == "Connected", status
    return communicator, status["session_id"]


# Driving a socket: in-process (a WebsocketCommunicator) or on a running server (websockets) ----

# 100 ms of linear16 at 16 kHz: the fake Deepgram hears one word per chunk.
WORD = b"\x00\x01" * 1600


def socket_url(server_url: str, session_id: str = "new", *, token: str = "", ticket: str = "", query: str = "") -> str:
    """The voice socket's address on a running server, signed in by an access token or a ticket."""
    parameters = "&".join(
        part for part in (f"token={token}" if token else "", f"ticket={ticket}" if ticket else "", query) if part
    )
    return f"{server_url.replace('http://', 'ws://')}/chats/ws/voice/{session_id}?{parameters}"


async def send(socket, message: dict) -> None:
    if isinstance(socket, WebsocketCommunicator):
        await socket.send_json_to(message)
    else:
        await socket.send(json.dumps(message))


async def receive(socket, timeout: float = 10.0) -> dict:
    if isinstance(socket, WebsocketCommunicator):
        return await socket.receive_json_from(timeout=timeout)
    return json.loads(await asyncio.wait_for(socket.recv(), timeout))


async def receive_until(socket, kind: str, *, complete: bool | None = None) -> list[dict]:
    """Every message up to and including the first of `kind` (and, for ai_response, `is_complete`)."""
    seen = []
    while True:
        message = await receive(socket)
        seen.append(message)
        if message["type"] == kind and (complete is None or message.get("is_complete") is complete):
            return seen


async def still_usable(socket, marker: str = "still-here") -> None:
    await send(socket, {"type": "ping", "timestamp": marker})
    assert await receive(socket) == {"type": "pong", "timestamp": marker}


async def speak(socket, words: int = 3, *, stop: bool = False) -> list[dict]:
    """Start talking and send `words` chunks of audio: the partial transcript each one brought."""
    await send(socket, {"type": "start_talking"})
    assert await receive(socket) == {"type": "status", "message": "Listening... Speak now"}
    partials = []
    for _ in range(words):
        await send(socket, {"type": "audio_chunk", "data": base64.b64encode(WORD).decode()})
        partials.append(await receive(socket))
        assert partials[-1]["type"] == "partial_transcript", partials[-1]
    if stop:
        await send(socket, {"type": "stop_talking"})
    return partials
