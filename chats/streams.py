"""The one plain async Django view: a reply streamed as Server-Sent Events.

Plain Django rather than DRF so the stream is sent chunk by chunk under ASGI and an open
stream holds no thread. It speaks the API's JSON error envelope for everything before the
stream starts.
"""

import asyncio
import io
import json

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework.exceptions import AuthenticationFailed, ParseError
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import InvalidToken
from rest_framework_simplejwt.settings import api_settings as jwt_settings

from nora.errors import NOT_AUTHENTICATED, ApplicationError, TooManyRequestsError, json_error
from nora.observability import OPEN_STREAMS, conversation_id_var, user_id_var
from nora.parsers import BoundedJSONParser

from .engine.replies import LiveReply, ReplyChunk, ReplyDone, ReplyEvent, ReplyFailed, ReplyStart, turn_start
from .serializers import MessageInput

KEEP_ALIVE = b": keep-alive\n\n"


def sse_encode(event: ReplyEvent) -> bytes:
    """Each event is one `data:` line of JSON and a blank line."""
    if isinstance(event, ReplyStart):
        payload = {"type": "start", "message_id": str(event.message_id)}
        if event.title is not None:
            payload["title"] = event.title
    elif isinstance(event, ReplyChunk):
        payload = {"type": "chunk", "content": event.text}
    elif isinstance(event, ReplyDone):
        payload = {"type": "done", "message_id": str(event.message_id), "status": event.status}
        if event.disclaimer:
            payload["disclaimer"] = event.disclaimer
        if event.title is not None:
            payload["title"] = event.title
    else:
        payload = {"type": "error", "message": event.message}
    return b"data: " + json.dumps(payload, ensure_ascii=False).encode() + b"\n\n"


async def sse_stream(reply: LiveReply):
    keep_alive = settings.NORA_SSE_KEEPALIVE_SECONDS
    OPEN_STREAMS.inc()
    try:
        while True:
            try:
                # A timeout scope, not wait_for: wait_for wraps every event's wait in a task of its own.
                async with asyncio.timeout(keep_alive):
                    event = await reply.next_event()
            except TimeoutError:
                yield KEEP_ALIVE
                continue
            # Events that queued up while this stream waited for the loop go out in one write:
            # under load each write costs more than the event it carries.
            frames = [sse_encode(event)]
            while not isinstance(event, ReplyDone | ReplyFailed) and (event := reply.event_ready()) is not None:
                frames.append(sse_encode(event))
            yield b"".join(frames)
            if isinstance(event, ReplyDone | ReplyFailed):
                return
    finally:
        OPEN_STREAMS.dec()


def _token_user_id(request: HttpRequest) -> str | None:
    """The user an access token in the request names, when the token is valid.

    Checking a token needs no database; the user is read (and must still be active) in the
    same transaction as the turn, which saves a thread hop and a query before the first chunk.
    """
    authentication = JWTAuthentication()
    try:
        header = authentication.get_header(request)
        raw_token = authentication.get_raw_token(header) if header else None
        token = authentication.get_validated_token(raw_token) if raw_token else None
    except (InvalidToken, AuthenticationFailed):
        return None
    user_id = token.get(jwt_settings.USER_ID_CLAIM) if token else None
    return str(user_id) if user_id else None


@csrf_exempt
async def message_stream(request: HttpRequest, session_id) -> HttpResponse:
    if request.method != "POST":
        return json_error("Method not allowed: send a POST.", status_code=405, headers={"Allow": "POST"})
    user_id = _token_user_id(request)
    if user_id is None:
        challenge = JWTAuthentication().authenticate_header(request)
        return json_error(NOT_AUTHENTICATED, status_code=401, headers={"WWW-Authenticate": challenge})
    user_id_var.set(user_id)
    conversation_id_var.set(str(session_id))
    try:
        # The REST endpoints' parser, so that a bad body gets the same answer here as there.
        body = BoundedJSONParser().parse(io.BytesIO(request.body)) if request.body else {}
    except RequestDataTooBig:
        return json_error("The request body is too large.", status_code=413)
    except ParseError as error:
        return json_error(str(error.detail), status_code=400)
    serializer = MessageInput(data=body if isinstance(body, dict) else {})
    if not serializer.is_valid():
        errors = {field: [str(e) for e in messages] for field, messages in serializer.errors.items()}
        return json_error(f"Invalid input: {', '.join(sorted(errors))}.", status_code=400, errors=errors)
    try:
        reply = await turn_start(
            user_id=user_id,
            conversation_id=session_id,
            text=serializer.validated_data["message"],
            personality=serializer.validated_data.get("personality"),
        )
    except ApplicationError as error:
        headers = {"Retry-After": str(error.retry_after)} if isinstance(error, TooManyRequestsError) else None
        return json_error(error.message, status_code=error.status_code, errors=error.errors, headers=headers)
    request.user = reply.saved.conversation.user
    response = StreamingHttpResponse(sse_stream(reply), content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"
    return response
