"""Speed of the safety triage on one core: messages per second and latency per message, per layer.

Each offline layer (the phrase rules, the measurements) is timed alone, and all of them together
as a turn runs them. Two workloads, both made of the labelled sets' messages:
- as typed: each labelled message on its own (most are under 150 characters);
- 1,000 characters: labelled messages joined at random and cut to exactly 1,000
  characters, the long rambling message the p99 target is about.
The 1,000-character workload is timed twice: on the first pass, when the classifier's
per-word caches start empty as in a fresh process, and once they are warm.

Each message is timed on the wall clock and on the thread's CPU clock. They agree on an
idle machine; on a busy one the wall clock also counts time spent waiting for the CPU,
which says more about the neighbours than about the classifier. The classifier is one
thread, so it uses one core; --core pins it to a given one.

    python bench/safety_classifier.py            # 5,000 long messages, a few seconds
    python bench/safety_classifier.py --smoke    # about a second, for CI
"""

import argparse
import os
import random
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

# Runnable as a plain script as well as with -m: the repository root holds the packages.
ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import harness  # noqa: E402
from chats.safety.classifier import LAYERS, message_classify  # noqa: E402
from chats.safety.evaluation import PARTS, corpus_load, labelled_set_load  # noqa: E402

LONG_MESSAGE_CHARS = 1_000
# All offline layers together, on one core.
P99_TARGET_US = 5_000
RATE_TARGET = 1_000
ALL = "all layers"


def long_messages_build(*, texts: list[str], count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    messages = []
    for _ in range(count):
        parts: list[str] = []
        length = 0
        while length < LONG_MESSAGE_CHARS:
            parts.append(rng.choice(texts))
            length += len(parts[-1]) + 1
        messages.append(" ".join(parts)[:LONG_MESSAGE_CHARS])
    return messages


@dataclass
class Pass:
    name: str
    messages: list[str]
    wall_us: list[float] = field(default_factory=list)
    cpu_us: list[float] = field(default_factory=list)

    @property
    def rate(self) -> float:
        """Messages per second of CPU time."""
        return len(self.cpu_us) / (sum(self.cpu_us) / 1_000_000)


def pass_time(*, name: str, messages: list[str], layers: tuple[str, ...] = LAYERS) -> Pass:
    timed = Pass(name=name, messages=messages)
    for text in messages:
        wall_started, cpu_started = time.perf_counter_ns(), time.thread_time_ns()
        message_classify(text=text, layers=layers)
        timed.cpu_us.append((time.thread_time_ns() - cpu_started) / 1_000)
        timed.wall_us.append((time.perf_counter_ns() - wall_started) / 1_000)
    return timed


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="a tiny run of about a second, for CI")
    parser.add_argument("--messages", type=int, default=5_000, help="1,000-character messages per pass")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--core", type=int, default=None, help="pin to this CPU (default: let the kernel choose)")
    parser.add_argument("--json", default=None, help="also write the figures to this file")
    args = parser.parse_args(argv)
    count = 200 if args.smoke else args.messages
    if args.core is not None:
        os.sched_setaffinity(0, {args.core})

    texts = [message.text for part in PARTS for message in labelled_set_load(part=part)]
    texts += [message.text for message in corpus_load()]
    long_messages = long_messages_build(texts=texts, count=count, seed=args.seed)
    typed = texts * max(1, (count * 4) // len(texts))

    first = pass_time(name=f"{ALL}, 1,000 chars, first pass", messages=long_messages)
    passes = [first]
    for layer, layers in [*((name, (name,)) for name in LAYERS), (ALL, LAYERS)]:
        passes.append(pass_time(name=f"{layer}, 1,000 chars, warm", messages=long_messages, layers=layers))
        passes.append(pass_time(name=f"{layer}, as typed", messages=typed, layers=layers))
    warm, as_typed = passes[-2], passes[-1]

    table = harness.Table(
        title="Safety triage, one thread",
        columns=[
            "layer and workload",
            "messages",
            "mean chars",
            "msg/s (CPU)",
            "p50 us CPU",
            "p99 us CPU",
            "p50 us wall",
            "p99 us wall",
            "max us wall",
        ],
    )
    for timed in passes:
        table.add(
            timed.name,
            len(timed.messages),
            round(sum(map(len, timed.messages)) / len(timed.messages)),
            round(timed.rate),
            harness.percentile(timed.cpu_us, 50),
            harness.percentile(timed.cpu_us, 99),
            harness.percentile(timed.wall_us, 50),
            harness.percentile(timed.wall_us, 99),
            max(timed.wall_us),
        )
    targets = harness.Table(
        title="Targets (all offline layers together)", columns=["target", "CPU", "wall", "met on CPU"]
    )
    for timed in (warm, first):
        cpu, wall = harness.percentile(timed.cpu_us, 99), harness.percentile(timed.wall_us, 99)
        targets.add(f"p99 <= {P99_TARGET_US:,} us, {timed.name}", cpu, wall, "yes" if cpu <= P99_TARGET_US else "NO")
    targets.add(
        f">= {RATE_TARGET:,} msg/s, as typed",
        round(as_typed.rate),
        "-",
        "yes" if as_typed.rate >= RATE_TARGET else "NO",
    )
    harness.report(
        [table, targets],
        json_path=args.json,
        meta={"command": " ".join(sys.argv), "core": args.core, "cpus": os.cpu_count(), "seed": args.seed},
    )


if __name__ == "__main__":
    main()
