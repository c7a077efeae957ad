"""Django's middlewares with their hooks on the event loop (nora/middleware.py)."""

import pytest
from asgiref.sync import sync_to_async
from django.test import AsyncClient

from accounts.models import User


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


async def test_no_middleware_hook_leaves_the_event_loop(thread_hops):
    response = await AsyncClient().get("/healthz", headers={"origin": "https://app.example"})
    assert response.status_code == 200
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert not [name for name in thread_hops if ".process_" in name]


@pytest.mark.django_db(transaction=True)
async def test_csrf_is_still_checked_for_async_requests():
    response = await AsyncClient(enforce_csrf_checks=True).post(
        "/admin/login/", {"username": "someone@example.com", "password": "whatever"}
    )
    assert response.status_code == 403


@pytest.mark.django_db(transaction=True)
async def test_a_session_written_by_an_async_request_is_saved():
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
