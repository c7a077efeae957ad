"""Measurement 3: server CPU per 40-token stream, and the most new streams per second one process sustains.

CPU: 10 clients send messages back to back; the server's user+system CPU over the run
(less its idle rate) divided by the streams completed. Rate: new streams arrive (Poisson)
at a fixed rate for a few seconds, stepping the rate up by 15% from half the rate the CPU
figure allows (or down by 30% until one holds); a rate is sustained when every stream completes without error and the
p99 added time to first chunk stays <= 100 ms. The highest sustained rate is reported.

    python -m bench.sse_cpu
    python -m bench.sse_cpu --smoke
"""

import argparse
import asyncio
import time

from bench import harness
from bench.compare import Provider, Results, Session, alternate, ratio, warm_up
from bench.sse import Figures, closed_loop, closed_loop_streams_per_client, open_loop

SUSTAINED_P99_MS = 100.0


def cpu_per_stream(session: Session, *, clients: int, seconds: float, idle_seconds: float = 1.0) -> tuple[float, int]:
    process = session.process
    idle_start, idle_cpu = time.monotonic(), process.cpu_seconds()
    time.sleep(idle_seconds)
    idle_rate = (process.cpu_seconds() - idle_cpu) / (time.monotonic() - idle_start)
    target = session.target(streams_per_client=closed_loop_streams_per_client(seconds=seconds))
    start, cpu = time.monotonic(), process.cpu_seconds()
    records = asyncio.run(closed_loop(target, clients=clients, seconds=seconds, max_streams=100_000))
    harness.settle(process, seconds=0.3)
    spent = process.cpu_seconds() - cpu - idle_rate * (time.monotonic() - start)
    figures = Figures.of(records)
    return spent / max(figures.streams, 1), figures.streams


def rate_sustained(session: Session, *, rate: float, seconds: float) -> tuple[bool, Figures]:
    per_user = int(rate * seconds / len(session.user_ids)) + 5
    target = session.target(streams_per_client=per_user)
    records = asyncio.run(open_loop(target, rate=rate, seconds=seconds, drain_seconds=30))
    harness.settle(session.process, seconds=0.3)
    figures = Figures.of(records)
    ok = figures.errors == 0 and figures.streams > 0 and figures.ttfc(99) <= SUSTAINED_P99_MS
    return ok, figures


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    harness.common_arguments(parser)
    parser.add_argument("--clients", type=int, default=10, help="for the CPU figure")
    parser.add_argument("--seconds", type=float, default=15.0, help="for the CPU figure")
    parser.add_argument("--step-seconds", type=float, default=8.0, help="per rate step")
    parser.add_argument("--max-steps", type=int, default=10)
    args = parser.parse_args(argv)
    if args.smoke:
        args.clients, args.seconds, args.step_seconds, args.max_steps, args.runs = 2, 0.5, 0.5, 1, 1

    def step(session: Session, results: Results) -> None:
        warm_up(session, clients=args.clients, streams=1 if args.smoke else 3, smoke=args.smoke)
        cpu, streams = cpu_per_stream(
            session, clients=args.clients, seconds=args.seconds, idle_seconds=0.2 if args.smoke else 1.0
        )
        results.note(session.server, "cpu_ms", cpu * 1000)
        results.note(session.server, "cpu_streams", streams)
        # Up by 15% from half what the CPU allows while rates hold; down by 30% until one does.
        rate = max(1.0, 0.5 / max(cpu, 1e-4))
        best = 0.0
        direction = 0
        for _ in range(args.max_steps):
            ok, figures = rate_sustained(session, rate=rate, seconds=args.step_seconds)
            print(f"  {session.server}: {rate:.1f}/s {'sustained' if ok else 'not sustained'} "
                  f"(p99 added ttfc {figures.ttfc(99):.1f} ms, errors {figures.errors})", flush=True)
            if ok:
                best = max(best, rate)
                if direction < 0:
                    break
                direction, rate = 1, rate * 1.15
            else:
                if direction > 0 or rate <= 1.0:
                    break
                direction, rate = -1, max(1.0, rate * 0.7)
        results.note(session.server, "rate", best)

    servers = harness.servers(args)
    results = alternate(args, provider=Provider(), clients=max(args.clients, 20), step=step, servers=servers)
    table = harness.Table(
        "SSE server CPU per 40-token stream, and new streams per second sustained",
        ["server", "streams", "CPU ms/stream (per run)", "CPU ms/stream", "/ baseline",
         "streams/s (per run)", "streams/s", "/ baseline", "target"],
    )

    def mean(values):
        return sum(values) / len(values) if values else float("nan")

    for server in servers:
        cpu_runs, rate_runs = results.noted(server, "cpu_ms"), results.noted(server, "rate")
        table.add(
            server, int(sum(results.noted(server, "cpu_streams"))), " ".join(f"{v:.1f}" for v in cpu_runs),
            mean(cpu_runs), ratio(mean(cpu_runs), mean(results.noted("baseline", "cpu_ms"))),
            " ".join(f"{v:.0f}" for v in rate_runs), mean(rate_runs),
            ratio(mean(rate_runs), mean(results.noted("baseline", "rate"))),
            "CPU <= 1.5x, rate >= 0.67x baseline" if server == "nora" else "",
        )
    harness.report([table], json_path=args.json, meta=harness.meta(args))


if __name__ == "__main__":
    main()
