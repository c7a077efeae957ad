"""A local stand-in for Deepgram's live transcription websocket, close enough on the wire for the real SDK.

It listens on 127.0.0.1 at `/v1/listen`, checks `Authorization: Token <key>`, and answers
audio with `Results` the way Deepgram does: each utterance reveals the script's words, one
per `bytes_per_word` bytes of audio, as interim results; `Finalize` turns what was heard
into a final result marked `from_finalize`; `CloseStream` flushes, sends `Metadata` and
closes; silence on the socket for `idle_timeout` closes it with Deepgram's NET-0001 close.
Tests queue scripts that successive connections consume (an empty queue falls back to
`default`), and every connection is recorded:

    def test_finalize(deepgram_server, settings):
        settings.DEEPGRAM_BASE_URL = deepgram_server.url
        deepgram_server.script(words=["I", "feel", "sick"], bytes_per_word=1000)
        ...
        assert deepgram_server.stream.controls == ["Finalize", "CloseStream"]

Faults are scripted too: `reject_status` (or a wrong key: 401) and `drop_handshake` refuse
the connection, `close_after_bytes` breaks it mid-utterance, `ignore_finalize` never sends
a final result, `result_delay` slows every answer; `refused_url()` is a port nobody serves.

For benchmarks it also runs on its own:

    python -m fakes.deepgram_server --port 8766 --result-latency-ms 250
"""

import argparse
import asyncio
import collections
import contextlib
import dataclasses
import hashlib
import http
import json
import logging
import socket
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from fakes.background import BackgroundServer

log = logging.getLogger(__name__)

DEFAULT_WORDS = ("what", "should", "I", "eat", "in", "the", "first", "trimester")
TEST_API_KEY = "test-key"
# Deepgram's own wording for the idle close, so clients see exactly what production sends.
IDLE_CLOSE_CODE = 1011
IDLE_CLOSE_REASON = (
    "Deepgram did not receive audio data or a text message within the timeout window. See https://dpgr.am/net0001"
)
DATA_CLOSE_CODE = 1008
DATA_CLOSE_REASON = "DATA-0000: The payload cannot be decoded as audio."
MODEL_UUID = "1abfe86b-e047-4eed-858a-35e5625b41ee"
MODEL_INFO = {"name": "general-nova-3", "version": "2025-01-01.0", "arch": "nova-3"}
# Containerized audio carries its own rate; timestamps then assume 16 kHz 16-bit mono.
NOMINAL_BYTES_PER_SECOND = 32000


@dataclass
class Script:
    """What the fake does with one connection. Byte counts are of audio within one utterance."""

    words: Sequence[str] = DEFAULT_WORDS
    # 100 ms of linear16 at 16 kHz mono.
    bytes_per_word: int = 3200
    # An endpoint (a final result with speech_final, then UtteranceEnd) after this many words.
    final_every: int | None = None
    # Each message is sent this long after the frame that caused it.
    result_delay: float = 0.0
    idle_timeout: float = 10.0
    # Faults. An HTTP status answering the handshake instead of upgrading.
    reject_status: int | None = None
    # The TCP connection is reset during the handshake, before any HTTP response.
    drop_handshake: bool = False
    # Once this much audio arrived in the connection: the TCP connection is reset, or, with
    # `close_code`, closed with that code and `close_reason` (1008 DATA-0000 by default).
    close_after_bytes: int | None = None
    close_code: int | None = None
    close_reason: str = DATA_CLOSE_REASON
    # Finalize is recorded but never answered, so no final result arrives.
    ignore_finalize: bool = False


@dataclass
class RecordedStream:
    """One websocket connection as the fake saw it; filled in while the connection runs."""

    path: str
    query: dict[str, str]
    headers: dict[str, str]
    audio: bytearray = field(default_factory=bytearray, repr=False)
    # The `type` of each text frame, in order: "KeepAlive", "Finalize", "CloseStream", ...
    controls: list[str] = field(default_factory=list)
    # The close code the fake sent, None while open or when the TCP connection was reset.
    close_code: int | None = None
    closed: threading.Event = field(default_factory=threading.Event)


class _Stream:
    """The live side of one connection: its utterance state and its ordered outbound messages."""

    def __init__(self, *, connection: ServerConnection, script: Script, record: RecordedStream) -> None:
        self.connection = connection
        self.script = script
        self.record = record
        self.request_id = str(uuid.uuid4())
        channels = int(record.query.get("channels", "1"))
        if record.query.get("encoding") == "linear16" and "sample_rate" in record.query:
            self.bytes_per_second = int(record.query["sample_rate"]) * channels * 2
        else:
            self.bytes_per_second = NOMINAL_BYTES_PER_SECOND
        self.channels = channels
        self.loop = asyncio.get_running_loop()
        self.last_heard = self.loop.time()
        self.outbox: asyncio.Queue[tuple[float, dict[str, Any] | None]] = asyncio.Queue()
        self.utterance_start = 0.0  # seconds of audio before this utterance
        self.utterance_bytes = 0
        self.revealed = 0  # words of the script heard so far in this utterance
        self.finalized = 0  # of those, words already sent in a final result
        self.segment_start = 0.0

    @property
    def total_seconds(self) -> float:
        return len(self.record.audio) / self.bytes_per_second

    def _word_seconds(self) -> float:
        return self.script.bytes_per_word / self.bytes_per_second

    def send(self, message: dict[str, Any] | None) -> None:
        # None asks the sender to close normally once everything before it went out.
        self.outbox.put_nowait((self.loop.time() + self.script.result_delay, message))

    def _results(self, *, is_final: bool, speech_final: bool = False, from_finalize: bool = False) -> dict[str, Any]:
        segment = list(self.script.words[self.finalized : self.revealed]) if self.script.words else []
        word_seconds = self._word_seconds()
        start = self.segment_start
        words = [
            {
                "word": word.lower().strip(".,?!"),
                "start": round(start + index * word_seconds, 3),
                "end": round(start + (index + 1) * word_seconds, 3),
                "confidence": 0.99,
                "punctuated_word": word,
            }
            for index, word in enumerate(segment)
        ]
        confidence = 0.99 if segment else 0.0
        heard_until = self.utterance_start + self.utterance_bytes / self.bytes_per_second
        return {
            "type": "Results",
            "channel_index": [0, self.channels],
            "duration": round(max(heard_until - start, 0.0), 3),
            "start": round(start, 3),
            "is_final": is_final,
            "speech_final": speech_final,
            "channel": {"alternatives": [{"transcript": " ".join(segment), "confidence": confidence, "words": words}]},
            "metadata": {"request_id": self.request_id, "model_info": MODEL_INFO, "model_uuid": MODEL_UUID},
            "from_finalize": from_finalize,
        }

    def _final_send(self, *, speech_final: bool, from_finalize: bool = False) -> None:
        self.send(self._results(is_final=True, speech_final=speech_final, from_finalize=from_finalize))
        self.segment_start = self.utterance_start + self.revealed * self._word_seconds()
        self.finalized = self.revealed

    def audio_hear(self, chunk: bytes) -> bool:
        """Take one audio frame; False when a scripted fault ended the connection."""
        if self.utterance_bytes == 0 and self.record.query.get("vad_events") == "true":
            self.send({"type": "SpeechStarted", "channel": [0], "timestamp": round(self.utterance_start, 3)})
        self.record.audio.extend(chunk)
        self.utterance_bytes += len(chunk)
        limit = self.script.close_after_bytes
        if limit is not None and len(self.record.audio) >= limit:
            return False
        heard = min(len(self.script.words), self.utterance_bytes // max(self.script.bytes_per_word, 1))
        if heard > self.revealed:
            self.revealed = heard
            every = self.script.final_every
            if every is not None and self.revealed - self.finalized >= every:
                self._final_send(speech_final=True)
                if "utterance_end_ms" in self.record.query:
                    last_word_end = self.utterance_start + self.revealed * self._word_seconds()
                    self.send({"type": "UtteranceEnd", "channel": [0, self.channels], "last_word_end": last_word_end})
            else:
                self.send(self._results(is_final=False))
        return True

    def finalize(self) -> None:
        if self.script.ignore_finalize:
            return
        self._final_send(speech_final=False, from_finalize=True)
        self.utterance_start += self.utterance_bytes / self.bytes_per_second
        self.segment_start = self.utterance_start
        self.utterance_bytes = self.revealed = self.finalized = 0

    def close_stream(self) -> None:
        if self.revealed > self.finalized:
            self._final_send(speech_final=True)
        self.send(
            {
                "type": "Metadata",
                "transaction_key": "deprecated",
                "request_id": self.request_id,
                "sha256": hashlib.sha256(self.record.audio).hexdigest(),
                "created": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
                "duration": round(self.total_seconds, 3),
                "channels": self.channels,
                "models": [MODEL_UUID],
                "model_info": {MODEL_UUID: MODEL_INFO},
            }
        )
        self.send(None)

    async def sender_run(self) -> None:
        while True:
            due, message = await self.outbox.get()
            await asyncio.sleep(max(due - self.loop.time(), 0.0))
            if message is None:
                await self.close(code=1000, reason="")
                return
            await self.connection.send(json.dumps(message))

    async def idle_watch(self) -> None:
        while True:
            remaining = self.last_heard + self.script.idle_timeout - self.loop.time()
            if remaining <= 0:
                await self.close(code=IDLE_CLOSE_CODE, reason=IDLE_CLOSE_REASON)
                return
            await asyncio.sleep(remaining)

    async def close(self, *, code: int, reason: str) -> None:
        self.record.close_code = code
        await self.connection.close(code=code, reason=reason)

    def reset(self) -> None:
        self.connection.transport.abort()


class FakeDeepgramServer(BackgroundServer):
    """A websocket server on 127.0.0.1 that answers `/v1/listen` from scripts."""

    thread_name = "fake-deepgram"

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, api_key: str | None = TEST_API_KEY) -> None:
        self.host = host
        self.port = port
        # None accepts any key, as a benchmark wants.
        self.api_key = api_key
        self.default = Script()
        self.streams: list[RecordedStream] = []
        self._scripts: collections.deque[Script] = collections.deque()
        self._lock = threading.Lock()
        self._accepted: dict[ServerConnection, tuple[Script, RecordedStream]] = {}

    @property
    def url(self) -> str:
        """The websocket base URL to give the SDK (DEEPGRAM_BASE_URL)."""
        return f"ws://{self.host}:{self.port}"

    @property
    def stream(self) -> RecordedStream:
        """The latest connection."""
        return self.streams[-1]

    def script(self, **fields: Any) -> Script:
        """Queue a script for the next connection not already scripted."""
        script = Script(**fields)
        with self._lock:
            self._scripts.append(script)
        return script

    def _script_take(self) -> Script:
        with self._lock:
            if self._scripts:
                return self._scripts.popleft()
        return self.default

    # The server itself.

    async def serve(self, *, on_ready: Callable[[str], None] | None = None) -> None:
        """Serve until `stop()`; `on_ready` gets the URL once the port is bound."""
        self._loop = asyncio.get_running_loop()
        self._stopped = asyncio.Event()
        # Deepgram does not ping clients; the SDK's own pings are answered all the same.
        async with serve(
            self._connection_handle, self.host, self.port, process_request=self._handshake_check, ping_interval=None
        ) as server:
            self.port = next(iter(server.sockets)).getsockname()[1]
            if on_ready is not None:
                on_ready(self.url)
            await self._stopped.wait()
            server.close(close_connections=True)

    def _handshake_check(self, connection: ServerConnection, request: Request) -> Response | None:
        parts = urlsplit(request.path)
        record = RecordedStream(
            path=parts.path,
            query=dict(parse_qsl(parts.query, keep_blank_values=True)),
            headers={name.lower(): value for name, value in request.headers.raw_items()},
        )
        script = self._script_take()
        if script.drop_handshake:
            connection.transport.abort()
            return connection.respond(http.HTTPStatus.BAD_GATEWAY, "")
        if parts.path != "/v1/listen":
            return self._reject(connection, status=404, error="Not found.")
        if script.reject_status is not None:
            return self._reject(connection, status=script.reject_status, error="Scripted rejection.")
        if self.api_key is not None and record.headers.get("authorization") != f"Token {self.api_key}":
            return self._reject(connection, status=401, error="Invalid credentials.")
        self.streams.append(record)
        self._accepted[connection] = (script, record)
        return None

    def _reject(self, connection: ServerConnection, *, status: int, error: str) -> Response:
        # Deepgram explains a refused upgrade in these headers as well as in the body.
        response = connection.respond(status, error)
        response.headers["dg-error"] = error
        response.headers["dg-request-id"] = str(uuid.uuid4())
        return response

    async def _connection_handle(self, connection: ServerConnection) -> None:
        script, record = self._accepted.pop(connection)
        stream = _Stream(connection=connection, script=script, record=record)
        tasks = [asyncio.create_task(stream.sender_run()), asyncio.create_task(stream.idle_watch())]
        try:
            async for frame in connection:
                stream.last_heard = stream.loop.time()
                if isinstance(frame, bytes):
                    if not stream.audio_hear(frame):
                        break
                    continue
                kind = _control_type(frame)
                record.controls.append(kind)
                if kind == "Finalize":
                    stream.finalize()
                elif kind == "CloseStream":
                    stream.close_stream()
                elif kind != "KeepAlive":
                    stream.send(
                        {"type": "Error", "variant": "SchemaError", "description": "Unknown message.", "message": frame}
                    )
            else:
                return
            if script.close_code is None:
                stream.reset()
            else:
                await stream.close(code=script.close_code, reason=script.close_reason)
        except ConnectionClosed:
            pass
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            record.closed.set()


def _control_type(frame: str) -> str:
    try:
        message = json.loads(frame)
    except ValueError:
        return "?"
    return str(message.get("type", "?")) if isinstance(message, dict) else "?"


def refused_url() -> str:
    """A websocket base URL on 127.0.0.1 where nothing listens, so connecting is refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"ws://127.0.0.1:{port}"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve a fake Deepgram live transcription API for benchmarks.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port, which is logged")
    parser.add_argument("--result-latency-ms", type=float, default=0.0)
    parser.add_argument("--words", default=" ".join(DEFAULT_WORDS), help="the transcript each utterance reveals")
    parser.add_argument("--bytes-per-word", type=int, default=Script.bytes_per_word)
    parser.add_argument("--idle-timeout", type=float, default=Script.idle_timeout)
    parser.add_argument("--api-key", default=None, help="the key to require; any key is accepted without it")
    args = parser.parse_args(argv)

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    server = FakeDeepgramServer(host=args.host, port=args.port, api_key=args.api_key)
    server.default = dataclasses.replace(
        server.default,
        words=args.words.split(),
        bytes_per_word=args.bytes_per_word,
        result_delay=args.result_latency_ms / 1000,
        idle_timeout=args.idle_timeout,
    )
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(server.serve(on_ready=lambda url: log.info("fake Deepgram listening on %s", url)))


if __name__ == "__main__":
    main()
