"""A lean SSE load generator on raw asyncio sockets, and the figures it yields.

httpx would spend more CPU per chunk than the servers under test; this client reads
HTTP/1.1 by hand (chunked or close-delimited bodies), keeps one connection per client
alive between streams, and timestamps every read with CLOCK_MONOTONIC, the clock the
stamping fakes write into each token (see bench/fakes.py).

Per stream it records:
- added time to first chunk: (first chunk received - request sent) minus what the provider
  took (first token sent - response headers sent by the fake);
- per-chunk overhead: each chunk's receive time minus the time the fake sent that token.
"""

import argparse
import asyncio
import json
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from bench.fakes import now_us, token_stamps
from bench.harness import HOST, percentile


@dataclass
class Stream:
    sent_us: int = 0
    status: int = 0
    first_chunk_us: int | None = None
    provider_first_us: int | None = None  # the fake's own time to first token
    provider_head_us: int | None = None  # when the fake started answering
    chunk_overheads_us: list[int] = field(default_factory=list)
    chunks: int = 0
    done: bool = False
    error: str = ""
    ended_us: int = 0

    @property
    def added_first_chunk_ms(self) -> float | None:
        if self.first_chunk_us is None or self.provider_first_us is None:
            return None
        return (self.first_chunk_us - self.sent_us - self.provider_first_us) / 1000


class Connection:
    """One keep-alive HTTP/1.1 connection to the server under test."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def _open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(HOST, self.port, limit=1 << 20)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    async def stream(self, *, path: str, token: str, message: str, record: Stream) -> Stream:
        body = json.dumps({"message": message}).encode()
        return await self.request(method="POST", path=path, token=token, record=record, body=body)

    async def request(self, *, method: str, path: str, token: str, record: Stream, body: bytes = b"") -> Stream:
        content = f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n" if method == "POST" else ""
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: {HOST}:{self.port}\r\nAuthorization: Bearer {token}\r\n"
            f"Accept: text/event-stream, application/json\r\n{content}\r\n"
        ).encode()
        if self.writer is None:
            await self._open()
        record.sent_us = now_us()
        self.writer.write(head + body)
        try:
            await self._response_read(record)
        except (ConnectionError, asyncio.IncompleteReadError, ValueError) as error:
            record.error = record.error or type(error).__name__
            self.close()
        record.ended_us = now_us()
        return record

    async def _response_read(self, record: Stream) -> None:
        reader = self.reader
        status_line, *header_lines = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        record.status = int(status_line.split(" ", 2)[1])
        headers = {}
        for line in header_lines:
            if line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        keep = headers.get("connection", "").lower() != "close"
        events = _EventParser(record)
        if headers.get("transfer-encoding", "").lower() == "chunked":
            while True:
                size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
                if size == 0:
                    await reader.readuntil(b"\r\n")
                    break
                data = await reader.readexactly(size + 2)
                events.feed(data[:-2], now_us())
        elif "content-length" in headers:
            events.feed(await reader.readexactly(int(headers["content-length"])), now_us())
        else:
            keep = False
            while data := await reader.read(65536):
                events.feed(data, now_us())
        if record.status != 200:
            record.error = record.error or f"HTTP {record.status}"
        if not keep:
            self.close()


class _EventParser:
    def __init__(self, record: Stream) -> None:
        self.record = record
        self.buffer = b""

    def feed(self, data: bytes, received_us: int) -> None:
        self.buffer += data
        *events, self.buffer = self.buffer.split(b"\n\n")
        for event in events:
            if not event.startswith(b"data: "):
                continue  # keep-alive comments
            payload = json.loads(event[6:])
            kind = payload.get("type")
            if kind == "chunk":
                self._chunk(payload.get("content", ""), received_us)
            elif kind == "done":
                self.record.done = True
            elif kind == "error":
                self.record.error = payload.get("message", "error")

    def _chunk(self, text: str, received_us: int) -> None:
        record = self.record
        head_us, emit_us = token_stamps(text)
        record.chunks += 1
        if record.first_chunk_us is None:
            record.first_chunk_us = received_us
            if head_us is not None and emit_us is not None:
                record.provider_first_us = emit_us - head_us
                record.provider_head_us = head_us
        if emit_us is not None:
            record.chunk_overheads_us.append(received_us - emit_us)


@dataclass
class Target:
    """Where streams go: the server's port, and per client its token and fresh conversations."""

    port: int
    tokens: list[str]
    conversations: list[Iterator[str]]
    message: str = "I have been feeling tired and a bit queasy this week, is that normal?"

    def path(self, client: int) -> str | None:
        """The next fresh conversation's message path; None once the client has used them all."""
        conversation = next(self.conversations[client], None)
        return None if conversation is None else f"/chats/{conversation}/message"


async def closed_loop(
    target: Target, *, clients: int, seconds: float, max_streams: int, start_spread: float = 0.0
) -> list[Stream]:
    """`clients` each send a message as soon as their previous reply is done.

    Clients that start together stay in step, as every reply takes as long: once per reply,
    all of them send at the same moment. With `start_spread`, each client starts at a random
    moment within it, and only streams sent once every client has started are recorded.
    """
    records: list[Stream] = []
    recorded_from = time.monotonic() + start_spread
    deadline = recorded_from + seconds

    async def client(index: int) -> None:
        await asyncio.sleep(random.uniform(0, start_spread))
        connection = Connection(target.port)
        try:
            while time.monotonic() < deadline and len(records) < max_streams:
                path = target.path(index)
                if path is None:
                    return
                record = Stream()
                if time.monotonic() >= recorded_from:
                    records.append(record)
                await connection.stream(path=path, token=target.tokens[index], message=target.message, record=record)
                if record.error:
                    await asyncio.sleep(0.05)
        finally:
            connection.close()

    await asyncio.gather(*(client(index) for index in range(clients)))
    return records


def closed_loop_streams_per_client(*, seconds: float, start_spread: float = 0.0) -> int:
    """Conversations each closed-loop client may need: a reply lasts about 0.9 s, with room to spare."""
    return int((seconds + start_spread) * 2) + 5


def start_spread_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--start-spread-seconds", type=float, default=0.0,
        help="each client starts at a random moment within this (a reply lasts about 0.9 s); "
             "0, the default, starts them together, and they then send in step",
    )


def start_spread_note(seconds: float) -> str:
    return f", clients started within {seconds:g} s" if seconds else ""


async def open_loop(
    target: Target, *, rate: float, seconds: float, on_sent: Callable[[Stream], None] | None = None,
    jitter: bool = True, drain_seconds: float = 120.0, first_chunk_only: bool = False,
) -> list[Stream]:
    """New streams arrive at `rate` per second (Poisson) for `seconds`, each on its own connection.

    With `first_chunk_only` the streams are abandoned once each has its first chunk (or failed):
    for probes whose time to first chunk is all that is measured.
    """
    records: list[Stream] = []
    tasks: set[asyncio.Task] = set()
    start = time.monotonic()
    next_at = start
    index = 0
    while next_at - start < seconds:
        await asyncio.sleep(max(0.0, next_at - time.monotonic()))
        record = Stream()
        records.append(record)
        client = index % len(target.tokens)
        path = target.path(client)
        if path is None:
            break
        task = asyncio.create_task(_one(target, path, target.tokens[client], record))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        if on_sent is not None:
            on_sent(record)
        index += 1
        next_at += random.expovariate(rate) if jitter else 1 / rate
    if first_chunk_only:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and any(
            r.first_chunk_us is None and not r.error and r.ended_us == 0 for r in records
        ):
            await asyncio.sleep(0.05)
    elif tasks:
        await asyncio.wait(tasks, timeout=drain_seconds)
    for task in list(tasks):
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return records


async def _one(target: Target, path: str, token: str, record: Stream) -> None:
    connection = Connection(target.port)
    try:
        await connection.stream(path=path, token=token, message=target.message, record=record)
    finally:
        connection.close()


@dataclass
class Figures:
    streams: int
    errors: int
    ttfc_ms: list[float]
    chunk_ms: list[float]

    @classmethod
    def of(cls, records: list[Stream]) -> "Figures":
        good = [r for r in records if r.done and not r.error]
        return cls(
            streams=len(good),
            errors=len(records) - len(good),
            ttfc_ms=[r.added_first_chunk_ms for r in good if r.added_first_chunk_ms is not None],
            chunk_ms=[value / 1000 for r in good for value in r.chunk_overheads_us],
        )

    @classmethod
    def of_open(cls, records: list[Stream]) -> "Figures":
        """Streams still open count: good is a first chunk received and no error."""
        good = [r for r in records if r.first_chunk_us is not None and not r.error]
        return cls(
            streams=len(good),
            errors=len(records) - len(good),
            ttfc_ms=[r.added_first_chunk_ms for r in good if r.added_first_chunk_ms is not None],
            chunk_ms=[value / 1000 for r in good for value in r.chunk_overheads_us],
        )

    def merge(self, other: "Figures") -> "Figures":
        return Figures(
            self.streams + other.streams, self.errors + other.errors, self.ttfc_ms + other.ttfc_ms,
            self.chunk_ms + other.chunk_ms,
        )

    def ttfc(self, q: float) -> float:
        return percentile(self.ttfc_ms, q)

    def chunk(self, q: float) -> float:
        return percentile(self.chunk_ms, q)


EMPTY = Figures(0, 0, [], [])
