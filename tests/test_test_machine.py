"""`scripts/test-machine`, which `make test` runs first: what is missing stops the run at once,
with one line saying what and how to get it."""

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "test-machine"
# What the script itself runs, linked into a PATH of the test's making.
TOOLS = ["bash", "env", "sort", "tr", "sed", "awk", "head", "seq", "sleep", "pg_lsclusters", "redis-cli"]
DRIVEN = ["espeak-ng", "sox", "chromium", "docker-compose", "redis-server", "psql", "pg_isready", "taskset"]
SERVICES = {"DATABASE_URL": "postgres://postgres@127.0.0.1:5432/postgres", "REDIS_URL": "redis://127.0.0.1:6379/0"}


def machine(tmp_path: Path, *, without: set[str], uid: int = 1000) -> Path:
    """A PATH with every program the suite drives except `without`, as a user who is not root,
    has no sudo, and has an apt-get that must not be reached."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in {*TOOLS, *DRIVEN} - without:
        found = shutil.which(name)
        assert found, f"{name} is missing here, though make test installs it"
        (bin_dir / name).symlink_to(found)
    (bin_dir / "python3").symlink_to(sys.executable)
    (bin_dir / "id").write_text(f"#!/bin/sh\necho {uid}\n")
    (bin_dir / "apt-get").write_text(f"#!/bin/sh\ntouch {tmp_path}/apt-get-ran\n")
    for stub in ("id", "apt-get"):
        (bin_dir / stub).chmod(0o755)
    return bin_dir


def run(bin_dir: Path, **env: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, **SERVICES, "PATH": str(bin_dir), **env}
    return subprocess.run([str(SCRIPT)], env=environment, capture_output=True, text=True, timeout=60)


def test_a_missing_program_it_cannot_install_stops_with_one_line(tmp_path):
    result = run(machine(tmp_path, without={"espeak-ng", "sox"}))
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "make test: missing espeak-ng sox: run 'sudo apt-get install -y espeak-ng sox', then make test again."
    ]
    assert not (tmp_path / "apt-get-ran").exists()


def test_a_database_it_cannot_start_stops_with_one_line(tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.2", 0))
        port = sock.getsockname()[1]
    # Bound and closed: nothing listens there.
    result = run(machine(tmp_path, without=set()), DATABASE_URL=f"postgres://postgres@127.0.0.2:{port}/postgres")
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"make test: PostgreSQL at 127.0.0.2:{port} does not answer; start it, or point DATABASE_URL at one that does."
    ]


def test_a_server_that_refuses_the_suite_stops_with_one_line(tmp_path):
    """PostgreSQL answers, but will not let this role in: every test would fail, so none runs."""
    result = run(machine(tmp_path, without=set()), DATABASE_URL="postgres://no-such-role@127.0.0.1:5432/postgres")
    assert result.returncode == 1
    [line] = result.stderr.splitlines()
    assert line.startswith("make test: PostgreSQL at 127.0.0.1:5432 refused the suite (")
    assert '"no-such-role"' in line


def test_a_ready_machine_passes_quietly(tmp_path):
    """The machine this suite runs on is ready: make test got it there."""
    result = run(machine(tmp_path, without=set()))
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
