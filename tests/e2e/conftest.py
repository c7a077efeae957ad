"""Real daphne processes on the test session's PostgreSQL database and Redis, for end-to-end tests.

    def test_stop_across_processes(daphne_processes, anthropic_server):
        a, b = daphne_processes(count=2)
        httpx.post(f"{b.url}/chats/{conversation_id}/stop", headers=...)

The processes answer replies through the real anthropic SDK from the `anthropic_server` fake,
which runs in this pytest process, so a test scripts it as in-process tests do. They read the
data a test commits: tests that use them run with `transactional_db`.
"""

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from django.conf import settings
from django.db import connection
from playwright.sync_api import Browser, Page, expect, sync_playwright

from fakes.anthropic_server import FakeAnthropicServer
from tests.e2e.browsers import CHROMIUM, CHROMIUM_ARGS, TIMEOUT_MS
from tests.settings import SERVER_TUNING

ROOT = Path(__file__).resolve().parents[2]
expect.set_options(timeout=TIMEOUT_MS)
FAKE_API_KEY = "sk-ant-e2e-fake-key"
STARTUP_SECONDS = 30.0
POLL_SECONDS = 0.05
STOP_SECONDS = 5.0
# A port picked free can be taken by someone else before daphne binds it.
START_ATTEMPTS = 3
LOG_TAIL_LINES = 200

_started = pytest.StashKey[list["DaphneProcess"]]()


@dataclass
class DaphneProcess:
    """One running daphne. Signal it through `popen` (`popen.send_signal(signal.SIGTERM)`)."""

    name: str
    port: int
    popen: subprocess.Popen
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        """Everything the process printed so far, stdout and stderr interleaved."""
        return self.log_path.read_text(errors="replace")

    def reap(self, *, timeout: float = STOP_SECONDS) -> int:
        """Wait for the process to exit, SIGKILLing it after `timeout`; the exit code."""
        try:
            return self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            return self.popen.wait()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _database_url() -> str:
    """The test database pytest-django created (NAME is already the test name), as a URL."""
    db = connection.settings_dict
    credentials = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        credentials += ":" + quote(db["PASSWORD"], safe="")
    port = f":{db['PORT']}" if db["PORT"] else ""
    return f"postgres://{credentials}@{db['HOST']}{port}/{quote(db['NAME'], safe='')}"


def _services_required() -> None:
    # On SQLite or the in-memory channel layer each process would have its own database or
    # layer, and the cross-process behaviour these tests exist for could not be seen.
    if connection.vendor != "postgresql":
        pytest.fail(
            f"End-to-end tests need PostgreSQL, and the database is {connection.vendor}: "
            "set DATABASE_URL (make test does)."
        )
    if not settings.REDIS_URL:
        pytest.fail("End-to-end tests need Redis for the channel layer: set REDIS_URL (make test does).")


def _environment(fake: FakeAnthropicServer) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": _database_url(),
        "REDIS_URL": settings.REDIS_URL,
        # Tokens minted by the tests must verify in the processes.
        "SECRET_KEY": settings.SECRET_KEY,
        "JWT_SIGNING_KEY": settings.SIMPLE_JWT["SIGNING_KEY"],
        "ALLOWED_HOSTS": "127.0.0.1",
        "NORA_LLM_PROVIDER": "anthropic",
        "ANTHROPIC_API_KEY": FAKE_API_KEY,
        "ANTHROPIC_BASE_URL": fake.url,
        # Longer than the slowest scripted silence (6 s), short enough to fail a hang.
        "NORA_LLM_TIMEOUT_SECONDS": "10",
        # So the log file is current when a failing test reads it.
        "PYTHONUNBUFFERED": "1",
        # The processes run tuned as in production.
        **dict.fromkeys(SERVER_TUNING, "1"),
    }


def _spawn(*, name: str, env: dict[str, str], log_path: Path) -> DaphneProcess:
    port = _free_port()
    with log_path.open("wb") as log:
        popen = subprocess.Popen(
            [sys.executable, "-m", "daphne", "--bind", "127.0.0.1", "--port", str(port), "nora.asgi:application"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    return DaphneProcess(name=name, port=port, popen=popen, log_path=log_path)


def _healthy(process: DaphneProcess) -> bool:
    try:
        return httpx.get(f"{process.url}/healthz", timeout=1.0, trust_env=False).status_code == 200
    except httpx.TransportError:
        return False


def _ready_wait(process: DaphneProcess, *, env: dict[str, str], deadline: float) -> None:
    """Return once /healthz answers; start the process again on another port if its port was taken."""
    for attempt in range(START_ATTEMPTS):
        while process.popen.poll() is None:
            if _healthy(process):
                return
            if time.monotonic() > deadline:
                pytest.fail(f"daphne {process.name} did not answer /healthz in time:\n{process.output()}")
            time.sleep(POLL_SECONDS)
        if "Listen failure" not in process.output() or attempt == START_ATTEMPTS - 1:
            break
        retry = _spawn(name=process.name, env=env, log_path=process.log_path)
        process.port, process.popen = retry.port, retry.popen
    pytest.fail(f"daphne {process.name} exited with {process.popen.returncode} while starting:\n{process.output()}")


@pytest.fixture
def daphne_processes(
    request,
    transactional_db,
    anthropic_server,
    tmp_path,
) -> Iterator[Callable[..., list[DaphneProcess]]]:
    """Start `count` daphne processes and return them once each answers /healthz.

    Each process's output goes to `daphne-<n>.log` in the test's tmp_path and is shown when
    the test fails. At teardown every process still running gets SIGTERM, then SIGKILL after 5 s.
    """
    _services_required()
    env = _environment(anthropic_server)
    started = request.node.stash.setdefault(_started, [])

    def start(count: int = 1) -> list[DaphneProcess]:
        spawned = []
        for _ in range(count):
            name = str(len(started))
            spawned.append(_spawn(name=name, env=env, log_path=tmp_path / f"daphne-{name}.log"))
            started.append(spawned[-1])
        # Started together and waited on together, so their startups overlap.
        deadline = time.monotonic() + STARTUP_SECONDS
        for process in spawned:
            _ready_wait(process, env=env, deadline=deadline)
        return spawned

    yield start
    # All signalled first, so they shut down side by side.
    for process in started:
        if process.popen.poll() is None:
            process.popen.terminate()
    for process in started:
        process.reap()


def _children() -> dict[int, str]:
    """Live (not zombie) child processes of this pytest process, by pid, with their command lines."""
    children = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
            # The command name is in parentheses and may itself contain spaces and parentheses.
            state, ppid = text[text.rindex(")") + 2 :].split()[:2]
            if int(ppid) == os.getpid() and state != "Z":
                children[int(stat.parent.name)] = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, ValueError):
            continue  # the process ended while being read
    return children


@pytest.fixture(autouse=True)
def _no_processes_left_behind() -> Iterator[None]:
    """An end-to-end test must end every process it started, or it fails and they are killed."""
    before = set(_children())
    yield
    left = {pid: command for pid, command in _children().items() if pid not in before}
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    assert not left, f"The test left processes running (now killed): {left}"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    report = yield
    if report.failed:
        for process in item.stash.get(_started, []):
            tail = "\n".join(process.output().splitlines()[-LOG_TAIL_LINES:])
            report.sections.append((f"daphne {process.name} output ({process.log_path})", tail))
    return report


# The browser tests ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def static_root(tmp_path_factory) -> Path:
    """The static files collected as a deployment collects them: with DEBUG off, WhiteNoise
    serves STATIC_ROOT only."""
    root = tmp_path_factory.mktemp("static")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "STATIC_ROOT": str(root)}
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"], cwd=ROOT, env=env, check=True
    )
    return root


@pytest.fixture
def static_served(static_root, monkeypatch) -> None:
    # daphne_processes copies os.environ when it is set up, so this must come before it.
    monkeypatch.setenv("STATIC_ROOT", str(static_root))


@pytest.fixture
def server(static_served, daphne_processes) -> DaphneProcess:
    [process] = daphne_processes()
    return process


@pytest.fixture
def chromium_args() -> list[str]:
    """How chromium is started; a module that needs more (a fake microphone) overrides this."""
    return CHROMIUM_ARGS


@pytest.fixture
def browser(chromium_args, server) -> Iterator[Browser]:
    # One per test, closed before the test database is flushed: while Playwright runs, its
    # event loop runs on this thread and the flush would be refused.
    if not CHROMIUM.exists():
        pytest.fail("The browser tests need Debian's chromium: apt-get install -y chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=chromium_args)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, server: DaphneProcess) -> Iterator[Page]:
    """A fresh browser context on the server; an uncaught script error fails the test."""
    context = browser.new_context(base_url=server.url, viewport={"width": 1280, "height": 800})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert not errors, f"The page threw: {errors}"
