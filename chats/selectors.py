from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

from django.conf import settings
from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from accounts.models import User
from nora.errors import NOT_AUTHENTICATED, NotAuthenticatedError, NotFoundError

from .models import Conversation, Message

# How many earlier messages a turn reads: the most its prompt can hold.
HISTORY_MESSAGES = 200


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


class HistoryMessage(NamedTuple):
    """An earlier message as a turn reads it: what the prompt and the streaming check use."""

    sender: str
    message: str
    status: str
    updated_at: datetime


def message_history(*, conversation: Conversation, limit: int) -> list[HistoryMessage]:
    """The conversation's last `limit` messages, oldest first.

    Tuples of four columns, not model instances, which cost several times the CPU to build,
    on the database thread that every turn of the process shares.
    """
    newest_first = message_list(conversation=conversation).reverse()
    rows = list(newest_first.values_list("sender", "message", "status", "updated_at")[:limit])
    return [HistoryMessage(*row) for row in reversed(rows)]


def stale_cutoff() -> datetime:
    """A streaming reply not saved since then has lost its generator."""
    return timezone.now() - timedelta(seconds=settings.NORA_REPLY_STALE_SECONDS)


@dataclass(frozen=True, slots=True)
class PromptContext:
    """What the model is told for a turn's reply, read before the turn is saved."""

    # With its user (`conversation.user`): their profile shapes the prompt and the notice.
    conversation: Conversation
    personality: str
    # The conversation's last HISTORY_MESSAGES messages before this turn, oldest first.
    earlier: list[HistoryMessage]
    # What the user just said.
    said: HistoryMessage

    @property
    def history(self) -> list[HistoryMessage]:
        """The messages the prompt is built from, oldest first, ending with the new one."""
        return [*self.earlier[1 - HISTORY_MESSAGES :], self.said]

    @property
    def whole_conversation(self) -> bool:
        """Whether `earlier` holds every message of the conversation: fewer than the limit were read."""
        return len(self.earlier) < HISTORY_MESSAGES

    @property
    def reply_live(self) -> bool:
        """Whether another reply in the conversation is being generated (its generator still saves it)."""
        cutoff = stale_cutoff()
        return any(m.status == Message.Status.STREAMING and m.updated_at >= cutoff for m in self.earlier)


def prompt_context_read(*, user_id, conversation_id, text: str, personality: str | None) -> PromptContext:
    """The context of a new turn in the user's conversation, `text` being what they just said.

    The user is read with the conversation: an access token is checked without the database,
    and a user deleted or deactivated since fails here with 401.
    """
    try:
        # get(), not first(): an id matches one row, and ordering it is work for nothing.
        conversation = Conversation.objects.select_related("user").get(
            user_id=user_id, user__is_active=True, id=conversation_id
        )
    except Conversation.DoesNotExist:
        if not User.objects.filter(id=user_id, is_active=True).exists():
            raise NotAuthenticatedError(NOT_AUTHENTICATED) from None
        raise NotFoundError("Conversation not found.") from None
    return PromptContext(
        conversation=conversation,
        personality=personality or conversation.personality,
        earlier=message_history(conversation=conversation, limit=HISTORY_MESSAGES),
        said=HistoryMessage(
            sender=Message.Sender.USER, message=text, status=Message.Status.COMPLETE, updated_at=timezone.now()
        ),
    )


def reply_in_progress(*, conversation: Conversation) -> bool:
    return Message.objects.filter(conversation=conversation, status=Message.Status.STREAMING).exists()


@dataclass(frozen=True, slots=True)
class UserExport:
    user: User
    conversations: list[Conversation]
    exported_at: datetime


def user_export_get(*, user: User) -> UserExport:
    """Everything Nora stores about the user (their profile and conversations), in two queries however much there is."""
    messages = Message.objects.order_by("created_at", "id")
    conversations = (
        Conversation.objects.filter(user=user)
        .order_by("created_at", "id")
        .prefetch_related(Prefetch("messages", queryset=messages))
    )
    return UserExport(user=user, conversations=list(conversations), exported_at=timezone.now())
