import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(os.sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_compose_file_is_valid():
    assert shutil.which("docker-compose"), "Debian's docker-compose package is needed to validate the compose file"
    env = {**os.environ, "POSTGRES_PASSWORD": "example", "SECRET_KEY": "example"}
    result = subprocess.run(["docker-compose", "config", "-q"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_compose_file_refuses_to_run_without_secrets():
    env = {k: v for k, v in os.environ.items() if k not in {"POSTGRES_PASSWORD", "SECRET_KEY"}}
    result = subprocess.run(["docker-compose", "config", "-q"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode != 0


@pytest.mark.e2e
def test_entrypoint_migrates_then_serves(tmp_path):
    port = free_port()
    database = tmp_path / "entrypoint.sqlite3"
    env = {
        **{k: v for k, v in os.environ.items() if k not in {"DJANGO_SETTINGS_MODULE", "REDIS_URL"}},
        "PATH": f"{VENV_BIN}:{os.environ['PATH']}",
        "DATABASE_URL": f"sqlite:///{database}",
        "SECRET_KEY": "entrypoint-test",
        "DEBUG": "0",
        "SECURE_SSL_REDIRECT": "0",
        "ALLOWED_HOSTS": "127.0.0.1",
        "HOST": "127.0.0.1",
        "PORT": str(port),
    }
    process = subprocess.Popen(
        [str(ROOT / "docker" / "entrypoint.sh")],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as response:
                    assert response.status == 200
                    break
            except OSError:
                assert process.poll() is None, process.stdout.read().decode()
                assert time.monotonic() < deadline, "daphne did not start"
                time.sleep(0.3)
        with sqlite3.connect(database) as db:
            tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert {"accounts_user", "chats_conversation", "chats_message"} <= tables
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=15)
