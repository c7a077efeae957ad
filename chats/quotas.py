"""Per-user limits on model calls, shared by text and voice, across every server process."""

from django.conf import settings

from nora.errors import TooManyRequestsError
from nora.ratelimit import Window, window_count, window_hit, window_refund, window_retry_after

DAY = 24 * 60 * 60


def _windows() -> tuple[Window, Window, Window]:
    return (
        Window("messages-minute", settings.NORA_RATE_MESSAGES_PER_MINUTE, 60),
        Window("messages-day", settings.NORA_QUOTA_MESSAGES_PER_DAY, DAY),
        Window("tokens-day", settings.NORA_QUOTA_TOKENS_PER_DAY, DAY),
    )


def model_call_reserve(*, user_id) -> None:
    """Count one message against the user's limits, or raise TooManyRequestsError."""
    per_minute, per_day, tokens = _windows()
    subject = str(user_id)
    if window_count(window=tokens, subject=subject) >= tokens.limit:
        raise TooManyRequestsError(
            "You have used today's allowance. It resets at midnight UTC.", retry_after=window_retry_after(window=tokens)
        )
    retry_after = window_hit(window=per_minute, subject=subject)
    if retry_after is not None:
        window_refund(window=per_minute, subject=subject)
        raise TooManyRequestsError(
            "You are sending messages too quickly. Please wait a moment and try again.", retry_after=retry_after
        )
    retry_after = window_hit(window=per_day, subject=subject)
    if retry_after is not None:
        window_refund(window=per_day, subject=subject)
        window_refund(window=per_minute, subject=subject)
        raise TooManyRequestsError(
            "You have reached today's message limit. It resets at midnight UTC.", retry_after=retry_after
        )


def model_call_refund(*, user_id) -> None:
    """Give back a reserved message whose turn never reached the model."""
    per_minute, per_day, _ = _windows()
    window_refund(window=per_minute, subject=str(user_id))
    window_refund(window=per_day, subject=str(user_id))


def tokens_charge(*, user_id, tokens: int) -> None:
    if tokens > 0:
        window_hit(window=_windows()[2], subject=str(user_id), amount=tokens)
