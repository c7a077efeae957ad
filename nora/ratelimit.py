"""Counters in the shared cache (Redis in production), so limits hold across server processes.

Each check is one atomic increment, never a read followed by a write, so concurrent
requests cannot slip past a limit together.

The synchronous functions serve the login throttles. The async ones serve the per-message
quotas, which sit before every reply's first chunk: on Redis each is one script, one round
trip on the event loop and no thread; on any other cache, the same steps in a thread.
"""

import functools
import time
from collections.abc import Sequence
from dataclasses import dataclass

import redis.asyncio
from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.cache import DEFAULT_CACHE_ALIAS, BaseCache, cache, caches
from django.core.signals import setting_changed
from django.dispatch import receiver

from nora.event_loops import PerEventLoop

REDIS_CACHE = "django.core.cache.backends.redis.RedisCache"

# KEYS[1] is only read, against ARGV[1] (negative: no ceiling); each later KEYS[i] is counted
# against ARGV[i] and expires after ARGV[#KEYS + i - 1] seconds. All or none: a refusal undoes
# what this call counted and returns the index of the refusing key, else 0.
_RESERVE_SCRIPT = """
local ceiling = tonumber(ARGV[1])
if ceiling >= 0 and tonumber(redis.call('GET', KEYS[1]) or '0') >= ceiling then
  return 1
end
for i = 2, #KEYS do
  local count = redis.call('INCR', KEYS[i])
  if count == 1 then redis.call('EXPIRE', KEYS[i], ARGV[#KEYS + i - 1]) end
  if count > tonumber(ARGV[i]) then
    for j = 2, i do redis.call('DECR', KEYS[j]) end
    return i
  end
end
return 0
"""
_REFUND_SCRIPT = """
for i = 1, #KEYS do
  if redis.call('EXISTS', KEYS[i]) == 1 then redis.call('DECR', KEYS[i]) end
end
"""
_ADD_SCRIPT = """
local count = redis.call('INCRBY', KEYS[1], ARGV[1])
if count == tonumber(ARGV[1]) then redis.call('EXPIRE', KEYS[1], ARGV[2]) end
"""


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


# The async counters --------------------------------------------------------------------


class _RedisCounters:
    """The scripts on one event loop's client: redis.asyncio connections belong to their loop."""

    def __init__(self, *, location: str, options: dict) -> None:
        client = redis.asyncio.Redis.from_url(
            location,
            socket_connect_timeout=options.get("socket_connect_timeout"),
            socket_timeout=options.get("socket_timeout"),
        )
        self.reserve = client.register_script(_RESERVE_SCRIPT)
        self.refund = client.register_script(_REFUND_SCRIPT)
        self.add = client.register_script(_ADD_SCRIPT)


_counters: PerEventLoop[_RedisCounters] = PerEventLoop()


def _redis_counters() -> _RedisCounters | None:
    """This loop's scripts when the cache is Redis, else None."""
    config = settings.CACHES["default"]
    if config["BACKEND"] != REDIS_CACHE:
        return None
    return _counters.get(lambda: _RedisCounters(location=config["LOCATION"], options=config.get("OPTIONS", {})))


@functools.cache
def _key_maker() -> BaseCache:
    """The default cache's backend, built once, to name keys exactly as `cache` does.

    `cache` itself is a proxy to a backend per context: under ASGI every request, and every
    reply's task, would build a backend of its own just to make these keys.
    """
    return caches.create_connection(DEFAULT_CACHE_ALIAS)


@receiver(setting_changed)
def _counters_forget(*, setting: str, **kwargs) -> None:
    if setting == "CACHES":
        _counters.clear()
        _key_maker.cache_clear()


def _full_keys(*, windows: Sequence[Window], subject: str) -> list[str]:
    now = time.time()
    make_key = _key_maker().make_and_validate_key
    return [make_key(_window_key(window=window, subject=subject, now=now)[0]) for window in windows]


async def windows_reserve(*, windows: Sequence[Window], subject: str, ceiling: Window | None = None) -> Window | None:
    """Count one hit in every window, all or none, unless `ceiling` (only read) is already full.

    Returns the window that refused, or None when every hit counted.
    """
    counters = _redis_counters()
    if counters is None:
        return await sync_to_async(_windows_reserve_in_cache)(windows=windows, subject=subject, ceiling=ceiling)
    keys = _full_keys(windows=[ceiling or windows[0], *windows], subject=subject)
    limits = [ceiling.limit if ceiling else -1, *(window.limit for window in windows)]
    expiries = [window.seconds + 1 for window in windows]
    refused = await counters.reserve(keys=keys, args=[*limits, *expiries])
    if refused == 0:
        return None
    return ceiling if refused == 1 else windows[refused - 2]


def _windows_reserve_in_cache(*, windows: Sequence[Window], subject: str, ceiling: Window | None) -> Window | None:
    if ceiling is not None and window_count(window=ceiling, subject=subject) >= ceiling.limit:
        return ceiling
    for index, window in enumerate(windows):
        if window_hit(window=window, subject=subject) is not None:
            for counted in windows[: index + 1]:
                window_refund(window=counted, subject=subject)
            return window
    return None


async def windows_refund(*, windows: Sequence[Window], subject: str) -> None:
    """Give back one hit in every window."""
    counters = _redis_counters()
    if counters is None:
        await sync_to_async(_windows_refund_in_cache)(windows=windows, subject=subject)
        return
    await counters.refund(keys=_full_keys(windows=windows, subject=subject))


def _windows_refund_in_cache(*, windows: Sequence[Window], subject: str) -> None:
    for window in windows:
        window_refund(window=window, subject=subject)


async def window_add(*, window: Window, subject: str, amount: int) -> None:
    """Count `amount` against the window, whatever its limit: the limit is checked at the next reserve."""
    counters = _redis_counters()
    if counters is None:
        await sync_to_async(window_hit)(window=window, subject=subject, amount=amount)
        return
    key = _full_keys(windows=[window], subject=subject)[0]
    await counters.add(keys=[key], args=[amount, window.seconds + 1])
