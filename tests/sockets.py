"""Opening the voice socket through Nora's ASGI application: the one way tests do it."""

from channels.testing import WebsocketCommunicator
from rest_framework_simplejwt.tokens import AccessToken

from nora.asgi import application

LINEAR16 = "encoding=linear16&sample_rate=16000"


def socket_communicator(
    user=None, session_id="new", *, token: str | None = None, query: str = LINEAR16, headers=None
) -> WebsocketCommunicator:
    """A communicator for /chats/ws/voice/{session_id}, with the user's access token unless `token` is given."""
    if token is None and user is not None:
        token = str(AccessToken.for_user(user))
    parameters = "&".join(part for part in (f"token={token}" if token is not None else "", query) if part)
    return WebsocketCommunicator(application, f"/chats/ws/voice/{session_id}?{parameters}", headers=headers)


async def socket_open(user=None, session_id="new", *, timeout: float = 5.0, **options) -> WebsocketCommunicator:
    """A socket the server accepted."""
    communicator = socket_communicator(user, session_id, **options)
    accepted, _ = await communicator.connect(timeout=timeout)
    assert accepted
    return communicator


async def socket_connected(
    user=None, session_id="new", *, timeout: float = 5.0, **options
) -> tuple[WebsocketCommunicator, str]:
    """A socket past its `Connected` status, and the conversation id that status named."""
    communicator = await socket_open(user, session_id, timeout=timeout, **options)
    status = await communicator.receive_json_from(timeout=timeout)
    assert status["type"] == "status" and status["message"] == "Connected", status
    return communicator, status["session_id"]
