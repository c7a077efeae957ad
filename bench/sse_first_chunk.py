"""Measurement 1: SSE time to first chunk added by the server, at 1 and at 50 clients.

Each client sends messages back to back, each to a fresh titled conversation (no title
call); the fake sends 40 tokens, one every 20 ms, after 100 ms. Added = time to first chunk
seen by the client minus the fake's own time from response headers to first token.

    python -m bench.sse_first_chunk            # 3 runs of each server, 20 s per load level
    python -m bench.sse_first_chunk --smoke    # a few seconds, for CI
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
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 50])
    parser.add_argument("--seconds", type=float, default=20.0, help="per load level and run")
    start_spread_argument(parser)
    args = parser.parse_args(argv)
    if args.smoke:
        args.clients, args.seconds, args.runs, args.start_spread_seconds = [1, 4], 0.5, 1, 0.2
    clients_max = max(args.clients)

    def step(session: Session, results: Results) -> None:
        warm_up(session, clients=min(clients_max, 10), streams=1 if args.smoke else 3, smoke=args.smoke)
        for clients in args.clients:
            per_client = closed_loop_streams_per_client(seconds=args.seconds, start_spread=args.start_spread_seconds)
            target = session.target(streams_per_client=per_client)
            records = asyncio.run(closed_loop(target, clients=clients, seconds=args.seconds, max_streams=100_000,
                                               start_spread=args.start_spread_seconds))
            results.add(session.server, clients, Figures.of(records))

    results = alternate(args, provider=Provider(), clients=clients_max, step=step, servers=harness.servers(args))
    table = harness.Table(
        "SSE time to first chunk, added (ms)" + start_spread_note(args.start_spread_seconds),
        ["clients", "server", "streams", "errors", "p50", "p99", "p50 / baseline", "target"],
    )
    for clients in args.clients:
        base = results.get("baseline", clients)
        for server in harness.servers(args):
            figures = results.get(server, clients)
            goal = ""
            if server == "nora":
                goal = "p50 <= 10 ms" if clients == 1 else f"p50 <= {1.2 * base.ttfc(50) + 1:.2f} ms"
            table.add(
                clients, server, figures.streams, figures.errors, figures.ttfc(50), figures.ttfc(99),
                ratio(figures.ttfc(50), base.ttfc(50)), goal,
            )
    harness.report([table], json_path=args.json, meta=harness.meta(args))


if __name__ == "__main__":
    main()
