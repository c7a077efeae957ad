"""Measurement 4: SSE capacity: open streams held while new streams keep arriving.

For each level N (a fresh server each time): N streams are opened at --open-rate per second
and held (the fake sends a token every 100 ms of a long reply); then new streams arrive at
10 per second for --probe-seconds. The level holds when the new streams' p99 added time to
first chunk is <= 100 ms and nothing failed. Memory per open stream is the RSS growth from
the warmed-up idle server to N open streams, divided by N. The server's CPU while the new
streams arrive, as a share of its one core, shows how far a level is from what the core has.

    python -m bench.sse_capacity --levels 250 500 750 1000
    python -m bench.sse_capacity --smoke
"""

import argparse
import asyncio
import time

from bench import harness
from bench.compare import Provider, Results, Session, alternate, warm_up
from bench.sse import Figures, Stream, _one, open_loop

HOLDS_P99_MS = 100.0


async def level_run(session: Session, *, held: int, open_rate: float, probe_rate: float, probe_seconds: float,
                    idle_rss: int) -> tuple[Figures, Figures, float, float]:
    users = len(session.user_ids)
    target = session.target(streams_per_client=(held + int(probe_rate * probe_seconds)) // users + 3)
    records: list[Stream] = []
    tasks = []
    start = time.monotonic()
    for index in range(held):
        await asyncio.sleep(max(0.0, start + index / open_rate - time.monotonic()))
        record = Stream()
        records.append(record)
        client = index % users
        tasks.append(asyncio.create_task(_one(target, target.path(client), target.tokens[client], record)))
    # Every held stream has had its first chunk (or failed) before the memory reading.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and any(
        r.first_chunk_us is None and not r.error and r.ended_us == 0 for r in records
    ):
        await asyncio.sleep(0.2)
    await asyncio.sleep(1.0)
    held_open = sum(1 for r in records if r.first_chunk_us is not None and r.ended_us == 0)
    kib_per_stream = (session.process.rss_kib() - idle_rss) / max(held_open, 1)
    cpu_before, probes_started = session.process.cpu_seconds(), time.monotonic()
    probes = await open_loop(target, rate=probe_rate, seconds=probe_seconds, drain_seconds=0, first_chunk_only=True)
    cpu_share = (session.process.cpu_seconds() - cpu_before) / (time.monotonic() - probes_started)
    held_figures = Figures.of_open(records)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return held_figures, Figures.of_open(probes), kib_per_stream, cpu_share


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    harness.common_arguments(parser)
    parser.add_argument("--levels", type=int, nargs="+", default=[250, 500, 750, 1000])
    parser.add_argument("--open-rate", type=float, default=50.0, help="held streams opened per second")
    parser.add_argument("--probe-rate", type=float, default=10.0)
    parser.add_argument("--probe-seconds", type=float, default=10.0)
    parser.add_argument("--tokens", type=int, default=600, help="of each held reply, one per 100 ms")
    args = parser.parse_args(argv)
    if args.smoke:
        args.levels, args.open_rate, args.probe_seconds, args.tokens, args.runs = [5], 50.0, 1.0, 30, 1
    servers = harness.servers(args)

    def step(session: Session, results: Results) -> None:
        for level in args.levels:
            process = session.process
            warm_up(session, clients=2, streams=2, smoke=args.smoke)
            idle_rss = process.rss_kib()
            held, probes, kib, cpu_share = asyncio.run(
                level_run(session, held=level, open_rate=args.open_rate, probe_rate=args.probe_rate,
                          probe_seconds=args.probe_seconds, idle_rss=idle_rss)
            )
            holds = probes.errors == 0 and held.errors == 0 and probes.ttfc(99) <= HOLDS_P99_MS
            print(f"  {session.server} N={level}: held {held.streams} open ({held.errors} failed), probes p99 "
                  f"{probes.ttfc(99):.1f} ms ({probes.errors} failed), {kib:.0f} KiB/stream, "
                  f"CPU {cpu_share:.0%} of a core: {'holds' if holds else 'does not hold'}", flush=True)
            results.add(session.server, level, probes)
            results.note(session.server, f"kib{level}", kib)
            results.note(session.server, f"cpu{level}", cpu_share * 100)
            results.note(session.server, f"held{level}", held.streams)
            results.note(session.server, f"holds{level}", 1.0 if holds else 0.0)
            if not holds:
                break  # this run's knee is found; higher levels would not hold either
            # A fresh process per level: Nora's replies outlive their clients.
            if level != args.levels[-1]:
                process.stop()
                session.process = harness_restart(session, args)

    restart = {}

    def harness_restart(session: Session, args) -> harness.Process:
        from bench.compare import server_start
        return server_start(session.server, args=args, anthropic_url=restart["url"])

    provider = Provider(first_token_ms=100.0, token_interval_ms=100.0, tokens=args.tokens)
    results = alternate(args, provider=provider, clients=50, step=step, servers=servers, on_fake=restart.update)
    table = harness.Table(
        "SSE capacity: new streams at 10/s while N streams are held open",
        ["server", "held N", "held open (per run)", "probes", "probe p50 ms", "probe p99 ms", "holds (runs)",
         "KiB per open stream", "CPU while probed (% of a core, per run)"],
    )
    for server in servers:
        for level in args.levels:
            probes = results.get(server, level)
            holds = results.noted(server, f"holds{level}")
            if not holds:
                continue
            kib = results.noted(server, f"kib{level}")
            table.add(
                server, level, " ".join(str(int(v)) for v in results.noted(server, f"held{level}")), probes.streams,
                probes.ttfc(50), probes.ttfc(99), f"{int(sum(holds))}/{len(holds)}", sum(kib) / len(kib),
                " ".join(f"{v:.0f}" for v in results.noted(server, f"cpu{level}")),
            )
    summary = harness.Table("SSE capacity summary", ["server", "most open streams that held", "target"])
    for server in servers:
        held_levels = [
            level for level in args.levels
            if len(results.noted(server, f"holds{level}")) == args.runs and all(results.noted(server, f"holds{level}"))
        ]
        summary.add(server, max(held_levels, default=0),
                    ">= 500 and >= baseline; <= 200 KiB per stream" if server == "nora" else "")
    harness.report([table, summary], json_path=args.json, meta=harness.meta(args))


if __name__ == "__main__":
    main()
