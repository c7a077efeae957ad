"""Writes for accounts: registration, login, tokens, profile."""

from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import status
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.tokens import RefreshToken

from nora.errors import ApplicationError

from .models import User
from .selectors import user_email_taken


class AuthenticationError(ApplicationError):
    status_code = status.HTTP_401_UNAUTHORIZED


def user_tokens_issue(*, user: User) -> dict:
    refresh = RefreshToken.for_user(user)
    return {"access": str(refresh.access_token), "refresh": str(refresh)}


def user_register(*, email: str, password: str, name: str = "") -> User:
    email = email.strip().lower()
    if user_email_taken(email=email):
        raise ApplicationError(
            "An account with this email already exists.",
            errors={"email": ["An account with this email already exists."]},
        )
    candidate = User(email=email, name=name)
    try:
        validate_password(password, user=candidate)
    except DjangoValidationError as error:
        raise ApplicationError("Choose a stronger password.", errors={"password": error.messages}) from error
    return User.objects.create_user(email=email, password=password, name=name)


def user_login(*, email: str, password: str) -> User:
    user = authenticate(username=email.strip().lower(), password=password)
    if user is None:
        raise AuthenticationError("Incorrect email or password.")
    return user


def token_refresh(*, refresh: str) -> dict:
    """Rotate a refresh token: a new pair comes back and the old refresh is blacklisted."""
    try:
        old = RefreshToken(refresh)
        user = User.objects.get(id=old["user_id"], is_active=True)
        old.blacklist()
    except (TokenError, User.DoesNotExist, KeyError) as error:
        raise AuthenticationError("This refresh token is invalid or expired. Please log in again.") from error
    return user_tokens_issue(user=user)


def token_revoke(*, refresh: str) -> None:
    """Log out: the refresh token itself proves whose session ends, so an expired access token does not block it."""
    try:
        RefreshToken(refresh).blacklist()
    except TokenError as error:
        raise AuthenticationError("This refresh token is invalid or expired.") from error


def user_update(*, user: User, data: dict) -> User:
    for field in ("name", "due_date", "default_personality"):
        if field in data:
            setattr(user, field, data[field])
    user.full_clean(exclude=["password"])
    user.save(update_fields=[field for field in ("name", "due_date", "default_personality") if field in data])
    return user
