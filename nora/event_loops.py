"""One object per running event loop, for objects that belong to the loop they were made on."""

import asyncio
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class PerEventLoop(Generic[T]):
    """Holds one object per event loop, made the first time code on that loop asks for it.

    Async clients (redis, aiohttp, websockets) and tasks belong to the loop they were made on,
    and a process runs more than one loop: daphne's, and one per `async_to_sync` call outside
    it or per test. Objects of loops that have closed are dropped whenever a loop gets a new
    one. Weak keys would not do: a client's connections and a sleeping task refer to their
    loop, and would keep its key alive.
    """

    def __init__(self) -> None:
        self._objects: dict[asyncio.AbstractEventLoop, T] = {}
        # Threads with loops of their own (async_to_sync) can ask at the same time.
        self._lock = threading.Lock()

    def get(self, make: Callable[[], T]) -> T:
        """The running loop's object; `make()` builds it the first time, and may raise."""
        loop = asyncio.get_running_loop()
        with self._lock:
            found = self._objects.get(loop)
            if found is None:
                self._objects = {known: kept for known, kept in self._objects.items() if not known.is_closed()}
                found = self._objects[loop] = make()
            return found

    def pop(self) -> T | None:
        """Forget the running loop's object and return it, for code that closes it or replaces it."""
        with self._lock:
            return self._objects.pop(asyncio.get_running_loop(), None)

    def clear(self) -> None:
        with self._lock:
            self._objects.clear()
