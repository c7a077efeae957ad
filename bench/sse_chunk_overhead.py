"""Measurement 2: SSE per-chunk overhead (token sent by the fake -> chunk received), at 50 clients.

Same load as measurement 1's 50-client level: each client sends messages back to back, 40
tokens one every 20 ms. Every chunk of every stream is a sample.

    python -m bench.sse_chunk_overhead
    python -m bench.sse_chunk_overhead --smoke
"""

import argparse
import asyncio

from bench import harness
from bench.compare import Provider, Results, Session, alternate, ratio, warm_up
from bench.sse import (
    Figures,
    closed_loop,
    closed_loop_streams_per_client,
    start_spread_argument,
    start_spread_note,
)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    harness.common_arguments(parser)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=20.0)
    start_spread_argument(parser)
    args = parser.parse_args(argv)
    if args.smoke:
        args.clients, args.seconds, args.runs, args.start_spread_seconds = 4, 0.5, 1, 0.2

    def step(session: Session, results: Results) -> None:
        warm_up(session, clients=min(args.clients, 10), streams=1 if args.smoke else 3, smoke=args.smoke)
        per_client = closed_loop_streams_per_client(seconds=args.seconds, start_spread=args.start_spread_seconds)
        target = session.target(streams_per_client=per_client)
        records = asyncio.run(closed_loop(target, clients=args.clients, seconds=args.seconds, max_streams=100_000,
                                               start_spread=args.start_spread_seconds))
        results.add(session.server, args.clients, Figures.of(records))

    results = alternate(args, provider=Provider(), clients=args.clients, step=step, servers=harness.servers(args))
    base = results.get("baseline", args.clients)
    table = harness.Table(
        f"SSE per-chunk overhead at {args.clients} clients (ms)" + start_spread_note(args.start_spread_seconds),
        ["server", "streams", "chunks", "p50", "p99", "p50 / baseline", "p99 / baseline", "target"],
    )
    for server in harness.servers(args):
        figures = results.get(server, args.clients)
        table.add(
            server, figures.streams, len(figures.chunk_ms), figures.chunk(50), figures.chunk(99),
            ratio(figures.chunk(50), base.chunk(50)), ratio(figures.chunk(99), base.chunk(99)),
            "p50 <= 1 ms, p99 <= 10 ms" if server == "nora" else "",
        )
    harness.report([table], json_path=args.json, meta=harness.meta(args))


if __name__ == "__main__":
    main()
