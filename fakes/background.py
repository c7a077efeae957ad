"""Running a fake vendor server on its own event loop in a background thread, for tests."""

import asyncio
import threading
from collections.abc import Callable
from typing import Self


class BackgroundServer:
    """A server with `async serve(on_ready=...)` that runs until `stop()`, from sync or async tests.

    Subclasses set `_loop` and `_stopped` (an asyncio.Event) when `serve` starts.
    """

    thread_name = "fake-server"
    _loop: asyncio.AbstractEventLoop | None = None
    _stopped: asyncio.Event | None = None
    _thread: threading.Thread | None = None

    async def serve(self, *, on_ready: Callable[[str], None] | None = None) -> None:
        raise NotImplementedError

    def start(self) -> None:
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            try:
                asyncio.run(self.serve(on_ready=lambda url: ready.set()))
            except BaseException as error:  # surfaced to start() instead of dying unseen in the thread
                failure.append(error)
                ready.set()

        self._thread = threading.Thread(target=run, name=self.thread_name, daemon=True)
        self._thread.start()
        ready.wait()
        if failure:
            raise failure[0]

    def stop(self) -> None:
        if self._loop is not None and self._stopped is not None:
            self._loop.call_soon_threadsafe(self._stopped.set)
        if self._thread is not None:
            self._thread.join(timeout=10)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
