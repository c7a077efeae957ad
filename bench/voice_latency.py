"""Measurement 6: voice: sockets streaming audio in real time, and the latency Nora adds.

Each socket (its own user and titled conversation) repeats: `start_talking`, 100 ms chunks
of 16 kHz linear16 audio in real time for --utterance-seconds, `stop_talking`, then reads
`final_transcript` and the reply's `ai_response` frames to the end, then pauses a second.
Each socket's first turn starts at a random moment within --start-spread-seconds, one
turn's length by default, so turns end at independent moments as different people's do.
`--start-spread-seconds 1` is the herd: every socket stops talking within the same second,
and all their replies begin together.
The fake Deepgram answers every frame after --result-latency-ms and stamps each result's
send time into its transcript; the fake Anthropic stamps its tokens (bench/fakes.py).

- stop -> final, added: (final_transcript received - stop_talking sent) - the fake's result latency.
- final result -> first ai_response, added: (first ai_response received - Deepgram's final
  result sent) - the fake Anthropic's own time to first token.
- memory per socket: RSS growth from the idle server to all sockets connected, and to all
  sockets streaming, divided by the sockets.

    python -m bench.voice_latency --sockets 200
    python -m bench.voice_latency --sockets 200 --start-spread-seconds 1   # the herd
    python -m bench.voice_latency --smoke
"""

import argparse
import asyncio
import base64
import json
import random
import time

from websockets.asyncio.client import connect

from bench import harness
from bench.compare import server_start
from bench.fakes import now_us, token_stamps, transcript_stamp

CHUNK_SECONDS = 0.1
CHUNK_BYTES = 3200  # 100 ms of 16 kHz 16-bit mono


class Socket:
    def __init__(self, url: str) -> None:
        self.url = url
        self.stt_added_ms: list[float] = []
        self.reply_added_ms: list[float] = []
        self.turns = 0
        self.errors: list[str] = []

    async def run(self, *, turns: int, utterance_seconds: float, result_latency_ms: float, start_spread: float,
                  connected: asyncio.Event, go: asyncio.Event, stop_at: float) -> None:
        audio = json.dumps({"type": "audio_chunk", "data": base64.b64encode(bytes(CHUNK_BYTES)).decode()})
        try:
            async with connect(self.url, max_size=2**22, ping_interval=None, open_timeout=60) as ws:
                await self._until(ws, lambda m: m.get("type") == "status" and m.get("message") == "Connected")
                connected.set()
                await go.wait()
                await asyncio.sleep(random.uniform(0, start_spread))
                for _ in range(turns):
                    if time.monotonic() > stop_at:
                        break
                    await self._turn(ws, audio, utterance_seconds, result_latency_ms)
                    await asyncio.sleep(1.0)
        except Exception as error:  # a broken socket is a result, not a crash of the benchmark
            self.errors.append(type(error).__name__)
            connected.set()

    async def _turn(self, ws, audio: str, utterance_seconds: float, result_latency_ms: float) -> None:
        await ws.send(json.dumps({"type": "start_talking"}))
        await self._until(ws, lambda m: m.get("type") == "status" and m.get("message", "").startswith("Listening"))
        start = time.monotonic()
        for index in range(int(utterance_seconds / CHUNK_SECONDS)):
            await asyncio.sleep(max(0.0, start + index * CHUNK_SECONDS - time.monotonic()))
            await ws.send(audio)
        stop_us = now_us()
        await ws.send(json.dumps({"type": "stop_talking"}))
        final = await self._until(ws, lambda m: m.get("type") == "final_transcript")
        final_us = now_us()
        sent_us = transcript_stamp(final["text"])
        first = await self._until(ws, lambda m: m.get("type") == "ai_response")
        first_us = now_us()
        while not first.get("is_complete"):
            first_done = await self._until(ws, lambda m: m.get("type") == "ai_response")
            if first_done.get("is_complete"):
                break
        head_us, emit_us = token_stamps(first["text"])
        self.stt_added_ms.append((final_us - stop_us) / 1000 - result_latency_ms)
        if sent_us is not None and head_us is not None and emit_us is not None:
            self.reply_added_ms.append((first_us - sent_us - (emit_us - head_us)) / 1000)
        self.turns += 1

    async def _until(self, ws, matches) -> dict:
        async with asyncio.timeout(60):
            while True:
                message = json.loads(await ws.recv())
                if message.get("type") == "error":
                    raise RuntimeError(message.get("message"))
                if matches(message):
                    return message


async def sockets_run(process: harness.Process, *, urls: list[str], turns: int, utterance_seconds: float,
                      result_latency_ms: float, start_spread: float, seconds: float) -> tuple[list[Socket], int, int]:
    sockets = [Socket(url) for url in urls]
    connected = [asyncio.Event() for _ in sockets]
    go = asyncio.Event()
    stop_at = time.monotonic() + seconds
    tasks = []
    for sock, event in zip(sockets, connected, strict=True):
        tasks.append(asyncio.create_task(sock.run(
            turns=turns, utterance_seconds=utterance_seconds, result_latency_ms=result_latency_ms,
            start_spread=start_spread, connected=event, go=go, stop_at=stop_at,
        )))
        await asyncio.sleep(0.01)
    await asyncio.wait_for(asyncio.gather(*(event.wait() for event in connected)), 120)
    await asyncio.sleep(1.0)
    rss_connected = process.rss_kib()
    go.set()
    await asyncio.sleep(start_spread + min(utterance_seconds * 0.8, 8.0))
    rss_streaming = process.rss_kib()
    await asyncio.wait(tasks, timeout=seconds + 120)
    for task in tasks:
        task.cancel()
    return sockets, rss_connected, rss_streaming


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    harness.common_arguments(parser)
    parser.add_argument("--sockets", type=int, default=200)
    parser.add_argument("--turns", type=int, default=3, help="per socket and run")
    parser.add_argument("--utterance-seconds", type=float, default=10.0)
    parser.add_argument("--result-latency-ms", type=float, default=100.0)
    parser.add_argument("--seconds", type=float, default=90.0, help="no new turn starts after this")
    parser.add_argument(
        "--start-spread-seconds", type=float, default=None,
        help="each socket's first turn starts at a random moment in this span (default: one turn's length, "
             "the utterance plus 2 s, so turns are spread as independent people's are; 1 makes them all "
             "stop talking within the same second)",
    )
    args = parser.parse_args(argv)
    if args.smoke:
        args.sockets, args.turns, args.utterance_seconds, args.runs, args.seconds = 3, 1, 1.0, 1, 10.0
    start_spread = args.utterance_seconds + 2.0 if args.start_spread_seconds is None else args.start_spread_seconds
    harness.setup(args)
    harness.load_data_forget(prefix="voice")
    user_ids = harness.users_make(prefix="voice", count=args.sockets)
    tokens = [harness.access_token(user_id) for user_id in user_ids]
    anthropic = harness.fake_anthropic_start(first_token_ms=100, token_interval_ms=20, tokens=20)
    deepgram = harness.fake_deepgram_start(result_latency_ms=args.result_latency_ms)
    stt, reply, per_socket_connected, per_socket_streaming = [], [], [], []
    turns = errors = 0
    with harness.running(anthropic), harness.running(deepgram):
        for run in range(args.runs):
            process = server_start("nora", args=args, anthropic_url=anthropic.url, deepgram_url=deepgram.url)
            with harness.running(process), harness.maybe_profiled(args, process, first=run == 0):
                port = process.url.rsplit(":", 1)[1]
                conversations = [harness.conversations_make(user_id=u, count=1)[0] for u in user_ids]
                urls = [
                    f"ws://{harness.HOST}:{port}/chats/ws/voice/{conversation}?token={token}"
                    "&encoding=linear16&sample_rate=16000&channels=1"
                    for conversation, token in zip(conversations, tokens, strict=True)
                ]
                # One socket's turn first, so imports and pools are warm.
                asyncio.run(sockets_run(process, urls=urls[:1], turns=1, utterance_seconds=1.0,
                                        result_latency_ms=args.result_latency_ms, start_spread=0.0, seconds=5))
                harness.settle(process)
                idle = process.rss_kib()
                sockets, rss_connected, rss_streaming = asyncio.run(sockets_run(
                    process, urls=urls, turns=args.turns, utterance_seconds=args.utterance_seconds,
                    result_latency_ms=args.result_latency_ms, start_spread=start_spread, seconds=args.seconds,
                ))
                per_socket_connected.append((rss_connected - idle) / args.sockets)
                per_socket_streaming.append((rss_streaming - idle) / args.sockets)
                for sock in sockets:
                    stt += sock.stt_added_ms
                    reply += sock.reply_added_ms
                    turns += sock.turns
                    errors += len(sock.errors)
    harness.load_data_forget(prefix="voice")
    table = harness.Table(
        f"Voice at {args.sockets} sockets, first turns spread over {start_spread:g} s (ms added by Nora)",
        ["latency", "turns", "socket errors", "p50", "p99", "target"],
    )
    table.add("stop_talking -> final_transcript", len(stt), errors, harness.percentile(stt, 50),
              harness.percentile(stt, 99), "p50 <= 20 ms")
    table.add("final result -> first ai_response", len(reply), errors, harness.percentile(reply, 50),
              harness.percentile(reply, 99), "p50 <= 20 ms")
    memory = harness.Table("Voice memory per socket (KiB)", ["state", "per run", "mean"])
    for name, values in (("connected, idle", per_socket_connected), ("streaming audio", per_socket_streaming)):
        memory.add(name, " ".join(f"{v:.0f}" for v in values), sum(values) / len(values))
    meta = harness.meta(args, turns=turns, start_spread_seconds=start_spread)
    harness.report([table, memory], json_path=args.json, meta=meta)


if __name__ == "__main__":
    main()
