import uuid
from urllib.parse import parse_qs

from channels.db import database_sync_to_async

from accounts.models import User
from chats import services as chat_services
from chats.models import Conversation
from chats.personalities import PERSONALITIES
from nora.errors import ApplicationError

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
