"""Posting a message to the SSE endpoint and reading its events: the one way tests do it."""

import json

from django.test import AsyncClient
from rest_framework_simplejwt.tokens import AccessToken

KEEP_ALIVE = "keep-alive"


def auth(user, *, token: str | None = None) -> dict:
    """The header that signs in as `user`, with a new access token unless `token` names one."""
    return {"authorization": f"Bearer {token or AccessToken.for_user(user)}"}


def sse_parse(raw: bytes) -> list:
    """Every frame must be exactly `data: <json>` or a `: keep-alive` comment, each ending in a blank line."""
    assert raw.endswith(b"\n\n")
    frames = raw[:-2].split(b"\n\n")
    events = []
    for frame in frames:
        assert b"\n" not in frame, frame
        if frame.startswith(b":"):
            assert frame == b": keep-alive"
            events.append(KEEP_ALIVE)
            continue
        assert frame.startswith(b"data: "), frame
        events.append(json.loads(frame[len(b"data: ") :]))
    return events


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
