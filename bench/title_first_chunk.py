"""Measurement 7 (title part): a conversation's first message, with and without the title call.

A first message in an untitled conversation also asks the model for a title, concurrently
with the reply; a titled conversation does not. One client sends first messages one after
another, alternating the two kinds, and the added time to first chunk of each kind is
reported as a median over at least 30 messages per run. (The classifier part of
measurement 7 is bench/safety_classifier.py.)

    python -m bench.title_first_chunk
    python -m bench.title_first_chunk --smoke
"""

import argparse
import asyncio
import statistics

from bench import harness
from bench.compare import Provider, Results, Session, alternate, warm_up
from bench.sse import Connection, Figures, Stream


async def first_messages(session: Session, *, pairs: int) -> tuple[list[Stream], list[Stream]]:
    titled = harness.conversations_make(user_id=session.user_ids[0], count=pairs, titled=True)
    untitled = harness.conversations_make(user_id=session.user_ids[0], count=pairs, titled=False)
    with_title: list[Stream] = []
    without_title: list[Stream] = []
    connection = Connection(session.port)
    try:
        for index in range(pairs):
            for conversation, records in ((untitled[index], with_title), (titled[index], without_title)):
                record = Stream()
                await connection.stream(
                    path=f"/chats/{conversation}/message", token=session.tokens[0],
                    message="I have been feeling tired and a bit queasy this week, is that normal?", record=record,
                )
                records.append(record)
                # The title is saved after the reply's first chunk; let it land before the next message.
                await asyncio.sleep(0.15)
    finally:
        connection.close()
    return with_title, without_title


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    harness.common_arguments(parser)
    parser.add_argument("--messages", type=int, default=40, help="of each kind per run (>= 30)")
    args = parser.parse_args(argv)
    if args.smoke:
        args.messages, args.runs = 2, 1

    def step(session: Session, results: Results) -> None:
        warm_up(session, clients=1, streams=1 if args.smoke else 3, smoke=args.smoke)
        with_title, without_title = asyncio.run(first_messages(session, pairs=args.messages))
        for key, records in (("with", with_title), ("without", without_title)):
            figures = Figures.of(records)
            results.add(session.server, key, figures)
            results.note(session.server, f"median_{key}", statistics.median(figures.ttfc_ms or [float("nan")]))

    provider = Provider(first_token_ms=100.0, token_interval_ms=20.0, tokens=40)
    results = alternate(args, provider=provider, clients=1, step=step, servers=["nora"])
    table = harness.Table(
        "First message: added time to first chunk with and without the title call (ms)",
        ["title call", "messages", "errors", "median (per run)", "median", "p99"],
    )
    for key in ("with", "without"):
        figures = results.get("nora", key)
        table.add(
            key, figures.streams, figures.errors, " ".join(f"{v:.2f}" for v in results.noted("nora", f"median_{key}")),
            figures.ttfc(50), figures.ttfc(99),
        )
    difference = results.get("nora", "with").ttfc(50) - results.get("nora", "without").ttfc(50)
    summary = harness.Table("Title call cost", ["medians differ by (ms)", "target"])
    summary.add(difference, "<= 2 ms")
    harness.report([table, summary], json_path=args.json, meta=harness.meta(args))


if __name__ == "__main__":
    main()
