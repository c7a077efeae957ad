"""Login and registration throttles, per client address and per account."""

import hashlib

from django.conf import settings
from django.http import HttpRequest

from nora.errors import TooManyRequestsError
from nora.ratelimit import Window, window_hit, window_refund

TOO_MANY_ATTEMPTS = "Too many attempts. Please wait a while and try again."


def client_address(request: HttpRequest) -> str:
    """The caller's address; a proxy's X-Forwarded-For is believed only when NORA_TRUSTED_PROXY says so.

    NORA_TRUSTED_PROXY is the number of proxies in front of Nora; each appends the address it
    saw, so the client is that many entries from the right.
    """
    hops = settings.NORA_TRUSTED_PROXY
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if hops and forwarded:
        addresses = [address.strip() for address in forwarded.split(",") if address.strip()]
        if addresses:
            return addresses[-min(hops, len(addresses))]
    return request.META.get("REMOTE_ADDR", "unknown")


def _address_window() -> Window:
    return Window("auth-address", settings.NORA_AUTH_ADDRESS_ATTEMPTS, settings.NORA_AUTH_WINDOW_SECONDS)


def _account_window() -> Window:
    return Window("auth-account", settings.NORA_AUTH_ACCOUNT_FAILURES, settings.NORA_AUTH_WINDOW_SECONDS)


def auth_attempt_count(*, address: str) -> None:
    retry_after = window_hit(window=_address_window(), subject=address)
    if retry_after is not None:
        raise TooManyRequestsError(TOO_MANY_ATTEMPTS, retry_after=retry_after)


def _account_subject(email: str) -> str:
    # Hashed: an email can be any length and hold characters a cache key must not.
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()


def login_attempt_reserve(*, email: str) -> None:
    """Count a login against the account before checking the password; a success gives it back."""
    retry_after = window_hit(window=_account_window(), subject=_account_subject(email))
    if retry_after is not None:
        raise TooManyRequestsError(TOO_MANY_ATTEMPTS, retry_after=retry_after)


def login_attempt_succeeded(*, email: str) -> None:
    window_refund(window=_account_window(), subject=_account_subject(email))
