"""Django's own middlewares, with their hooks run on the event loop rather than in a thread.

Under ASGI, Django runs each hook of a `MiddlewareMixin` middleware through `sync_to_async`:
thirteen thread hops per request for these seven, for hooks that only read and set headers
and request attributes, on every request before the reply stream's first byte. Each class
here is Django's, with its hooks called directly on the event loop. Two hooks can reach the
database, a session being saved and messages stored in the session; those still run in a
thread, but only when they will write.

Sync requests (WSGI, the test client) run Django's code unchanged. Django's deploy checks
find three of these by path; nora/server/checks.py runs them against these subclasses.
"""

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth import middleware as auth
from django.contrib.messages import middleware as messages
from django.contrib.sessions import middleware as sessions
from django.middleware import clickjacking, common, csrf, security


class _InlineHooks:
    """For a MiddlewareMixin whose hooks do no I/O, except where `response_writes` says so."""

    async def __acall__(self, request):
        response = None
        if hasattr(self, "process_request"):
            response = self.process_request(request)
        response = response or await self.get_response(request)
        if hasattr(self, "process_response"):
            if self.response_writes(request):
                return await sync_to_async(self.process_response, thread_sensitive=True)(request, response)
            response = self.process_response(request, response)
        return response

    def response_writes(self, request) -> bool:
        return False


class SecurityMiddleware(_InlineHooks, security.SecurityMiddleware):
    pass


class SessionMiddleware(_InlineHooks, sessions.SessionMiddleware):
    """The session is loaded lazily; its response hook writes only a modified session."""

    def response_writes(self, request) -> bool:
        session = getattr(request, "session", None)
        return session is not None and (session.modified or settings.SESSION_SAVE_EVERY_REQUEST)


class CommonMiddleware(_InlineHooks, common.CommonMiddleware):
    pass


class CsrfViewMiddleware(_InlineHooks, csrf.CsrfViewMiddleware):
    """The token lives in a cookie (CSRF_USE_SESSIONS is off), so no hook reads the database.

    Django adapts `process_view` to the handler's mode once, when it builds the chain; an async
    one here keeps the check on the event loop for async requests.
    """

    @property
    def process_view(self):
        check = super().process_view
        if not self.async_mode:
            return check

        async def process_view(request, callback, callback_args, callback_kwargs):
            return check(request, callback, callback_args, callback_kwargs)

        return process_view


class AuthenticationMiddleware(_InlineHooks, auth.AuthenticationMiddleware):
    """It sets `request.user` as a lazy object: the user is read only when a view asks."""


class MessageMiddleware(_InlineHooks, messages.MessageMiddleware):
    """Messages are stored (in the session) only when a view used or added one."""

    def response_writes(self, request) -> bool:
        storage = getattr(request, "_messages", None)
        return storage is not None and (storage.used or storage.added_new)


class XFrameOptionsMiddleware(_InlineHooks, clickjacking.XFrameOptionsMiddleware):
    pass
