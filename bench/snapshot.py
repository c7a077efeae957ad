"""A copy of the committed tree for the benchmarks to run, away from edits in progress.

Other engineers edit the work tree while benchmarks run; figures must belong to one commit.

    python -m bench.snapshot /tmp/nora-bench-tree          # HEAD
    python -m bench.snapshot /tmp/nora-bench-tree --commit abc1234
    python -m bench.sse_first_chunk --tree /tmp/nora-bench-tree
"""

import argparse
import shutil
import subprocess
from pathlib import Path

from bench.harness import ROOT


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", type=Path)
    parser.add_argument("--commit", default="HEAD")
    args = parser.parse_args(argv)
    commit = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", args.commit], capture_output=True, text=True, check=True
    ).stdout.strip()
    if args.directory.exists():
        shutil.rmtree(args.directory)
    args.directory.mkdir(parents=True)
    archive = subprocess.Popen(["git", "-C", str(ROOT), "archive", commit], stdout=subprocess.PIPE)
    subprocess.run(["tar", "-x", "-C", str(args.directory)], stdin=archive.stdout, check=True)
    archive.wait()
    (args.directory / ".bench-commit").write_text(commit + "\n")
    print(f"{args.directory}: commit {commit}")


if __name__ == "__main__":
    main()
