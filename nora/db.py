"""ORM calls from async code.

Channels' `database_sync_to_async` runs every call on asgiref's one thread-sensitive thread, so
under load each socket's and each reply's database work waits behind everyone else's on that
single thread: at 200 voice sockets, more than a second before a transcript's reply could start.
`database_call` runs them on the event loop's thread pool instead, closing stale connections
around each call as Channels does; with CONN_MAX_AGE = 0 that hands the connection back to the
psycopg pool, so threads never hold connections between calls.

Only for calls that need nothing from the caller's thread: no open transaction, no
thread-bound state.
"""

from collections.abc import Awaitable, Callable
from typing import ParamSpec, TypeVar

from asgiref.sync import SyncToAsync
from django.db import close_old_connections

_P = ParamSpec("_P")
_R = TypeVar("_R")


class _DatabaseCall(SyncToAsync):
    # Channels' DatabaseSyncToAsync does the same, but its test communicator turns the cleanup
    # off (it expects the one shared thread): each pool thread would then keep a connection.
    def thread_handler(self, loop, *args, **kwargs):
        close_old_connections()
        try:
            return super().thread_handler(loop, *args, **kwargs)
        finally:
            close_old_connections()


def database_call(function: Callable[_P, _R]) -> Callable[_P, Awaitable[_R]]:
    return _DatabaseCall(function, thread_sensitive=False)
