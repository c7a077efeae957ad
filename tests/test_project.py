import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent


def run_django(*args: str, **env: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG", "DJANGO_SETTINGS_MODULE"}}
    environment.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=60
    )


def test_refuses_to_start_without_secret_key_when_debug_is_off():
    result = run_django("check", DEBUG="0")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_starts_with_a_development_key_in_debug():
    assert run_django("check", DEBUG="1").returncode == 0


def test_no_pending_migrations():
    result = run_django("makemigrations", "--check", "--dry-run", DEBUG="1")
    assert result.returncode == 0, result.stdout + result.stderr


def test_database_connections_are_not_persistent():
    assert settings.DATABASES["default"]["CONN_MAX_AGE"] == 0


def test_openapi_schema_describes_every_endpoint(anon):
    response = anon.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in ["/auth/register", "/auth/login", "/auth/refresh", "/auth/logout", "/auth/me", "/chats",
                 "/chats/{id}", "/chats/{id}/title", "/personalities"]:
        assert any(p.rstrip("/") == path for p in paths), path


def test_api_docs_page(anon):
    assert anon.get("/api/docs/").status_code == 200


def test_healthz(anon):
    assert anon.get("/healthz").json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_checks_database_and_channel_layer(anon):
    response = anon.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "channel_layer": "ok"}


def test_unknown_path_is_a_json_404(anon):
    response = anon.get("/nope")
    assert response.status_code == 404
    assert response.json() == {"message": "Not found.", "errors": {}}

