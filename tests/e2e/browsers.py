"""What the browser tests share: Debian's chromium, how long a page may take, and the ORM beside Playwright."""

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from django.db import connections

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
# Long enough for a reply that streams over a PostgreSQL save or two, short enough to be quick.
TIMEOUT_MS = 15_000

T = TypeVar("T")


def orm(query: Callable[[], T]) -> T:
    """Run a query on another thread: Playwright's sync API keeps an event loop running on this
    one, where Django refuses synchronous queries."""

    def run() -> T:
        try:
            return query()
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(run).result()
