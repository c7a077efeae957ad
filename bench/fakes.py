"""The project's fake Anthropic and Deepgram servers, with send times written into their text.

The fakes in the `fakes` package serve the benchmarks unchanged except for one thing: a client
needs to know when the fake sent each token, so that "added" is what the client saw minus
what the provider did. Token text carries fixed-width placeholders that are replaced with
the CLOCK_MONOTONIC microsecond at the moment the bytes are written (the clock is one for
every process on the machine). Replacement keeps the length, so chunk sizes stay right.

    python -m bench.fakes anthropic --port 8765 --first-token-ms 100 --token-interval-ms 20 --tokens 40
    python -m bench.fakes deepgram --port 8766 --result-latency-ms 50

Anthropic tokens read `word|EMIT`, the first one `word|HEAD|EMIT` where HEAD is when the
response headers went out (the provider "started" answering). Deepgram transcripts end
with a word `SENT` stamped when that result frame went out.
"""

import argparse
import asyncio
import contextlib
import dataclasses
import logging
import os
import time
from collections.abc import Sequence

from fakes.anthropic_server import FakeAnthropicServer, tokens_make
from fakes.deepgram_server import DEFAULT_WORDS, FakeDeepgramServer

log = logging.getLogger(__name__)

WIDTH = 16
EMIT = b"@" * WIDTH
HEAD = b"$" * WIDTH
SENT = "%" * WIDTH


def now_us() -> int:
    return time.monotonic_ns() // 1000


def _stamp() -> bytes:
    return b"%0*d" % (WIDTH, now_us())


def stamped_tokens(*, count: int) -> list[str]:
    words = tokens_make(count=count)
    tokens = [f"{word}|{EMIT.decode()}" for word in words]
    if tokens:
        tokens[0] = f"{words[0]}|{HEAD.decode()}|{EMIT.decode()}"
    return tokens


def token_stamps(text: str) -> tuple[int | None, int | None]:
    """(head_us, emit_us) from a stamped token; head only on the first token."""
    parts = text.rsplit("|", 2)
    try:
        if len(parts) == 3 and parts[1].isdigit():
            return int(parts[1]), int(parts[2])
        return None, int(parts[-1])
    except ValueError:
        return None, None


class _StampingWriter:
    """A StreamWriter whose writes get their placeholders replaced with the current time."""

    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self._writer = writer
        self._head: bytes | None = None

    def write(self, data: bytes) -> None:
        if self._head is None:
            self._head = _stamp()
        if EMIT in data:
            data = data.replace(HEAD, self._head).replace(EMIT, _stamp())
        self._writer.write(data)

    def __getattr__(self, name: str):
        return getattr(self._writer, name)


class StampingAnthropicServer(FakeAnthropicServer):
    async def _stream_write(self, writer, reader, *, body, script) -> bool:  # type: ignore[override]
        return await super()._stream_write(_StampingWriter(writer), reader, body=body, script=script)


class _StampingConnection:
    """A websockets ServerConnection whose sent frames get their placeholder replaced."""

    def __init__(self, connection) -> None:
        self._connection = connection

    async def send(self, message, *args, **kwargs):
        if isinstance(message, str) and SENT in message:
            message = message.replace(SENT, _stamp().decode())
        return await self._connection.send(message, *args, **kwargs)

    def __aiter__(self):
        return self._connection.__aiter__()

    def __getattr__(self, name: str):
        return getattr(self._connection, name)

    def __hash__(self) -> int:
        return hash(self._connection)

    def __eq__(self, other) -> bool:
        return self._connection is getattr(other, "_connection", other)


class StampingDeepgramServer(FakeDeepgramServer):
    async def _connection_handle(self, connection) -> None:  # type: ignore[override]
        # The wrapper hashes and compares as the connection the handshake recorded.
        await super()._connection_handle(_StampingConnection(connection))


def transcript_stamp(text: str) -> int | None:
    """The send time stamped into a Deepgram transcript, if it has one."""
    last = text.rsplit(" ", 1)[-1].strip(".,?!")
    return int(last) if last.isdigit() and len(last) == WIDTH else None


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve a stamping fake provider for the benchmarks.")
    parser.add_argument("kind", choices=["anthropic", "deepgram"])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--first-token-ms", type=float, default=0.0)
    parser.add_argument("--token-interval-ms", type=float, default=0.0)
    parser.add_argument("--tokens", type=int, default=40)
    parser.add_argument("--triage-ms", type=float, default=None, help="when the triage answers (default: the first token's time)")
    parser.add_argument("--result-latency-ms", type=float, default=0.0)
    parser.add_argument("--words", default=" ".join(DEFAULT_WORDS))
    parser.add_argument("--ready-file", default="", help="written with the URL once listening")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")

    def ready(url: str) -> None:
        if args.ready_file:
            tmp = f"{args.ready_file}.tmp"
            with open(tmp, "w") as handle:
                handle.write(url)
            os.replace(tmp, args.ready_file)

    if args.kind == "anthropic":
        server = StampingAnthropicServer(host=args.host, port=args.port)
        server.defaults_set(
            tokens=stamped_tokens(count=args.tokens),
            first_token_ms=args.first_token_ms,
            token_interval_ms=args.token_interval_ms,
            triage_ms=args.triage_ms,
        )
    else:
        server = StampingDeepgramServer(host=args.host, port=args.port, api_key=None)
        server.default = dataclasses.replace(
            server.default, words=[*args.words.split(), SENT], result_delay=args.result_latency_ms / 1000,
            idle_timeout=60.0,
        )
        # Recorded audio would grow without bound over a long run.
        server.streams = _Forgetful()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(server.serve(on_ready=ready))


class _Forgetful(list):
    """The fake records every connection for tests; a benchmark keeps none."""

    def append(self, item) -> None:
        pass


if __name__ == "__main__":
    main()
