"""Posting a message to the SSE endpoint and reading its events: the one way tests do it.

`message_post` goes through Nora's ASGI application in the test process; `message_streamed`
goes to a running server (the end-to-end tests' daphne processes) and reads the frames as
they arrive off the socket.
"""

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
from django.test import AsyncClient
from rest_framework_simplejwt.tokens import AccessToken

from chats.models import Message

KEEP_ALIVE = "keep-alive"


def auth(user=None, *, token: str | None = None) -> dict:
    """The header that signs in as `user`, with a new access token unless `token` names one; none for nobody."""
    if token is None and user is None:
        return {}
    return {"authorization": f"Bearer {token or AccessToken.for_user(user)}"}


def frame_parse(frame: bytes) -> dict | str:
    """The seed's framing: one `data: <json>` line per event; the only other frame is a keep-alive."""
    assert b"\n" not in frame, frame
    if frame.startswith(b":"):
        assert frame == b": keep-alive", frame
        return KEEP_ALIVE
    assert frame.startswith(b"data: "), frame
    return json.loads(frame[len(b"data: ") :])


def sse_parse(raw: bytes) -> list:
    """Every frame must be exactly `data: <json>` or a `: keep-alive` comment, each ending in a blank line."""
    assert raw.endswith(b"\n\n")
    return [frame_parse(frame) for frame in raw[:-2].split(b"\n\n")]


async def message_post(
    user, conversation_id, body: dict | str, *, client: AsyncClient | None = None, token: str | None = None
):
    """POST /chats/{id}/message as `user`: the response, and its events (None when it did not stream)."""
    client = client or AsyncClient()
    payload = body if isinstance(body, str) else json.dumps(body)
    response = await client.post(
        f"/chats/{conversation_id}/message", payload, content_type="application/json", headers=auth(user, token=token)
    )
    if not response.streaming:
        return response, None
    raw = b"".join([chunk async for chunk in response.streaming_content])
    return response, sse_parse(raw)


def without_keepalives(events: list) -> list:
    return [event for event in events if event != KEEP_ALIVE]


def chunks_text(events: list) -> str:
    return "".join(event["content"] for event in without_keepalives(events) if event["type"] == "chunk")


# A running server -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Frame:
    event: dict | str  # KEEP_ALIVE for a keep-alive comment
    arrived_at: float


def sse_frames(response: httpx.Response) -> Iterator[Frame]:
    """The response's frames as they arrive off the socket, each with its arrival time."""
    buffer = b""
    for data in response.iter_raw():
        buffer += data
        while b"\n\n" in buffer:
            frame, buffer = buffer.split(b"\n\n", 1)
            yield Frame(frame_parse(frame), time.monotonic())
    assert buffer == b"", f"the stream ended inside a frame: {buffer!r}"


@contextmanager
def message_streamed(
    client: httpx.Client, server_url: str, user, conversation_id, body: dict
) -> Iterator[tuple[httpx.Response, Iterator[Frame]]]:
    """POST /chats/{id}/message to a running server as `user`: the response, and its frames as they come."""
    url = f"{server_url}/chats/{conversation_id}/message"
    with client.stream("POST", url, json=body, headers=auth(user)) as response:
        yield response, sse_frames(response)


def message_sent(client: httpx.Client, server_url: str, user, conversation_id, body: dict) -> httpx.Response:
    """POST /chats/{id}/message to a running server and read all of the answer: a refusal, or the whole stream."""
    with message_streamed(client, server_url, user, conversation_id, body) as (response, _):
        response.read()
    return response


def events_of(frames: list[Frame]) -> list[dict]:
    return without_keepalives([frame.event for frame in frames])


def frames_until_chunks(frames: Iterator[Frame], count: int) -> list[Frame]:
    """Read frames up to and including the `count`th chunk."""
    read = []
    for frame in frames:
        read.append(frame)
        if sum(1 for event in events_of(read) if event["type"] == "chunk") == count:
            return read
    raise AssertionError(f"the stream ended before {count} chunks: {events_of(read)}")


def reply_settled(find: Callable[[], Message | None], *, timeout: float) -> Message | None:
    """The reply `find` reads once it is no longer streaming, or as it is after `timeout` seconds.

    Another process writes it, so the database is read until then: no event crosses to the test.
    """
    deadline = time.monotonic() + timeout
    while True:
        reply = find()
        if (reply is not None and reply.status != Message.Status.STREAMING) or time.monotonic() > deadline:
            return reply
        time.sleep(0.05)
