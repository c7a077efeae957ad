import os
import time
import types
from collections.abc import AsyncIterator, Iterator

import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import User
from chats.engine.providers import reply_provider
from chats.models import Conversation
from fakes.anthropic_server import FakeAnthropicServer
from fakes.deepgram_server import TEST_API_KEY, FakeDeepgramServer
from nora import ratelimit
from tests.factories import ConversationFactory, UserFactory


@pytest.fixture
def anthropic_server() -> Iterator[FakeAnthropicServer]:
    """A fresh fake Anthropic server in a background thread, for sync and async tests alike."""
    with FakeAnthropicServer() as server:
        yield server


@pytest.fixture
def deepgram_server() -> Iterator[FakeDeepgramServer]:
    """A fresh fake Deepgram server in a background thread, for sync and async tests alike."""
    with FakeDeepgramServer() as server:
        yield server


@pytest.fixture(autouse=True)
def rate_limit_minute_fresh(monkeypatch) -> None:
    """Each test starts at the beginning of a minute on the rate limits' clock.

    Their windows are fixed minutes and days: a test whose hits straddled the end of a minute
    would see the count start over. The clock still runs, so windows a test shortens still end.
    """
    offset = 60 - time.time() % 60
    monkeypatch.setattr(ratelimit, "time", types.SimpleNamespace(time=lambda: time.time() + offset))


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


@pytest.fixture
def owner() -> User:
    """A user for tests that manage their own database access (async and transactional ones)."""
    return UserFactory()


@pytest.fixture
def conversation(owner) -> Conversation:
    return ConversationFactory(user=owner, title="Existing chat")


@pytest.fixture
async def anthropic_model(settings, anthropic_server) -> AsyncIterator[FakeAnthropicServer]:
    """Replies come from the fake Anthropic server through the real anthropic SDK."""
    settings.NORA_LLM_PROVIDER = "anthropic"
    settings.ANTHROPIC_API_KEY = "sk-ant-test-key-never-shown"
    settings.ANTHROPIC_BASE_URL = anthropic_server.url
    settings.NORA_LLM_TIMEOUT_SECONDS = 5.0
    yield anthropic_server
    # The SDK's HTTP session belongs to this test's event loop, which ends with the test.
    await reply_provider().aclose()


@pytest.fixture
def deepgram(settings, deepgram_server) -> FakeDeepgramServer:
    """Speech goes to the fake Deepgram server through the real deepgram-sdk."""
    settings.NORA_STT_PROVIDER = "deepgram"
    settings.DEEPGRAM_API_KEY = TEST_API_KEY
    settings.DEEPGRAM_BASE_URL = deepgram_server.url
    settings.NORA_STT_FINALIZE_TIMEOUT_SECONDS = 1.0
    return deepgram_server


@pytest.fixture(autouse=True)
def _fresh_channel_layer(settings):
    """A channel layer of the test's own. A reply leaves its process listening for stop
    requests on the event loop it ran on, which for a test ends with it (or, for the schema
    tests' client, outlives it); channels_redis lets one loop at a time receive on a layer."""
    settings.CHANNEL_LAYERS = {**settings.CHANNEL_LAYERS}


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
