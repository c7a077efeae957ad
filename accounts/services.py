"""Writes for accounts: registration, login, tokens, profile, account deletion, support staff."""

import secrets

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.models import Group, Permission
from django.contrib.auth.password_validation import validate_password
from django.core.cache import cache
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q
from rest_framework import status
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from nora.errors import ApplicationError

from . import throttles
from .models import User
from .selectors import user_email_taken


class AuthenticationError(ApplicationError):
    status_code = status.HTTP_401_UNAUTHORIZED


def user_tokens_issue(*, user: User) -> dict:
    refresh = RefreshToken.for_user(user)
    return {"access": str(refresh.access_token), "refresh": str(refresh)}


def user_register(*, email: str, password: str, name: str = "", client_address: str) -> User:
    throttles.auth_attempt_count(address=client_address)
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


def user_login(*, email: str, password: str, client_address: str) -> User:
    throttles.auth_attempt_count(address=client_address)
    throttles.login_attempt_reserve(email=email)
    user = authenticate(username=email.strip().lower(), password=password)
    if user is None:
        raise AuthenticationError("Incorrect email or password.")
    throttles.login_attempt_succeeded(email=email)
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


PROFILE_FIELDS = ("name", "due_date", "default_personality", "country", "language")


def user_update(*, user: User, data: dict) -> User:
    for field in PROFILE_FIELDS:
        if field in data:
            setattr(user, field, data[field])
    user.full_clean(exclude=["password"])
    user.save(update_fields=[field for field in PROFILE_FIELDS if field in data])
    return user


def _ws_ticket_key(ticket: str) -> str:
    return f"ws-ticket:{ticket}"


def ws_ticket_issue(*, user: User) -> str:
    """A single-use ticket for the voice socket, so no long-lived token travels in a URL."""
    ticket = secrets.token_urlsafe(32)
    cache.set(_ws_ticket_key(ticket), str(user.id), timeout=settings.NORA_WS_TICKET_SECONDS)
    return ticket


def ws_ticket_redeem(*, ticket: str) -> User | None:
    key = _ws_ticket_key(ticket)
    user_id = cache.get(key)
    # Deleting is atomic: of two sockets racing with one ticket, only one deletes it.
    if user_id is None or not cache.delete(key):
        return None
    return User.objects.filter(id=user_id, is_active=True).first()


def user_delete(*, user: User, password: str) -> None:
    """Delete the account and everything it owns: conversations, messages and token records.

    The password proves the person is asking, not only someone holding their token; wrong
    guesses count against the same per-account budget as logins.
    """
    throttles.login_attempt_reserve(email=user.email)
    if not user.check_password(password):
        raise ApplicationError("Incorrect password.", errors={"password": ["Incorrect password."]})
    with transaction.atomic():
        # simplejwt would keep these rows with the user set to null; they are the user's, so they go too.
        OutstandingToken.objects.filter(user=user).delete()
        user.delete()
    throttles.login_attempt_succeeded(email=user.email)


SUPPORT_GROUP = "Support"
# What support staff need to read a conversation in the admin, and nothing more: the user's
# email shows on the conversation, so no view of user profiles; no change, delete or audit rights.
SUPPORT_PERMISSIONS = (("chats", "view_conversation"), ("chats", "view_message"))


def support_group_ensure() -> Group:
    """The Support group from the migration; made again, with its permissions, if it is missing."""
    group, created = Group.objects.get_or_create(name=SUPPORT_GROUP)
    if created:
        wanted = Q()
        for app_label, codename in SUPPORT_PERMISSIONS:
            wanted |= Q(content_type__app_label=app_label, codename=codename)
        group.permissions.set(Permission.objects.filter(wanted))
    return group


def support_user_create(*, email: str, password: str) -> User:
    """A staff account in the Support group: it can sign in to the admin and read, never a superuser."""
    email = email.strip().lower()
    try:
        validate_email(email)
    except DjangoValidationError as error:
        raise ApplicationError("Enter a valid email address.", errors={"email": error.messages}) from error
    if user_email_taken(email=email):
        raise ApplicationError(
            "An account with this email already exists.",
            errors={"email": ["An account with this email already exists."]},
        )
    try:
        validate_password(password, user=User(email=email))
    except DjangoValidationError as error:
        raise ApplicationError("Choose a stronger password.", errors={"password": error.messages}) from error
    with transaction.atomic():
        user = User.objects.create_user(email=email, password=password, is_staff=True)
        user.groups.add(support_group_ensure())
    return user
