"""What every benchmark shares: the services, the processes, the fixtures, the numbers.

One server process (daphne for Nora, uvicorn for the baseline) runs pinned to core 0 with
`taskset -c 0`; the fakes and the load generator run on core 1. PostgreSQL and Redis are the
machine's own. Everything binds 127.0.0.1 and every load loop is bounded in count and time.
"""

import argparse
import contextlib
import hashlib
import json
import math
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import jwt
import psycopg

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
BIN = Path(PYTHON).parent
SERVER_CORE = "0"
LOAD_CORE = 1
HOST = "127.0.0.1"
SECRET_KEY = "bench-only-secret-key-not-for-production-0123456789"
FAKE_API_KEY = "sk-ant-bench-fake"
STARTUP_SECONDS = 60.0
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_KIB = os.sysconf("SC_PAGE_SIZE") // 1024

# Every limit that could refuse a benchmark's traffic, raised for the run.
LIMITS_RAISED = {
    "NORA_RATE_MESSAGES_PER_MINUTE": "1000000000",
    "NORA_QUOTA_MESSAGES_PER_DAY": "1000000000",
    "NORA_QUOTA_TOKENS_PER_DAY": "1000000000000",
    "NORA_AUTH_ADDRESS_ATTEMPTS": "1000000000",
    "NORA_AUTH_ACCOUNT_FAILURES": "1000000000",
    "JWT_ACCESS_MINUTES": "1440",
}


# The benchmarks' own database; smoke runs use another, so they never touch a loaded data set.
DATABASE = {"name": "nora_bench"}


def database_url(name: str | None = None) -> str:
    base = os.environ.get("BENCH_DATABASE_SERVER", "postgres://postgres@127.0.0.1:5432")
    return f"{base}/{name or DATABASE['name']}"


def redis_url() -> str:
    return os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/7")


# The machine may be shared: the benchmark's own processes get a higher scheduling priority
# (as root) so neighbours' work disturbs the figures less. 0 turns it off.
NICE = int(os.environ.get("BENCH_NICE", "-10"))


def pin_load_generator() -> None:
    """The load generator (this process) runs on the core the server does not, at NICE."""
    if hasattr(os, "sched_setaffinity") and os.cpu_count() and os.cpu_count() >= 2:
        os.sched_setaffinity(0, {LOAD_CORE})
    with contextlib.suppress(PermissionError, OSError):
        os.setpriority(os.PRIO_PROCESS, 0, NICE)



def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


# Processes ------------------------------------------------------------------------------


@dataclass
class Process:
    name: str
    popen: subprocess.Popen
    url: str
    log_path: Path

    @property
    def pid(self) -> int:
        return self.popen.pid

    def cpu_seconds(self) -> float:
        """User plus system CPU of the process, all its threads."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS

    def rss_kib(self) -> int:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return 0

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                # Nothing measured depends on a graceful exit; open streams would only delay it.
                self.popen.wait(timeout=2)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()


def _spawn(name: str, argv: Sequence[str], *, cwd: Path, env: dict[str, str], core: str | None) -> tuple[subprocess.Popen, Path]:
    log_path = Path(tempfile.mkstemp(prefix=f"bench-{name}-", suffix=".log")[1])
    # Children inherit this process's scheduling priority (see pin_load_generator).
    command = ["taskset", "-c", core, *argv] if core is not None else list(argv)
    with open(log_path, "wb") as log:
        popen = subprocess.Popen(command, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    return popen, log_path


def _wait_ready(process: Process, check) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.popen.poll() is not None:
            raise RuntimeError(f"{process.name} exited at startup:\n{process.output()[-3000:]}")
        with contextlib.suppress(Exception):
            if check():
                return
        time.sleep(0.05)
    process.stop()
    raise RuntimeError(f"{process.name} did not start in {STARTUP_SECONDS:.0f} s:\n{process.output()[-3000:]}")


def _http_ok(url: str) -> bool:
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=2) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        return sock.recv(64).startswith(b"HTTP/1.1 200")


def fake_anthropic_start(*, first_token_ms: float, token_interval_ms: float, tokens: int) -> Process:
    ready = Path(tempfile.mkstemp(prefix="bench-ready-")[1])
    ready.unlink()
    argv = [
        PYTHON, "-m", "bench.fakes", "anthropic", "--first-token-ms", str(first_token_ms),
        "--token-interval-ms", str(token_interval_ms), "--tokens", str(tokens), "--ready-file", str(ready),
    ]
    popen, log_path = _spawn("fake-anthropic", argv, cwd=ROOT, env=_fake_env(), core=str(LOAD_CORE))
    process = Process("fake-anthropic", popen, "", log_path)
    _wait_ready(process, ready.exists)
    process.url = ready.read_text()
    ready.unlink()
    return process


def fake_deepgram_start(*, result_latency_ms: float) -> Process:
    ready = Path(tempfile.mkstemp(prefix="bench-ready-")[1])
    ready.unlink()
    argv = [PYTHON, "-m", "bench.fakes", "deepgram", "--result-latency-ms", str(result_latency_ms), "--ready-file", str(ready)]
    popen, log_path = _spawn("fake-deepgram", argv, cwd=ROOT, env=_fake_env(), core=str(LOAD_CORE))
    process = Process("fake-deepgram", popen, "", log_path)
    _wait_ready(process, ready.exists)
    process.url = ready.read_text()
    ready.unlink()
    return process


def _fake_env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


def nora_env(*, tree: Path, anthropic_url: str = "", deepgram_url: str = "", extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {
        key: value for key, value in os.environ.items()
        if not key.startswith(("NORA_", "ANTHROPIC_", "DEEPGRAM_", "DJANGO_")) and key not in ("DEBUG", "DATABASE_URL", "REDIS_URL")
    }
    env.update(
        {
            "PYTHONPATH": str(tree),
            "DEBUG": "0",
            "SECRET_KEY": SECRET_KEY,
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DATABASE_URL": database_url(),
            "REDIS_URL": redis_url(),
            "LOG_LEVEL": "WARNING",
            "SECURE_SSL_REDIRECT": "0",
            "NORA_LLM_PROVIDER": "anthropic",
            "ANTHROPIC_API_KEY": FAKE_API_KEY,
            "ANTHROPIC_BASE_URL": anthropic_url,
            "NORA_LLM_RETRIES": "0",
            "NORA_STT_PROVIDER": "deepgram" if deepgram_url else "offline",
            "DEEPGRAM_API_KEY": "bench-deepgram-key" if deepgram_url else "",
            "DEEPGRAM_BASE_URL": deepgram_url,
            **LIMITS_RAISED,
        }
    )
    env.update(extra or {})
    return env


def nora_start(*, tree: Path, env: dict[str, str], name: str = "nora") -> Process:
    port = free_port()
    argv = [str(BIN / "daphne"), "--bind", HOST, "--port", str(port), "nora.asgi:application"]
    popen, log_path = _spawn(name, argv, cwd=tree, env=env, core=SERVER_CORE)
    process = Process(name, popen, f"http://{HOST}:{port}", log_path)
    _wait_ready(process, lambda: _http_ok(process.url))
    return process


def baseline_start(*, anthropic_url: str) -> Process:
    port = free_port()
    argv = [
        PYTHON, "-m", "uvicorn", "bench.baseline:app", "--host", HOST, "--port", str(port),
        "--no-access-log", "--log-level", "warning",
    ]
    env = {
        **os.environ, "PYTHONPATH": str(ROOT), "BENCH_DATABASE_URL": database_url(),
        "BENCH_SECRET_KEY": SECRET_KEY, "ANTHROPIC_BASE_URL": anthropic_url, "ANTHROPIC_API_KEY": FAKE_API_KEY,
    }
    popen, log_path = _spawn("baseline", argv, cwd=ROOT, env=env, core=SERVER_CORE)
    process = Process("baseline", popen, f"http://{HOST}:{port}", log_path)
    _wait_ready(process, lambda: _http_ok(process.url))
    return process


@contextlib.contextmanager
def running(process: Process) -> Iterator[Process]:
    try:
        yield process
    finally:
        process.stop()


def settle(process: Process, *, seconds: float = 0.5) -> None:
    """Wait until the server has been idle (no CPU spent) for a moment."""
    deadline = time.monotonic() + 10
    last = process.cpu_seconds()
    while time.monotonic() < deadline:
        time.sleep(seconds)
        now = process.cpu_seconds()
        if now - last <= 0.02 * seconds:
            return
        last = now


# The database ---------------------------------------------------------------------------


def setup(args: argparse.Namespace) -> None:
    """Every benchmark's start: pin this process, pick and prepare the database."""
    pin_load_generator()
    DATABASE["name"] = "nora_bench_smoke" if args.smoke else "nora_bench"
    database_prepare(tree=args.tree)


def database_prepare(*, tree: Path) -> None:
    """Create the benchmark database if it is missing and bring its schema up to date.

    `migrate` costs seconds of Django start-up, so it runs only when the tree's migrations
    (or the requirements, which bring third-party ones) differ from the last migrated.
    """
    name = DATABASE["name"]
    with psycopg.connect(database_url("postgres"), autocommit=True) as admin:
        if admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
            admin.execute(f'CREATE DATABASE "{name}"')
    digest = hashlib.sha256()
    for path in sorted([*Path(tree).glob("*/migrations/*.py"), Path(tree) / "requirements.txt"]):
        if path.exists():
            digest.update(str(path.relative_to(tree)).encode() + path.read_bytes())
    fingerprint = digest.hexdigest()
    with db() as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS bench_schema (fingerprint text PRIMARY KEY)")
        if conn.execute("SELECT 1 FROM bench_schema WHERE fingerprint = %s", (fingerprint,)).fetchone():
            return
    subprocess.run(
        [PYTHON, "manage.py", "migrate", "--noinput", "--skip-checks", "-v", "0"], cwd=tree, env=nora_env(tree=tree),
        check=True,
    )
    with db() as conn:
        conn.execute("DELETE FROM bench_schema")
        conn.execute("INSERT INTO bench_schema VALUES (%s)", (fingerprint,))


def db() -> psycopg.Connection:
    return psycopg.connect(database_url(), autocommit=True)


def users_make(*, prefix: str, count: int) -> list[str]:
    """Users `prefix-N@bench.local`, created once and reused."""
    emails = [f"{prefix}-{index}@bench.local" for index in range(count)]
    with db() as conn:
        conn.execute(
            """
            INSERT INTO accounts_user (id, password, is_superuser, email, name, default_personality,
                                       is_active, is_staff, created_at)
            SELECT gen_random_uuid(), '!', false, email, '', 'mother_figure', true, false, now()
            FROM unnest(%s::text[]) AS email
            ON CONFLICT (email) DO NOTHING
            """,
            (emails,),
        )
        rows = dict(conn.execute("SELECT email, id FROM accounts_user WHERE email = ANY(%s)", (emails,)).fetchall())
    return [str(rows[email]) for email in emails]


def conversations_make(*, user_id: str, count: int, titled: bool = True) -> list[str]:
    """Fresh conversations; titled ones never ask the model for a title."""
    with db() as conn:
        rows = conn.execute(
            """
            INSERT INTO chats_conversation (id, title, personality, created_at, last_activity_at, has_emergency, user_id)
            SELECT gen_random_uuid(), %s, 'mother_figure', now(), now(), false, %s FROM generate_series(1, %s)
            RETURNING id
            """,
            ("Benchmark" if titled else None, user_id, count),
        ).fetchall()
    return [str(row[0]) for row in rows]


def load_data_forget(*, prefix: str) -> None:
    """Delete what earlier runs of a load benchmark wrote (the REST data set is kept)."""
    with db() as conn:
        conn.execute(
            """
            WITH users AS (SELECT id FROM accounts_user WHERE email LIKE %s),
                 convs AS (SELECT id FROM chats_conversation WHERE user_id IN (SELECT id FROM users)),
                 gone AS (DELETE FROM chats_message WHERE conversation_id IN (SELECT id FROM convs))
            DELETE FROM chats_conversation WHERE id IN (SELECT id FROM convs)
            """,
            (f"{prefix}-%",),
        )


def access_token(user_id: str) -> str:
    """An access token as simplejwt issues it, signed with the benchmark's key."""
    now = int(time.time())
    claims = {
        "token_type": "access", "exp": now + 24 * 3600, "iat": now, "jti": uuid.uuid4().hex, "user_id": user_id,
    }
    return jwt.encode(claims, SECRET_KEY, algorithm="HS256")


# Numbers ----------------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile; NaN for no samples."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass
class Table:
    title: str
    columns: list[str]
    rows: list[list[object]] = field(default_factory=list)

    def add(self, *row: object) -> None:
        self.rows.append(list(row))

    def render(self) -> str:
        cells = [[_cell(value) for value in row] for row in [self.columns, *self.rows]]
        widths = [max(len(row[index]) for row in cells) for index in range(len(self.columns))]
        lines = [f"## {self.title}"]
        for number, row in enumerate(cells):
            lines.append("| " + " | ".join(value.ljust(width) for value, width in zip(row, widths, strict=True)) + " |")
            if number == 0:
                lines.append("|" + "|".join("-" * (width + 2) for width in widths) + "|")
        return "\n".join(lines)


def _cell(value: object) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return "-"
        return f"{value:.2f}" if abs(value) < 100 else f"{value:.0f}"
    return str(value)


def report(tables: Sequence[Table], *, json_path: str | None, meta: dict) -> None:
    for table in tables:
        print(table.render())
        print()
    if json_path:
        payload = {"meta": meta, "tables": [{"title": t.title, "columns": t.columns, "rows": t.rows} for t in tables]}
        Path(json_path).write_text(json.dumps(payload, indent=2, default=str))


def common_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--smoke", action="store_true", help="a few seconds at tiny sizes, for CI")
    parser.add_argument("--runs", type=int, default=3, help="runs per server, alternating Nora and the baseline")
    parser.add_argument("--tree", type=Path, default=ROOT, help="the Nora source tree daphne runs (default: this one)")
    parser.add_argument(
        "--before", type=Path, default=None, metavar="DIR",
        help="a second Nora tree (e.g. a snapshot of the commit before a change), run as 'before' in turn with --tree",
    )
    parser.add_argument("--json", default=None, help="also write the figures to this file")
    parser.add_argument("--env", action="append", default=[], metavar="NAME=VALUE", help="extra setting for Nora")
    parser.add_argument("--profile", default=None, metavar="FILE",
                        help="py-spy raw stacks of Nora during its first run (summarise: python -m bench.profile FILE)")
    parser.add_argument("--profile-seconds", type=float, default=20.0)
    parser.add_argument("--profile-delay", type=float, default=10.0, help="seconds after the server's start")
    parser.add_argument(
        "--servers", nargs="+", choices=["nora", "before", "baseline"], default=None,
        help="which servers to run (default: both, or Nora alone where FastAPI is not installed)",
    )


def servers(args: argparse.Namespace) -> list[str]:
    if args.servers:
        chosen = list(args.servers)
    else:
        import importlib.util

        baseline = importlib.util.find_spec("fastapi") is not None and importlib.util.find_spec("uvicorn") is not None
        chosen = ["nora", "baseline"] if baseline else ["nora"]
    if getattr(args, "before", None) is not None and "before" not in chosen:
        chosen.insert(1, "before")
    return chosen


def extra_env(pairs: Sequence[str]) -> dict[str, str]:
    return dict(pair.split("=", 1) for pair in pairs)


def meta(args: argparse.Namespace, **more: object) -> dict:
    marker = Path(args.tree) / ".bench-commit"
    if marker.exists():
        commit = marker.read_text().strip()
    else:
        described = subprocess.run(
            ["git", "-C", str(args.tree), "describe", "--always", "--dirty"], capture_output=True, text=True
        )
        commit = described.stdout.strip() or "(unknown)"
    return {
        "command": " ".join(["python -m", f"bench.{Path(sys.argv[0]).stem}", *sys.argv[1:]]),
        "tree": str(args.tree),
        "commit": commit,
        "cpus": os.cpu_count(),
        "baseline_http": os.environ.get("BENCH_BASELINE_HTTP", "httpx"),
        "when": time.strftime("%Y-%m-%d %H:%M:%S"),
        **more,
    }


@contextlib.contextmanager
def maybe_profiled(args: argparse.Namespace, process: Process, *, first: bool) -> Iterator[None]:
    """py-spy on `process` when --profile was given and this is the first run of Nora."""
    if not (args.profile and first and process.name == "nora"):
        yield
        return
    from bench.profile import profiled

    with profiled(process, output=Path(args.profile), seconds=args.profile_seconds,
                  delay=getattr(args, "profile_delay", 0.0)):
        yield
