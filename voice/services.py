import uuid
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from django.conf import settings
from django.core.cache import cache

from accounts.models import User
from chats import services as chat_services
from chats.models import Conversation
from nora.errors import ApplicationError
from nora.personalities import PERSONALITIES

from .stt import AudioFormat


def voice_options_parse(*, query_string: bytes) -> tuple[AudioFormat, str | None]:
    """The socket's optional query parameters: audio format for raw audio, and personality."""
    query = {key: values[0] for key, values in parse_qs(query_string.decode("latin-1")).items()}
    numbers = {}
    for name in ("sample_rate", "channels"):
        if name in query:
            try:
                numbers[name] = int(query[name])
            except ValueError:
                raise ApplicationError(f"{name} must be a whole number.") from None
            if numbers[name] <= 0:
                raise ApplicationError(f"{name} must be positive.")
    personality = query.get("personality") or None
    if personality is not None and personality not in PERSONALITIES:
        raise ApplicationError(f"Unknown personality. Choose one of: {', '.join(sorted(PERSONALITIES))}.")
    audio_format = AudioFormat(encoding=query.get("encoding") or None, **numbers)
    return audio_format, personality


@database_sync_to_async
def voice_conversation_resolve(*, user: User, chat_session_id: str, personality: str | None) -> Conversation:
    """The user's own conversation with that id, or a new one for anything else."""
    try:
        conversation = Conversation.objects.filter(user=user, id=uuid.UUID(chat_session_id)).first()
    except ValueError:
        conversation = None
    if conversation is None:
        conversation = chat_services.conversation_create(user=user, personality=personality)
    return conversation


def _socket_count_key(user_id) -> str:
    return f"voice-sockets:{user_id}"


# A process that dies without releasing its slots cannot lock a user out for longer than this.
SOCKET_COUNT_TTL = 6 * 60 * 60


def voice_socket_claim(*, user_id) -> bool:
    """Take one of the user's open-socket slots, atomically across processes."""
    key = _socket_count_key(user_id)
    cache.add(key, 0, timeout=SOCKET_COUNT_TTL)
    if cache.incr(key) > settings.NORA_VOICE_MAX_SOCKETS_PER_USER:
        cache.decr(key)
        return False
    cache.touch(key, SOCKET_COUNT_TTL)
    return True


def voice_socket_release(*, user_id) -> None:
    try:
        if cache.decr(_socket_count_key(user_id)) < 0:
            cache.set(_socket_count_key(user_id), 0, timeout=SOCKET_COUNT_TTL)
    except ValueError:
        pass
