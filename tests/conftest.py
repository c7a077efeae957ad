import os

import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import User

from tests.factories import UserFactory


@pytest.fixture
def user(db) -> User:
    return UserFactory()


@pytest.fixture
def other_user(db) -> User:
    return UserFactory()


def bearer_client(user: User) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    return client


@pytest.fixture
def api(user) -> APIClient:
    """A REST client authenticated as `user`."""
    return bearer_client(user)


@pytest.fixture
def other_api(other_user) -> APIClient:
    return bearer_client(other_user)


@pytest.fixture
def anon() -> APIClient:
    return APIClient()


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Throttles, quotas and tickets live in the cache (Redis in CI): no test sees another's."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(scope="session", autouse=True)
def _required_services(django_db_blocker):
    """CI asks for PostgreSQL and Redis: fail at once rather than pass on SQLite and memory."""
    if not os.environ.get("NORA_REQUIRE_SERVICES"):
        return
    import redis
    from django.conf import settings
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.exit(f"NORA_REQUIRE_SERVICES is set but the database is {connection.vendor}", returncode=3)
    if settings.CHANNEL_LAYERS["default"]["BACKEND"] != "channels_redis.core.RedisChannelLayer":
        pytest.exit("NORA_REQUIRE_SERVICES is set but REDIS_URL is not", returncode=3)
    try:
        redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=5).ping()
        with django_db_blocker.unblock():
            connection.ensure_connection()
            connection.close()
    except Exception as error:
        pytest.exit(f"A required service is unreachable: {error}", returncode=3)


@pytest.fixture(scope="session", autouse=True)
def _close_connections_of_async_code(django_db_setup, django_db_blocker):
    """Async ORM calls outside a request run on asgiref's shared thread; close its connection
    before the test database is dropped."""
    yield
    from asgiref.sync import SyncToAsync
    from django.db import connections

    with django_db_blocker.unblock():
        SyncToAsync.single_thread_executor.submit(connections.close_all).result()
