import ast
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
    if settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        assert settings.DATABASES["default"]["OPTIONS"]["pool"]["max_size"] >= 1


def test_openapi_schema_describes_every_endpoint(anon):
    response = anon.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in [
        "/auth/register",
        "/auth/login",
        "/auth/refresh",
        "/auth/logout",
        "/auth/me",
        "/chats",
        "/chats/{id}",
        "/chats/{id}/title",
        "/chats/{id}/stop",
        "/chats/{session_id}/message",
        "/personalities",
    ]:
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


def test_schema_describes_the_stream_and_its_errors(anon):
    operation = anon.get("/api/schema/", HTTP_ACCEPT="application/json").json()["paths"]["/chats/{session_id}/message"][
        "post"
    ]
    assert "text/event-stream" in operation["responses"]["200"]["content"]
    assert {"400", "401", "404", "409"} <= set(operation["responses"])
    events = operation["responses"]["200"]["content"]["text/event-stream"]["schema"]["oneOf"]
    assert {event["properties"]["type"]["enum"][0] for event in events} == {"start", "chunk", "done", "error"}


def deploy_check(*, ssl_redirect: str, **env: str):
    return run_django(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="0",
        SECRET_KEY="a-real-production-secret-key-that-is-long-and-random-0123456789",
        ALLOWED_HOSTS="nora.example",
        SECURE_SSL_REDIRECT=ssl_redirect,
        **env,
    )


def test_deploy_check_is_clean_with_production_settings():
    result = deploy_check(ssl_redirect="1")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize("inline", ["1", "0"])
def test_deploy_check_sees_what_the_security_middlewares_gate(inline):
    """With Django's classes or Nora's event-loop subclasses of them (nora/server/middleware.py)."""
    result = deploy_check(ssl_redirect="0", NORA_SERVER_INLINE_MIDDLEWARE=inline)
    assert result.returncode != 0
    assert "security.W008" in result.stdout + result.stderr


def test_deploy_check_is_clean_with_django_own_middlewares():
    result = deploy_check(ssl_redirect="1", NORA_SERVER_INLINE_MIDDLEWARE="0")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.django_db
def test_health_checks_are_exempt_from_the_https_redirect(anon, settings):
    settings.SECURE_SSL_REDIRECT = True
    assert anon.get("/healthz").status_code == 200
    assert anon.get("/readyz").status_code == 200
    assert anon.get("/personalities").status_code == 301


def test_env_example_lists_every_variable_the_settings_read():
    import re

    read = set(re.findall(r'env(?:\.\w+)?\(\s*"([A-Z_]+)"', (ROOT / "nora" / "settings.py").read_text()))
    listed = set(re.findall(r"^([A-Z_]+)=", (ROOT / ".env.example").read_text(), re.MULTILINE))
    assert read == listed


def test_the_env_example_as_a_dot_env_starts_in_debug(tmp_path):
    """A newcomer who copies .env.example to .env and runs `make run` gets a working server."""
    result = run_django(
        "check",
        DEBUG="1",
        **{
            line.split("=", 1)[0]: line.split("=", 1)[1]
            for line in (ROOT / ".env.example").read_text().splitlines()
            if line and not line.startswith("#") and line.split("=", 1)[0] != "DEBUG"
        },
    )
    assert result.returncode == 0, result.stderr


def test_cors_allows_only_the_listed_origins(anon, settings):
    settings.CORS_ALLOWED_ORIGINS = ["https://app.example"]
    allowed = anon.options(
        "/personalities", HTTP_ORIGIN="https://app.example", HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET"
    )
    assert allowed["Access-Control-Allow-Origin"] == "https://app.example"
    refused = anon.options(
        "/personalities", HTTP_ORIGIN="https://evil.example", HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET"
    )
    assert "Access-Control-Allow-Origin" not in refused


def test_every_middleware_runs_on_the_event_loop():
    """One sync-only middleware would move every request, streams included, through a thread."""
    from django.utils.module_loading import import_string

    for path in settings.MIDDLEWARE:
        assert getattr(import_string(path), "async_capable", True), path


def test_static_files_are_served_through_the_async_middleware(settings):
    from django.test import Client

    # Found in the apps' static folders, as under `make run`; deployments collect them first.
    settings.WHITENOISE_USE_FINDERS = True
    settings.WHITENOISE_AUTOREFRESH = True
    response = Client().get("/static/admin/css/base.css")
    assert response.status_code == 200
    assert b"body" in b"".join(response.streaming_content)


def test_the_openapi_schema_lists_the_profiles_countries_and_languages(anon):
    schemas = anon.get("/api/schema/", HTTP_ACCEPT="application/json").json()["components"]["schemas"]
    update = schemas["PatchedUserUpdateInputRequest"]["properties"]
    country = schemas[update["country"]["oneOf"][0]["$ref"].rsplit("/", 1)[1]]
    language = schemas[update["language"]["oneOf"][0]["$ref"].rsplit("/", 1)[1]]
    assert {"GB", "MX", "US"} <= set(country["enum"]) and "UK" not in country["enum"]
    assert language["enum"] == ["en", "es", "fr", "pt", "pl", "ar", "zh"]


def imported_packages(package: str) -> dict[str, set[str]]:
    """Each module of `package` (a folder of the repository), and the top-level packages it imports."""
    found = {}
    for path in (ROOT / package).rglob("*.py"):
        names = set()
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                names |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
        found[str(path.relative_to(ROOT))] = names
    return found


@pytest.mark.parametrize(("package", "forbidden"), [("accounts", "chats"), ("accounts", "voice"), ("bench", "tests")])
def test_a_package_does_not_import_what_depends_on_it(package, forbidden):
    """Accounts sit under conversations; the benchmarks share fakes with the tests, not the tests themselves."""
    importers = sorted(module for module, names in imported_packages(package).items() if forbidden in names)
    assert importers == []
