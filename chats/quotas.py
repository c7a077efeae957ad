"""Per-user limits on model calls, shared by text and voice, across every server process."""

from django.conf import settings

from nora.errors import TooManyRequestsError
from nora.ratelimit import Window, window_add, window_retry_after, windows_refund, windows_reserve

DAY = 24 * 60 * 60

REFUSALS = {
    "messages-minute": "You are sending messages too quickly. Please wait a moment and try again.",
    "messages-day": "You have reached today's message limit. It resets at midnight UTC.",
    "tokens-day": "You have used today's allowance. It resets at midnight UTC.",
}


def _windows() -> tuple[Window, Window, Window]:
    return (
        Window("messages-minute", settings.NORA_RATE_MESSAGES_PER_MINUTE, 60),
        Window("messages-day", settings.NORA_QUOTA_MESSAGES_PER_DAY, DAY),
        Window("tokens-day", settings.NORA_QUOTA_TOKENS_PER_DAY, DAY),
    )


async def model_call_reserve(*, user_id) -> None:
    """Count one message against the user's limits, or raise TooManyRequestsError."""
    per_minute, per_day, tokens = _windows()
    refused = await windows_reserve(windows=(per_minute, per_day), subject=str(user_id), ceiling=tokens)
    if refused is not None:
        raise TooManyRequestsError(REFUSALS[refused.name], retry_after=window_retry_after(window=refused))


async def model_call_refund(*, user_id) -> None:
    """Give back a reserved message whose turn never reached the model."""
    per_minute, per_day, _ = _windows()
    await windows_refund(windows=(per_minute, per_day), subject=str(user_id))


async def tokens_charge(*, user_id, tokens: int) -> None:
    if tokens > 0:
        await window_add(window=_windows()[2], subject=str(user_id), amount=tokens)
