"""Replies and titles from Anthropic's Messages API through the official SDK."""

import asyncio
import json
import logging
import re
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

import anthropic
import httpx2
from django.conf import settings

from chats.engine.providers.base import (
    ModelEvent,
    PromptMessage,
    ReplyOpened,
    ReplyProviderError,
    ReplyUsage,
    TextDelta,
    TriageAnswer,
)
from chats.safety.triage import triage_answer_read, triage_brief
from nora.event_loops import PerEventLoop

log = logging.getLogger(__name__)

MESSAGES = {
    "auth": "Nora's AI service is not configured correctly. Please try again later.",
    "rate_limited": "Nora is receiving too many requests right now. Please try again in a minute.",
    "overloaded": "Nora's AI service is busy right now. Please try again in a moment.",
    "timeout": "Nora's AI service took too long to answer. Please try again.",
    "connection": "Nora could not reach its AI service. Please try again in a moment.",
    "provider": "Nora's AI service ran into a problem. Please try again.",
}

TITLE_SYSTEM = (
    "You name conversations. Reply with a title of 2 to 6 words that says what the user's "
    "message is about. Reply with the title only: no quotes, no final punctuation, no explanation."
)
# The title only needs the gist; a long first message would just cost tokens.
TITLE_MESSAGE_MAX_CHARS = 2000
TITLE_MAX_CHARS = 60
TITLE_MAX_WORDS = 8
# A triage reads the message alone; the rest of a very long one adds cost, not signs.
TRIAGE_MESSAGE_MAX_CHARS = 4000


class _StreamCutShort(Exception):
    """The stream closed cleanly but without `message_stop`, as a proxy cutting it might."""


@dataclass(frozen=True, slots=True)
class _Failure:
    code: str
    retryable: bool
    detail: str


async def _stream_events(response) -> AsyncIterator[ModelEvent]:
    """Text deltas, then the usage, from the Messages API's server-sent events.

    Lines are cut from the response's bytes here rather than read through the SDK's line
    iterator, which decodes text and splits lines in three more generator layers that every
    event passes through (bench/turn_instructions counts the difference). A line is decoded
    by `json.loads`, which takes UTF-8 bytes.
    """
    event = b""
    model = ""
    input_tokens = output_tokens = 0
    pending = b""
    async for chunk in response.iter_bytes():
        lines = (pending + chunk).splitlines(keepends=True)
        # A line without its end waits for the next chunk; a CR alone may still become CRLF,
        # which only adds an empty line.
        pending = lines.pop() if lines and not lines[-1].endswith((b"\n", b"\r")) else b""
        for line in lines:
            if line.startswith(b"event: "):
                event = line[7:].rstrip(b"\r\n")
            elif not line.startswith(b"data: "):
                continue
            elif event == b"content_block_delta":
                delta = json.loads(line[6:])["delta"]
                if delta.get("type") == "text_delta" and delta.get("text"):
                    yield TextDelta(delta["text"])
            elif event == b"message_start":
                message = json.loads(line[6:])["message"]
                model = message.get("model", "")
                input_tokens = message.get("usage", {}).get("input_tokens", 0)
            elif event == b"message_delta":
                output_tokens = json.loads(line[6:]).get("usage", {}).get("output_tokens", output_tokens)
            elif event == b"message_stop":
                yield ReplyUsage(model=model, input_tokens=input_tokens, output_tokens=output_tokens)
                return
            elif event == b"error":
                body = json.loads(line[6:])
                message = body.get("error", {}).get("message", "error") if isinstance(body, dict) else "error"
                raise anthropic.APIStatusError(message, response=response.http_response, body=body)
    raise _StreamCutShort


def failure_classify(*, error: Exception) -> _Failure:
    """How a failed call should be reported and whether trying again could help.

    `detail` is for logs: a status code and error type, never the provider's message
    text, which can quote the request.
    """
    # Timeouts first: the SDK's APITimeoutError is also an APIConnectionError.
    if isinstance(error, (anthropic.APITimeoutError, httpx2.TimeoutException)):
        return _Failure("timeout", retryable=True, detail=type(error).__name__)
    if isinstance(error, (anthropic.APIConnectionError, httpx2.TransportError, _StreamCutShort)):
        return _Failure("connection", retryable=True, detail=type(error).__name__)
    if isinstance(error, anthropic.APIStatusError):
        # An `error` event inside a 200 stream arrives with status 200, so the body's
        # error type decides as much as the status does.
        status = error.status_code
        kind = error.type if isinstance(error.type, str) else ""
        detail = f"status={status} type={kind or '-'} request_id={error.request_id or '-'}"
        if status in (401, 403) or kind in ("authentication_error", "permission_error"):
            return _Failure("auth", retryable=False, detail=detail)
        if status == 429 or kind == "rate_limit_error":
            return _Failure("rate_limited", retryable=False, detail=detail)
        if status == 529 or kind == "overloaded_error":
            return _Failure("overloaded", retryable=True, detail=detail)
        if status == 408 or kind == "timeout_error":
            return _Failure("timeout", retryable=True, detail=detail)
        if status >= 500 or kind == "api_error":
            return _Failure("provider", retryable=True, detail=detail)
        return _Failure("provider", retryable=False, detail=detail)
    return _Failure("provider", retryable=False, detail=type(error).__name__)


def messages_build(*, history: Sequence[PromptMessage]) -> list[dict[str, str]]:
    """The history as the Messages API accepts it: starting with the user, roles alternating.

    Empty turns are dropped (the API rejects empty text), consecutive turns of one role
    are joined, and assistant turns before the first user turn are left out.
    """
    messages: list[dict[str, str]] = []
    for turn in history:
        text = turn.text.strip()
        if not text or (not messages and turn.role != "user"):
            continue
        if messages and messages[-1]["role"] == turn.role:
            messages[-1]["content"] += "\n\n" + text
        else:
            messages.append({"role": turn.role, "content": text})
    return messages


def title_clean(*, text: str) -> str:
    """A model's title reduced to a short single line without quotes or decoration."""
    line = next((line for line in text.splitlines() if line.strip()), "")
    line = re.sub(r"^\s*title\s*:\s*", "", line, flags=re.IGNORECASE)
    line = line.replace("**", "").replace("`", "")
    line = line.strip(" \t\"'“”‘’«»#*_-.,;:!?()[]")
    words = line.split()[:TITLE_MAX_WORDS]
    while len(" ".join(words)) > TITLE_MAX_CHARS and len(words) > 1:
        words.pop()
    title = " ".join(words)[:TITLE_MAX_CHARS]
    return title.rstrip(" \"'“”‘’.,;:!?-")


def _error_build(*, failure: _Failure, operation: str) -> ReplyProviderError:
    log.warning("Anthropic %s failed: code=%s %s", operation, failure.code, failure.detail)
    return ReplyProviderError(MESSAGES[failure.code], code=failure.code)


class AnthropicReplyProvider:
    """Streams replies from Anthropic, retrying failures that happen before any text.

    The SDK's own retries are off (max_retries=0) so that NORA_LLM_RETRIES is the exact
    number of extra attempts and so that a stream is never silently restarted after the
    person has already seen part of a reply.
    """

    can_triage = True

    def __init__(self) -> None:
        self._clients: PerEventLoop[anthropic.AsyncAnthropic] = PerEventLoop()

    def _client(self) -> anthropic.AsyncAnthropic:
        return self._clients.get(self._client_build)

    def _client_build(self) -> anthropic.AsyncAnthropic:
        if not settings.ANTHROPIC_API_KEY:
            failure = _Failure("auth", retryable=False, detail="ANTHROPIC_API_KEY is empty")
            raise _error_build(failure=failure, operation="setup")
        return anthropic.AsyncAnthropic(
            api_key=settings.ANTHROPIC_API_KEY,
            base_url=settings.ANTHROPIC_BASE_URL or None,
            timeout=settings.NORA_LLM_TIMEOUT_SECONDS,
            max_retries=0,
            # The SDK's aiohttp transport rather than its default httpx one: reading a stream
            # through httpx, httpcore and anyio costs more CPU per reply (bench/sse_cpu).
            http_client=anthropic.DefaultAioHttpClient(timeout=settings.NORA_LLM_TIMEOUT_SECONDS),
        )

    async def aclose(self) -> None:
        """Close the running event loop's client, for code that ends its loop (each test does)."""
        client = self._clients.pop()
        if client is not None:
            await client.close()

    async def _backoff_sleep(self, *, attempt: int, failure: _Failure, operation: str) -> None:
        log.info(
            "Anthropic %s failed, retrying: attempt=%d code=%s %s", operation, attempt, failure.code, failure.detail
        )
        await asyncio.sleep(settings.NORA_LLM_RETRY_BACKOFF_SECONDS * 2 ** (attempt - 1))

    async def reply_stream(self, *, system: str, history: Sequence[PromptMessage]) -> AsyncIterator[ModelEvent]:
        client = self._client()
        messages = messages_build(history=history)
        retries = settings.NORA_LLM_RETRIES
        attempt = 0
        opened = False
        while True:
            text_sent = False
            try:
                # The SDK's raw streaming response: its request building, headers, timeouts and
                # status errors, without parsing every event into models and accumulating the
                # whole message, work a reply's stream does not need.
                async with client.messages.with_streaming_response.create(
                    model=settings.NORA_CHAT_MODEL,
                    system=system,
                    messages=messages,
                    max_tokens=settings.NORA_CHAT_MAX_TOKENS,
                    stream=True,
                ) as response:
                    if not opened:
                        opened = True
                        yield ReplyOpened()
                    async for event in _stream_events(response):
                        if isinstance(event, TextDelta):
                            text_sent = True
                        yield event
                return
            except (anthropic.APIError, httpx2.TransportError, _StreamCutShort) as error:
                failure = failure_classify(error=error)
                # Once text has reached the person, a retry would repeat or contradict it;
                # the engine keeps the partial reply instead.
                if text_sent or not failure.retryable or attempt >= retries:
                    raise _error_build(failure=failure, operation="reply") from None
                attempt += 1
                await self._backoff_sleep(attempt=attempt, failure=failure, operation="reply")

    async def title_generate(self, *, message: str) -> str:
        client = self._client()
        retries = settings.NORA_LLM_RETRIES
        attempt = 0
        while True:
            try:
                response = await client.messages.create(
                    model=settings.NORA_TITLE_MODEL,
                    system=TITLE_SYSTEM,
                    messages=[{"role": "user", "content": message[:TITLE_MESSAGE_MAX_CHARS]}],
                    max_tokens=settings.NORA_TITLE_MAX_TOKENS,
                )
                break
            except (anthropic.APIError, httpx2.TransportError) as error:
                failure = failure_classify(error=error)
                if not failure.retryable or attempt >= retries:
                    raise _error_build(failure=failure, operation="title") from None
                attempt += 1
                await self._backoff_sleep(attempt=attempt, failure=failure, operation="title")
        title = title_clean(text="".join(block.text for block in response.content if block.type == "text"))
        if not title:
            raise _error_build(failure=_Failure("provider", retryable=False, detail="empty title"), operation="title")
        return title

    async def triage_assess(self, *, message: str) -> TriageAnswer:
        """The model's verdict on one message, answered through a forced tool call.

        Tried once: the engine waits for it only until NORA_TRIAGE_DEADLINE_SECONDS, so a retry
        would rarely land in time.
        """
        brief = triage_brief()
        try:
            response = await self._client().messages.create(
                model=settings.NORA_TRIAGE_MODEL,
                system=brief.system,
                messages=[{"role": "user", "content": message[:TRIAGE_MESSAGE_MAX_CHARS]}],
                max_tokens=settings.NORA_TRIAGE_MAX_TOKENS,
                tools=[brief.tool],
                tool_choice={"type": "tool", "name": brief.tool_name},
            )
        except (anthropic.APIError, httpx2.TransportError) as error:
            raise _error_build(failure=failure_classify(error=error), operation="triage") from None
        answer = next(
            (block.input for block in response.content if block.type == "tool_use" and block.name == brief.tool_name),
            None,
        )
        verdict = triage_answer_read(answer=answer)
        if verdict is None:
            failure = _Failure("provider", retryable=False, detail="triage answer not in the tool's shape")
            raise _error_build(failure=failure, operation="triage")
        emergency, sign = verdict
        return TriageAnswer(
            emergency=emergency,
            sign=sign,
            model=response.model,
            input_tokens=response.usage.input_tokens,
            output_tokens=response.usage.output_tokens,
        )
