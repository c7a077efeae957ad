"""py-spy on the server under load, summarised as the functions that hold the CPU.

`profiled(process, seconds)` runs `py-spy record` (raw collapsed stacks, idle frames left
out) on core 1 while the caller's load runs, and `summary` turns the stacks into the
top functions by own time and by total time, as percentages of the samples.

    python -m bench.profile /tmp/stacks.txt      # summarise a recorded file
"""

import argparse
import collections
import contextlib
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

from bench import harness

PY_SPY = harness.BIN / "py-spy"


@contextlib.contextmanager
def profiled(
    process: harness.Process, *, output: Path, seconds: float, rate: int = 200, delay: float = 0.0
) -> Iterator[None]:
    """Record the process for `seconds`, starting `delay` seconds into the block, without pausing it.

    Only the thread holding the GIL is sampled (`--gil`): the profile is of CPU, not of waits.
    """
    command = [
        "taskset", "-c", str(harness.LOAD_CORE), str(PY_SPY), "record", "--pid", str(process.pid),
        "--format", "raw", "--output", str(output), "--duration", str(int(seconds)), "--rate", str(rate),
        "--nonblocking", "--gil",
    ]
    spies: list[subprocess.Popen] = []
    timer = threading.Timer(
        delay, lambda: spies.append(subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))
    )
    timer.start()
    try:
        yield
    finally:
        timer.join()
        for spy in spies:
            try:
                spy.wait(timeout=seconds + 30)
            except subprocess.TimeoutExpired:
                spy.terminate()
                spy.wait()


def summary(path: Path, *, top: int = 25, frame_filter: str = "") -> str:
    own: collections.Counter[str] = collections.Counter()
    total: collections.Counter[str] = collections.Counter()
    samples = 0
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [frame for frame in stack.split(";") if not frame.startswith("thread ")]
        if not frames:
            continue
        samples += count
        own[_short(frames[-1])] += count
        for frame in set(_short(frame) for frame in frames):
            total[frame] += count
    lines = [f"{samples} samples", "", "own%   function"]
    lines += [f"{100 * n / samples:5.1f}  {name}" for name, n in own.most_common(top)]
    lines += ["", "total% function"]
    lines += [
        f"{100 * n / samples:5.1f}  {name}" for name, n in total.most_common(top * 3) if frame_filter in name
    ][:top]
    return "\n".join(lines)


def _short(frame: str) -> str:
    """`function (path/to/module.py:123)` -> `function (module.py)`, site-packages trimmed."""
    name, _, where = frame.partition(" (")
    where = where.rstrip(")")
    path = where.rsplit(":", 1)[0]
    if "site-packages/" in path:
        path = path.split("site-packages/", 1)[1]
    elif "/lib/python3" in path:
        path = "stdlib/" + path.rsplit("/", 1)[-1]
    else:
        path = "/".join(path.split("/")[-2:])
    return f"{name} ({path})"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="Summarise py-spy raw stacks.")
    parser.add_argument("path", type=Path)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--filter", default="")
    args = parser.parse_args(argv)
    print(summary(args.path, top=args.top, frame_filter=args.filter))


if __name__ == "__main__":
    main()
