from dataclasses import dataclass
from datetime import datetime

from django.db.models import Prefetch
from django.utils import timezone

from chats.models import Conversation, Message

from .models import User


def user_email_taken(*, email: str) -> bool:
    return User.objects.filter(email__iexact=email).exists()


@dataclass(frozen=True, slots=True)
class UserExport:
    user: User
    conversations: list[Conversation]
    exported_at: datetime


def user_export_get(*, user: User) -> UserExport:
    """Everything Nora stores about the user, in two queries however much there is."""
    messages = Message.objects.order_by("created_at", "id")
    conversations = (
        Conversation.objects.filter(user=user)
        .order_by("created_at", "id")
        .prefetch_related(Prefetch("messages", queryset=messages))
    )
    return UserExport(user=user, conversations=list(conversations), exported_at=timezone.now())
