"""Django's middlewares with their hooks on the event loop (nora/server/middleware.py)."""

import pytest
from asgiref.sync import sync_to_async
from django.test import AsyncClient
from django.utils.deprecation import MiddlewareMixin

from accounts.models import User
from nora.server import middleware
from nora.server.checks import security_middleware_check
from nora.settings import middleware_list


@pytest.fixture
def inline_middleware(settings) -> None:
    """The production MIDDLEWARE: the test settings run Django's own classes."""
    settings.NORA_SERVER_INLINE_MIDDLEWARE = True
    settings.MIDDLEWARE = middleware_list(inline=True)
    settings.SILENCED_SYSTEM_CHECKS = settings.INLINE_MIDDLEWARE_SILENCED_CHECKS


@pytest.fixture
def thread_hops(monkeypatch) -> list[str]:
    """The name of every function Django's handler or middlewares send to a thread."""
    import django.core.handlers.base
    import django.utils.deprecation

    hops: list[str] = []

    def recorded(func, *args, **kwargs):
        hops.append(getattr(func, "__qualname__", repr(func)))
        return sync_to_async(func, *args, **kwargs)

    monkeypatch.setattr(django.utils.deprecation, "sync_to_async", recorded)
    monkeypatch.setattr(django.core.handlers.base, "sync_to_async", recorded)
    return hops


async def healthz_hooks_in_threads(thread_hops) -> list[str]:
    response = await AsyncClient().get("/healthz", headers={"origin": "https://app.example"})
    assert response.status_code == 200
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    return [name for name in thread_hops if ".process_" in name]


async def test_no_middleware_hook_leaves_the_event_loop(inline_middleware, thread_hops):
    assert await healthz_hooks_in_threads(thread_hops) == []


async def test_django_own_middlewares_send_each_hook_to_a_thread(thread_hops):
    """What the subclasses avoid: Django's `MiddlewareMixin.__acall__` hops for every hook."""
    hooks = await healthz_hooks_in_threads(thread_hops)
    assert "SecurityMiddleware.process_request" in hooks
    assert "XFrameOptionsMiddleware.process_response" in hooks


def test_each_subclass_is_a_django_middleware_with_the_hooks_it_runs():
    for subclass in (
        middleware.SecurityMiddleware,
        middleware.SessionMiddleware,
        middleware.CommonMiddleware,
        middleware.CsrfViewMiddleware,
        middleware.AuthenticationMiddleware,
        middleware.MessageMiddleware,
        middleware.XFrameOptionsMiddleware,
    ):
        assert issubclass(subclass, MiddlewareMixin), subclass
        assert hasattr(subclass, "process_request") or hasattr(subclass, "process_response"), subclass
    assert hasattr(MiddlewareMixin, "__acall__")

    async def get_response(request):
        pass

    # CsrfViewMiddleware's async `process_view` is chosen by the mode Django records here.
    assert middleware.CsrfViewMiddleware(get_response).async_mode is True


@pytest.mark.django_db(transaction=True)
async def test_csrf_is_still_checked_for_async_requests(inline_middleware):
    response = await AsyncClient(enforce_csrf_checks=True).post(
        "/admin/login/", {"username": "someone@example.com", "password": "whatever"}
    )
    assert response.status_code == 403


@pytest.mark.django_db(transaction=True)
async def test_a_session_written_by_an_async_request_is_saved(inline_middleware):
    """Logging in to the admin writes the session: that hook still reaches the database."""
    await sync_to_async(User.objects.create_superuser)(email="support@example.com", password="a long passphrase")
    client = AsyncClient(enforce_csrf_checks=True)
    await client.get("/admin/login/")
    response = await client.post(
        "/admin/login/?next=/admin/",
        {
            "username": "support@example.com",
            "password": "a long passphrase",
            "csrfmiddlewaretoken": client.cookies["csrftoken"].value,
        },
    )
    assert response.status_code == 302
    assert (await client.get("/admin/")).status_code == 200


def test_a_missing_security_middleware_is_still_reported(inline_middleware, settings):
    settings.MIDDLEWARE = [path for path in settings.MIDDLEWARE if not path.endswith(".SecurityMiddleware")]
    assert "nora.security.W001" in {message.id for message in security_middleware_check(None)}


def test_with_django_own_middlewares_django_own_checks_report(settings):
    assert settings.NORA_SERVER_INLINE_MIDDLEWARE is False
    assert security_middleware_check(None) == []
