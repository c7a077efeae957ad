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
