"""Instructions per turn: the CPU work one message and its streamed reply cost inside Nora, counted.

Timings on a shared two-core machine move by a tenth between runs with the code unchanged, so
a change worth 1 or 2% of the CPU cannot be told from noise by them. Instruction counts can:
valgrind's callgrind repeats them within 0.5%. The driver (bench/turn_driver.py) sends each
turn through Nora's ASGI application in its own process, against the stamping fake on the
other core (40 tokens unless `--tokens`), and the count over the counted turns is divided by
their number; two counts that differ only in `--tokens` give the cost of one chunk.
Daphne and the network are left out: the figure is Nora's code and what it calls (Django,
the SDK, aiohttp, psycopg, redis-py), all threads together. It compares trees; it is not one
of the issue's measurements. Needs valgrind (Debian's package).

    python -m bench.turn_instructions --tree /tmp/nora-bench-tree
    python -m bench.turn_instructions --tree /tmp/nora-bench-tree --tokens 80
    python -m bench.turn_instructions --smoke      # the driver without valgrind, 2 turns
"""

import argparse
import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from bench import harness

WARM_TURNS = 15
SUMMARY = re.compile(rb"^summary: (\d+)$", re.MULTILINE)


def turns_count(*, tree: Path, plan: dict, env: dict[str, str], valgrind: bool) -> tuple[int | None, float]:
    """Instructions over the counted turns (None without valgrind), and their wall time."""
    with tempfile.TemporaryDirectory(prefix="nora-instructions-") as directory:
        plan_path = Path(directory) / "plan.json"
        plan_path.write_text(json.dumps({**plan, "callgrind": valgrind}))
        command = [harness.PYTHON, str(harness.ROOT / "bench" / "turn_driver.py"), str(plan_path)]
        if valgrind:
            command = [
                "valgrind",
                "--tool=callgrind",
                f"--callgrind-out-file={directory}/callgrind.%p",
                *command,
            ]
        result = subprocess.run(
            ["taskset", "-c", harness.SERVER_CORE, *command], cwd=tree, env=env, capture_output=True, timeout=1800
        )
        if result.returncode != 0:
            raise RuntimeError(f"the driver failed:\n{result.stderr.decode()[-3000:]}")
        seconds = json.loads(result.stdout.decode().strip().splitlines()[-1])["seconds"]
        if not valgrind:
            return None, seconds
        # The driver dumps once, after the counted turns: the only file with a part number.
        (dump,) = Path(directory).glob("callgrind.*.1")
        return int(SUMMARY.search(dump.read_bytes()).group(1)), seconds


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="the driver without valgrind, 2 turns, for CI")
    parser.add_argument("--runs", type=int, default=1, help="counts repeat within 0.5%%; more runs only confirm it")
    parser.add_argument("--turns", type=int, default=20, help="counted turns, after 15 to warm up")
    parser.add_argument(
        "--tokens", type=int, default=40, help="of each reply; two counts that differ only here give the cost per chunk"
    )
    parser.add_argument("--tree", type=Path, default=harness.ROOT, help="the Nora source tree (default: this one)")
    parser.add_argument("--json", default=None, help="also write the figures to this file")
    parser.add_argument("--env", action="append", default=[], metavar="NAME=VALUE", help="extra setting for Nora")
    args = parser.parse_args(argv)
    warm = WARM_TURNS
    if args.smoke:
        args.turns, args.runs, warm = 2, 1, 1
    valgrind = not args.smoke
    if valgrind and not shutil.which("valgrind"):
        parser.error("valgrind is not installed (apt-get install valgrind)")
    harness.setup(args)

    fake = harness.fake_anthropic_start(first_token_ms=5.0, token_interval_ms=1.0, tokens=args.tokens)
    env = harness.nora_env(tree=args.tree, anthropic_url=fake.url, extra=harness.extra_env(args.env))
    (user,) = harness.users_make(prefix="instructions", count=1)
    token = harness.access_token(user)
    counts: list[int | None] = []
    try:
        for _ in range(args.runs):
            conversations = harness.conversations_make(user_id=user, count=warm + args.turns)
            plan = {"token": token, "warm": warm, "conversations": conversations}
            instructions, seconds = turns_count(tree=args.tree, plan=plan, env=env, valgrind=valgrind)
            counts.append(instructions)
            counted = f", {instructions:,} instructions" if instructions is not None else ""
            print(f"  {args.turns} turns in {seconds:.1f} s{counted}")
    finally:
        fake.stop()
        harness.load_data_forget(prefix="instructions")

    table = harness.Table(
        f"Instructions per turn (a message and its {args.tokens}-token reply, in-process)",
        ["tree", "turns", "per run (millions)", "per turn (millions)"],
    )
    per_turn = [count / args.turns / 1e6 for count in counts if count is not None]
    meta = harness.meta(args, turns=args.turns, runs=args.runs, tokens=args.tokens)
    table.add(
        meta["commit"],
        args.turns * args.runs,
        ", ".join(f"{value:.3f}" for value in per_turn) or "-",
        sum(per_turn) / len(per_turn) if per_turn else float("nan"),
    )
    harness.report([table], json_path=args.json, meta=meta)


if __name__ == "__main__":
    main()
