"""Each benchmark's --smoke run: a few seconds at tiny sizes, so the suite in bench/ cannot rot.

They start real processes (daphne, the fakes, the FastAPI baseline when it is installed)
on the local PostgreSQL and Redis, in a database of their own (nora_bench_smoke). The
figures are not checked, only that each printed its table.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SMOKE_SECONDS = 120

BENCHMARKS = [
    "bench.sse_first_chunk",
    "bench.sse_chunk_overhead",
    "bench.sse_cpu",
    "bench.sse_capacity",
    "bench.rest_scale",
    "bench.voice_latency",
    "bench.title_first_chunk",
    "bench.safety_classifier",
    "bench.turn_instructions",
]

pytestmark = [
    pytest.mark.skipif(not shutil.which("taskset"), reason="the benchmarks pin processes with taskset"),
    pytest.mark.skipif(
        not os.environ.get("DATABASE_URL", "").startswith("postgres"),
        reason="the benchmarks run on PostgreSQL and Redis (make test provides them)",
    ),
]


@pytest.mark.parametrize("module", BENCHMARKS)
def test_smoke_run_prints_its_table(module: str) -> None:
    """The benchmark's --smoke mode exits cleanly and prints a table."""
    if not (ROOT / (module.replace(".", "/") + ".py")).exists():
        pytest.skip(f"{module} is not in this tree")
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "PYTEST_"))}
    env["PYTHONPATH"] = str(ROOT)
    result = subprocess.run(
        [sys.executable, "-m", module, "--smoke"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=SMOKE_SECONDS,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "## " in result.stdout and "|---" in result.stdout, result.stdout[-3000:]
