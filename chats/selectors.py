from django.db.models import QuerySet

from accounts.models import User
from nora.errors import NotFoundError

from .models import Conversation, Message


def conversation_list(*, user: User) -> QuerySet[Conversation]:
    return Conversation.objects.filter(user=user).order_by("-last_activity_at", "-created_at")


def conversation_get(*, user: User, conversation_id) -> Conversation:
    """The caller's own conversation; anyone else's is indistinguishable from a missing one."""
    conversation = conversation_list(user=user).filter(id=conversation_id).first()
    if conversation is None:
        raise NotFoundError("Conversation not found.")
    return conversation


def message_list(*, conversation: Conversation) -> QuerySet[Message]:
    return Message.objects.filter(conversation=conversation).order_by("created_at", "id")


def reply_in_progress(*, conversation: Conversation) -> bool:
    return Message.objects.filter(conversation=conversation, status=Message.Status.STREAMING).exists()
