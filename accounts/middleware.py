"""Authentication for the voice socket: a JWT access token in the query string."""

from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.middleware import BaseMiddleware
from django.contrib.auth.models import AnonymousUser
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError

from .services import ws_ticket_redeem

AUTH_REQUIRED = (
    "Authentication failed: pass a ticket from POST /auth/ws-ticket as ?ticket=<ticket>, "
    "or a valid access token as ?token=<JWT>."
)


@database_sync_to_async
def _user_from_token(raw_token: str):
    authentication = JWTAuthentication()
    try:
        return authentication.get_user(authentication.get_validated_token(raw_token))
    except (InvalidToken, TokenError, AuthenticationFailed):
        return None


_user_from_ticket = database_sync_to_async(ws_ticket_redeem)


class JWTQueryAuthMiddleware(BaseMiddleware):
    """Sets `scope["user"]`; an anonymous user means the consumer must refuse the socket.

    A single-use `ticket` is preferred; the API document's `token` is validated by simplejwt's
    own machinery (signature, expiry, token type, user still active), the same as for REST.
    """

    async def __call__(self, scope, receive, send):
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        ticket = (query.get("ticket") or [""])[0]
        token = (query.get("token") or [""])[0]
        if ticket:
            user = await _user_from_ticket(ticket=ticket)
        else:
            user = await _user_from_token(token) if token else None
        scope = {**scope, "user": user or AnonymousUser()}
        return await super().__call__(scope, receive, send)
