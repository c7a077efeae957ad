"""A local stand-in for Anthropic's Messages API, close enough on the wire for the real SDK.

Tests queue scripts that successive requests consume: streaming requests (replies) take
`reply_script`s, non-streaming ones with tools (triage) take `triage_script`s, other
non-streaming ones (titles) take `title_script`s, and an empty queue falls back to
`reply_default` / `triage_default` / `title_default`. Every request is recorded.

    def test_retry(anthropic_server):
        anthropic_server.reply_script(status=529)
        anthropic_server.reply_script(tokens=["Hi", " there"])
        ...
        assert len(anthropic_server.reply_requests) == 2

For benchmarks it also runs on its own:

    python -m fakes.anthropic_server --port 8765 --first-token-ms 400 --token-interval-ms 20 --tokens 200
"""

import argparse
import asyncio
import collections
import contextlib
import dataclasses
import http
import itertools
import json
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from fakes.background import BackgroundServer

log = logging.getLogger(__name__)

DEFAULT_TOKENS = ("Hello", ",", " I'm", " Nora", ".", " How", " are", " you", " feeling", " today", "?")
DEFAULT_TITLE = "Feeling Well Today"

ERROR_TYPES = {
    400: ("invalid_request_error", "Invalid request"),
    401: ("authentication_error", "invalid x-api-key"),
    403: ("permission_error", "Your API key does not have permission to use the specified resource."),
    404: ("not_found_error", "Not found"),
    413: ("request_too_large", "Request exceeds the maximum allowed number of bytes."),
    429: ("rate_limit_error", "Number of request tokens has exceeded your per-minute rate limit"),
    500: ("api_error", "Internal server error"),
    529: ("overloaded_error", "Overloaded"),
}
REASONS = {529: "Overloaded"}
BENCH_WORDS = "Many people feel tired and a little queasy in the first weeks and that is very common".split()


@dataclass
class Script:
    """What the fake does with one request.

    Counts are of tokens (text deltas) already sent. A title request uses `title`, waits
    `first_token_delay` before answering, and honours `status`, `drop_after` and `hang`; so
    does a triage request, answered with a `tool_use` of the request's first tool whose input
    is `triage` (by default, not an emergency).
    """

    tokens: Sequence[str] = DEFAULT_TOKENS
    title: str = DEFAULT_TITLE
    first_token_delay: float = 0.0
    token_interval: float = 0.0
    # An HTTP error status sent instead of a response, with Anthropic's JSON error body.
    status: int | None = None
    # An in-stream `event: error` with this type, after this many tokens (0: before any).
    error_after: int | None = None
    error_type: str = "overloaded_error"
    # The TCP connection is reset after this many tokens (for a title: before the response).
    drop_after: int | None = None
    # The body ends cleanly after this many tokens, without the closing events, as a
    # proxy that cuts a stream short might.
    end_after: int | None = None
    # Nothing more is sent after this many tokens, until the client gives up.
    hang_after: int | None = None
    # Nothing at all is sent, not even the response headers, until the client gives up.
    hang: bool = False
    stop_reason: str = "end_turn"
    triage: Any = dataclasses.field(default_factory=lambda: {"emergency": False, "sign": "none"})


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any]

    @property
    def is_stream(self) -> bool:
        return bool(self.body.get("stream"))

    @property
    def is_triage(self) -> bool:
        return not self.is_stream and bool(self.body.get("tools"))


@dataclass
class _Request:
    method: str
    path: str
    headers: dict[str, str]
    raw_body: bytes


def tokens_make(*, count: int) -> list[str]:
    """Plausible text of `count` tokens for benchmarks."""
    words = itertools.islice(itertools.cycle(BENCH_WORDS), count)
    return [word if index == 0 else f" {word}" for index, word in enumerate(words)]


def _sse(event: str, data: dict[str, Any]) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(block.get("text", "") for block in content if isinstance(block, dict))
    return ""


def _input_tokens_count(body: dict[str, Any]) -> int:
    texts = [_text_of(body.get("system", ""))]
    texts += [_text_of(message.get("content")) for message in body.get("messages", []) if isinstance(message, dict)]
    return sum(len(text.split()) for text in texts)


class FakeAnthropicServer(BackgroundServer):
    """An HTTP/1.1 server on 127.0.0.1 that answers `POST /v1/messages` from scripts."""

    thread_name = "fake-anthropic"

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self.port = port
        self.reply_default = Script()
        self.title_default = Script()
        self.triage_default = Script()
        self.requests: list[RecordedRequest] = []
        self._reply_scripts: collections.deque[Script] = collections.deque()
        self._title_scripts: collections.deque[Script] = collections.deque()
        self._triage_scripts: collections.deque[Script] = collections.deque()
        self._lock = threading.Lock()
        self._recorded = threading.Condition()
        self._ids = itertools.count(1)
        self._handlers: set[asyncio.Task[None]] = set()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def reply_requests(self) -> list[RecordedRequest]:
        return [request for request in self.requests if request.is_stream]

    @property
    def title_requests(self) -> list[RecordedRequest]:
        return [request for request in self.requests if not request.is_stream and not request.is_triage]

    @property
    def triage_requests(self) -> list[RecordedRequest]:
        return [request for request in self.requests if request.is_triage]

    def defaults_set(
        self, *, tokens: Sequence[str], first_token_ms: float, token_interval_ms: float, triage_ms: float | None
    ) -> None:
        """What every unscripted request gets: these reply tokens, at these times (triage: first token's)."""
        first_token_delay = first_token_ms / 1000
        self.reply_default = dataclasses.replace(
            self.reply_default,
            tokens=tokens,
            first_token_delay=first_token_delay,
            token_interval=token_interval_ms / 1000,
        )
        self.title_default = dataclasses.replace(self.title_default, first_token_delay=first_token_delay)
        triage_delay = first_token_delay if triage_ms is None else triage_ms / 1000
        self.triage_default = dataclasses.replace(self.triage_default, first_token_delay=triage_delay)

    def reply_request_wait(self, *, timeout: float) -> bool:
        """Block until a streaming request has arrived (True), or `timeout` seconds have passed."""
        with self._recorded:
            return self._recorded.wait_for(lambda: bool(self.reply_requests), timeout=timeout)

    def reply_script(self, **fields: Any) -> Script:
        """Queue a script for the next streaming request not already scripted."""
        script = Script(**fields)
        with self._lock:
            self._reply_scripts.append(script)
        return script

    def title_script(self, **fields: Any) -> Script:
        """Queue a script for the next non-streaming request not already scripted."""
        script = Script(**fields)
        with self._lock:
            self._title_scripts.append(script)
        return script

    def triage_script(self, **fields: Any) -> Script:
        """Queue a script for the next triage request not already scripted."""
        script = Script(**fields)
        with self._lock:
            self._triage_scripts.append(script)
        return script

    def _script_take(self, *, request: RecordedRequest) -> Script:
        if request.is_stream:
            queue, default = self._reply_scripts, self.reply_default
        elif request.is_triage:
            queue, default = self._triage_scripts, self.triage_default
        else:
            queue, default = self._title_scripts, self.title_default
        with self._lock:
            if queue:
                return queue.popleft()
        return default

    # The server itself.

    async def serve(self, *, on_ready: Callable[[str], None] | None = None) -> None:
        """Serve until `stop()`; `on_ready` gets the URL once the port is bound."""
        self._loop = asyncio.get_running_loop()
        self._stopped = asyncio.Event()
        server = await asyncio.start_server(self._connection_handle, self.host, self.port)
        self.port = server.sockets[0].getsockname()[1]
        if on_ready is not None:
            on_ready(self.url)
        try:
            await self._stopped.wait()
        finally:
            server.close()
            for task in list(self._handlers):
                task.cancel()
            await asyncio.gather(*self._handlers, return_exceptions=True)
            await server.wait_closed()

    async def _connection_handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        try:
            while True:
                request = await self._request_read(reader)
                if request is None:
                    break
                keep_alive = await self._request_answer(request, reader, writer)
                if not keep_alive:
                    break
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        except asyncio.CancelledError:
            # stop() cancels open connections; on Python 3.11 a cancelled connection task
            # would otherwise be reported as an error by asyncio's stream callback.
            pass
        finally:
            self._handlers.discard(task)
            writer.close()

    async def _request_read(self, reader: asyncio.StreamReader) -> _Request | None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError:
            return None
        request_line, *header_lines = head.decode("latin-1").split("\r\n")
        method, target, _version = request_line.split(" ", 2)
        headers: dict[str, str] = {}
        for line in header_lines:
            if line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0"))
        raw_body = await reader.readexactly(length) if length else b""
        return _Request(method=method, path=target.split("?", 1)[0], headers=headers, raw_body=raw_body)

    async def _request_answer(
        self, request: _Request, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> bool:
        """Answer one request; False when the connection must not be reused."""
        if request.method != "POST" or request.path != "/v1/messages":
            await self._error_write(writer, status=404)
            return True
        try:
            body = json.loads(request.raw_body or b"{}")
        except ValueError:
            await self._error_write(writer, status=400)
            return True
        recorded = RecordedRequest(method=request.method, path=request.path, headers=request.headers, body=body)
        with self._recorded:
            self.requests.append(recorded)
            self._recorded.notify_all()
        script = self._script_take(request=recorded)

        if script.hang:
            await self._hang(reader)
            return False
        if script.status is not None:
            await self._error_write(writer, status=script.status)
            return True
        if recorded.is_stream:
            return await self._stream_write(writer, reader, body=body, script=script)
        if script.drop_after is not None:
            writer.transport.abort()
            return False
        await asyncio.sleep(script.first_token_delay)
        if recorded.is_triage:
            tool = body["tools"][0]["name"]
            block = {"type": "tool_use", "id": f"toolu_fake{next(self._ids):06d}", "name": tool, "input": script.triage}
            message = self._message(body=body, content=[block])
            message["stop_reason"] = "tool_use"
            message["usage"]["output_tokens"] = len(json.dumps(script.triage).split())
        else:
            message = self._message(body=body, content=[{"type": "text", "text": script.title}])
            message["stop_reason"] = script.stop_reason
            message["usage"]["output_tokens"] = len(script.title.split())
        await self._response_write(writer, status=200, body=json.dumps(message).encode())
        return True

    def _message(self, *, body: dict[str, Any], content: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "id": f"msg_fake{next(self._ids):06d}",
            "type": "message",
            "role": "assistant",
            "model": body.get("model", "claude-fake"),
            "content": content,
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {"input_tokens": _input_tokens_count(body), "output_tokens": 1},
        }

    async def _hang(self, reader: asyncio.StreamReader) -> None:
        # Waits for the client to close its end, so that a benchmark's abandoned
        # requests do not pile up, or for the server to stop.
        while await reader.read(65536):
            pass

    async def _response_write(
        self, writer: asyncio.StreamWriter, *, status: int, body: bytes, content_type: str = "application/json"
    ) -> None:
        reason = REASONS.get(status) or http.HTTPStatus(status).phrase
        head = (
            f"HTTP/1.1 {status} {reason}\r\n"
            f"content-type: {content_type}\r\n"
            f"content-length: {len(body)}\r\n"
            f"request-id: req_fake{next(self._ids):06d}\r\n"
            "connection: keep-alive\r\n\r\n"
        )
        writer.write(head.encode() + body)
        await writer.drain()

    async def _error_write(self, writer: asyncio.StreamWriter, *, status: int) -> None:
        error_type, message = ERROR_TYPES.get(status, ("api_error", "Internal server error"))
        body = {"type": "error", "error": {"type": error_type, "message": message}}
        await self._response_write(writer, status=status, body=json.dumps(body).encode())

    async def _stream_write(
        self,
        writer: asyncio.StreamWriter,
        reader: asyncio.StreamReader,
        *,
        body: dict[str, Any],
        script: Script,
    ) -> bool:
        """Send an SSE reply as chunks, as Anthropic does, so a cut stream is detectable."""

        async def chunk(data: bytes) -> None:
            writer.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            await writer.drain()

        head = (
            "HTTP/1.1 200 OK\r\n"
            "content-type: text/event-stream; charset=utf-8\r\n"
            "cache-control: no-cache\r\n"
            "transfer-encoding: chunked\r\n"
            f"request-id: req_fake{next(self._ids):06d}\r\n"
            "connection: keep-alive\r\n\r\n"
        )
        writer.write(head.encode())
        message = self._message(body=body, content=[])
        await chunk(_sse("message_start", {"type": "message_start", "message": message}))
        await chunk(
            _sse(
                "content_block_start",
                {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
            )
        )
        await chunk(_sse("ping", {"type": "ping"}))

        # The trailing None lets a fault be scripted after the last token, before the end events.
        for sent, token in enumerate([*script.tokens, None]):
            if sent == script.drop_after:
                writer.transport.abort()
                return False
            if sent == script.end_after:
                await chunk(b"")
                return True
            if sent == script.hang_after:
                await self._hang(reader)
                return False
            if sent == script.error_after:
                error = {"type": "error", "error": {"type": script.error_type, "message": "Overloaded"}}
                await chunk(_sse("error", error))
                await chunk(b"")
                return True
            if token is None:
                break
            await asyncio.sleep(script.first_token_delay if sent == 0 else script.token_interval)
            delta = {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": token}}
            await chunk(_sse("content_block_delta", delta))

        await chunk(_sse("content_block_stop", {"type": "content_block_stop", "index": 0}))
        message_delta = {
            "type": "message_delta",
            "delta": {"stop_reason": script.stop_reason, "stop_sequence": None},
            "usage": {"output_tokens": len(script.tokens)},
        }
        await chunk(_sse("message_delta", message_delta))
        await chunk(_sse("message_stop", {"type": "message_stop"}))
        await chunk(b"")
        return True


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve a fake Anthropic Messages API for benchmarks.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port, which is logged")
    parser.add_argument("--first-token-ms", type=float, default=0.0)
    parser.add_argument("--token-interval-ms", type=float, default=0.0)
    parser.add_argument("--tokens", type=int, default=len(DEFAULT_TOKENS))
    parser.add_argument("--triage-ms", type=float, default=None, help="the triage's answer time (default: first token)")
    args = parser.parse_args(argv)

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    server = FakeAnthropicServer(host=args.host, port=args.port)
    server.defaults_set(
        tokens=tokens_make(count=args.tokens),
        first_token_ms=args.first_token_ms,
        token_interval_ms=args.token_interval_ms,
        triage_ms=args.triage_ms,
    )

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(server.serve(on_ready=lambda url: log.info("fake Anthropic API listening on %s", url)))


if __name__ == "__main__":
    main()
