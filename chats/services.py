"""Writes for conversations. The reply engine (chats/engine) owns message generation."""

from accounts.models import User

from .models import Conversation
from .personalities import PERSONALITIES


def conversation_create(*, user: User, personality: str | None = None) -> Conversation:
    chosen = personality or user.default_personality
    if chosen not in PERSONALITIES:
        chosen = next(iter(PERSONALITIES))
    return Conversation.objects.create(user=user, personality=chosen)


def conversation_rename(*, conversation: Conversation, title: str) -> Conversation:
    conversation.title = title
    conversation.full_clean()
    conversation.save(update_fields=["title"])
    return conversation


def conversation_delete(*, conversation: Conversation) -> None:
    conversation.delete()
