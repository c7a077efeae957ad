"""Counters in the shared cache (Redis in production), so limits hold across server processes.

Each check is one atomic increment, never a read followed by a write, so concurrent
requests cannot slip past a limit together.
"""

import time
from dataclasses import dataclass

from django.core.cache import cache


@dataclass(frozen=True, slots=True)
class Window:
    name: str
    limit: int
    seconds: int


def _window_key(*, window: Window, subject: str, now: float) -> tuple[str, int]:
    start = int(now // window.seconds) * window.seconds
    return f"ratelimit:{window.name}:{subject}:{start}", start + window.seconds


def window_hit(*, window: Window, subject: str, amount: int = 1) -> int | None:
    """Count `amount` against the window; the seconds to wait when that went over the limit, else None."""
    now = time.time()
    key, ends_at = _window_key(window=window, subject=subject, now=now)
    cache.add(key, 0, timeout=window.seconds + 1)
    try:
        count = cache.incr(key, amount)
    except ValueError:
        # The key expired between add and incr: the window just rolled over.
        cache.add(key, amount, timeout=window.seconds + 1)
        count = amount
    if count > window.limit:
        return max(1, int(ends_at - now))
    return None


def window_refund(*, window: Window, subject: str, amount: int = 1) -> None:
    key, _ = _window_key(window=window, subject=subject, now=time.time())
    try:
        cache.decr(key, amount)
    except ValueError:
        pass


def window_count(*, window: Window, subject: str) -> int:
    key, _ = _window_key(window=window, subject=subject, now=time.time())
    return cache.get(key, 0)


def window_retry_after(*, window: Window) -> int:
    now = time.time()
    return max(1, int((int(now // window.seconds) + 1) * window.seconds - now))
