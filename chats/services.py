"""Writes for conversations and their messages.

The reply engine (chats/engine) decides what happens in a turn; these functions are the
only places that turn's rows are written.
"""

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from nora.errors import NOT_AUTHENTICATED, ConflictError, NotAuthenticatedError, NotFoundError
from nora.expressions import ValueByPrimaryKey

from . import selectors
from .models import Conversation, Message
from .personalities import PERSONALITIES
from .safety.classifier import Classification
from .safety.notices import safety_texts_build

REPLY_IN_PROGRESS = "A reply is already being generated"
HISTORY_MESSAGES = 200


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


def conversation_title_replace(*, conversation_id, expected: str, title: str) -> bool:
    """Replace a generated title, unless the user renamed the conversation meanwhile."""
    return bool(Conversation.objects.filter(id=conversation_id, title=expected).update(title=title))


def _stale_cutoff() -> datetime:
    return timezone.now() - timedelta(seconds=settings.NORA_REPLY_STALE_SECONDS)


def replies_recover_stale(*, conversation_id) -> int:
    """Mark replies whose generator died (no progress saved for a while) as incomplete."""
    return Message.objects.filter(
        conversation_id=conversation_id, status=Message.Status.STREAMING, updated_at__lt=_stale_cutoff()
    ).update(status=Message.Status.INCOMPLETE, updated_at=timezone.now())


def replies_shown_recover_stale(*, messages: Sequence[Message]) -> None:
    """Mark a dead reply among messages about to be shown as incomplete, there and in the database.

    Only a page that shows a streaming reply is checked, so reading a conversation usually
    writes nothing; a dead reply on a page nobody reads is recovered by the next turn.
    """
    cutoff = _stale_cutoff()
    for message in messages:
        if message.status != Message.Status.STREAMING or message.updated_at >= cutoff:
            continue
        now = timezone.now()
        # Conditional, like the turn's recovery: a generator that saved progress meanwhile is alive.
        if Message.objects.filter(id=message.id, status=Message.Status.STREAMING, updated_at__lt=cutoff).update(
            status=Message.Status.INCOMPLETE, updated_at=now
        ):
            message.status, message.updated_at = Message.Status.INCOMPLETE, now


def title_fallback_make(*, text: str) -> str:
    words = text.split()
    title = " ".join(words[:6])
    if len(title) > 60:
        title = title[:57].rstrip() + "..."
    elif len(words) > 6:
        title += "..."
    return title[:1].upper() + title[1:] if title else "New conversation"


def _user_message_build(*, conversation: Conversation, text: str, source: str, categories: list[str]) -> Message:
    return Message(
        conversation=conversation,
        sender=Message.Sender.USER,
        message=text,
        source=source,
        categories=categories,
        primary_category=categories[0] if categories else "",
    )


def _user_message_create(*, conversation: Conversation, text: str, source: str, categories: list[str]) -> Message:
    message = _user_message_build(conversation=conversation, text=text, source=source, categories=categories)
    message.save(force_insert=True)
    return message


def _reply_streaming(*, messages: Sequence[selectors.HistoryMessage]) -> bool:
    """Whether a live reply (one whose generator still saves progress) is among the messages."""
    cutoff = _stale_cutoff()
    return any(m.status == Message.Status.STREAMING and m.updated_at >= cutoff for m in messages)


def _streaming_reply_possible(*, messages: Sequence[selectors.HistoryMessage]) -> bool:
    """Whether a streaming reply, live or dead, may be in the conversation these messages end.

    Fewer messages than the history's limit are the whole conversation.
    """
    return len(messages) >= HISTORY_MESSAGES or any(m.status == Message.Status.STREAMING for m in messages)


def _streaming_reply_create(
    *,
    conversation: Conversation,
    conflict_possible: bool,
    notice: str,
    source: str,
    personality: str,
    categories: list[str],
    disclaimer,
) -> Message | None:
    """The turn's empty streaming reply; None while another reply in the conversation is streaming.

    A reply whose generator died blocks the next one until it is marked incomplete, which is
    done here, only when it blocks, so a turn's usual path writes nothing it does not need.
    The caller holds the conversation's row lock, so when it has read the whole conversation
    and found no streaming reply (`conflict_possible` false), none can appear before this
    transaction ends: the insert then needs no savepoint, two round trips fewer per turn.
    """
    fields = {
        "conversation": conversation,
        "sender": Message.Sender.AI,
        "status": Message.Status.STREAMING,
        "message": notice,
        "source": source,
        "personality": personality,
        "categories": categories,
        "primary_category": categories[0] if categories else "",
        "disclaimer": disclaimer,
    }
    if not conflict_possible:
        return Message.objects.create(**fields)
    try:
        with transaction.atomic():
            return Message.objects.create(**fields)
    except IntegrityError:
        if not replies_recover_stale(conversation_id=conversation.id):
            return None
    return Message.objects.create(**fields)


@dataclass(frozen=True, slots=True)
class TurnRecord:
    conversation: Conversation
    user_message: Message
    reply: Message
    history: list[selectors.HistoryMessage]
    # Set only on the conversation's first message: the title saved until the model's arrives.
    title_fallback: str | None


@dataclass(frozen=True, slots=True)
class TurnContext:
    """What the model needs for a turn's reply, known before the turn's rows are written."""

    user: User
    personality: str
    history: list[selectors.HistoryMessage]


def turn_begin(
    *,
    user_id,
    conversation_id,
    text: str,
    personality: str | None,
    source: str,
    classification: Classification,
    keep_user_message_on_conflict: bool = False,
    context_ready: Callable[[TurnContext], None] | None = None,
) -> TurnRecord:
    """Save the user's message and an empty streaming reply, in one transaction.

    The user is read with the conversation (`record.conversation.user`): an access token is
    checked without the database, and a user deleted or deactivated since fails here with 401.
    Their profile decides the language of the reply's emergency notice and disclaimer (else the
    message's own) and the numbers the notice names.
    The database allows one streaming reply per conversation, so a second turn while a reply is
    being generated (by any server process) fails with 409. Voice keeps what was said even then.

    `context_ready` is called with the reply's context once it is read, before the writes, so
    the model can be asked while they run; not when a live reply already blocks the turn.
    """
    with transaction.atomic():
        try:
            # get(), not first(): an id matches one row, and ordering it cost a fifth of
            # building this query, which sits before the model is asked.
            conversation = (
                Conversation.objects.select_for_update(of=("self",))
                .select_related("user")
                .get(user_id=user_id, user__is_active=True, id=conversation_id)
            )
        except Conversation.DoesNotExist:
            if not User.objects.filter(id=user_id, is_active=True).exists():
                raise NotAuthenticatedError(NOT_AUTHENTICATED) from None
            raise NotFoundError("Conversation not found.") from None
        personality = personality or conversation.personality
        categories = list(classification.detected_categories)
        primary = categories[0] if categories else ""
        profile = conversation.user
        safety = safety_texts_build(
            classification=classification, text=text, preferred_language=profile.language, country=profile.country
        )
        earlier = selectors.message_history(conversation=conversation, limit=HISTORY_MESSAGES)
        user_message = _user_message_build(conversation=conversation, text=text, source=source, categories=categories)
        said = selectors.HistoryMessage(
            sender=user_message.sender, message=text, status=user_message.status, updated_at=timezone.now()
        )
        history = [*earlier[1 - HISTORY_MESSAGES :], said]
        if context_ready is not None and not _reply_streaming(messages=earlier):
            context_ready(TurnContext(user=conversation.user, personality=personality, history=history))
        user_message.save(force_insert=True)
        reply = _streaming_reply_create(
            conversation=conversation,
            conflict_possible=_streaming_reply_possible(messages=earlier),
            notice=safety.first_text,
            source=source,
            personality=personality,
            categories=categories,
            disclaimer=safety.disclaimer,
        )
        conflict = reply is None
        if conflict and not keep_user_message_on_conflict:
            transaction.set_rollback(True)
        title_fallback = None
        conversation.personality = personality
        conversation.last_activity_at = timezone.now()
        conversation.has_emergency = conversation.has_emergency or primary == "emergency"
        if conversation.title is None:
            title_fallback = conversation.title = title_fallback_make(text=text)
        if not conflict or keep_user_message_on_conflict:
            conversation.save(update_fields=["personality", "last_activity_at", "has_emergency", "title"])
    if conflict:
        raise ConflictError(REPLY_IN_PROGRESS)
    return TurnRecord(
        conversation=conversation,
        user_message=user_message,
        reply=reply,
        history=history,
        title_fallback=title_fallback,
    )


def message_user_record(*, user: User, conversation_id, text: str, source: str, categories: list[str]) -> Message:
    conversation = Conversation.objects.filter(user=user, id=conversation_id).first()
    if conversation is None:
        raise NotFoundError("Conversation not found.")
    message = _user_message_create(conversation=conversation, text=text, source=source, categories=categories)
    Conversation.objects.filter(id=conversation.id).update(
        last_activity_at=timezone.now(), has_emergency=conversation.has_emergency or "emergency" in categories
    )
    return message


def replies_progress_save(*, texts: Mapping[uuid.UUID, str]) -> None:
    """Save the text so far of streaming replies (reply id to text), all in one statement.

    A reply that finished meanwhile keeps its final text.
    """
    Message.objects.filter(id__in=texts, status=Message.Status.STREAMING).update(
        message=ValueByPrimaryKey(texts, output_field=Message._meta.get_field("message")),
        updated_at=timezone.now(),
    )


def reply_abandon(*, reply_id, text: str) -> None:
    Message.objects.filter(id=reply_id, status=Message.Status.STREAMING).update(
        message=text, status=Message.Status.INCOMPLETE, updated_at=timezone.now()
    )


@dataclass(frozen=True, slots=True)
class TriageOutcome:
    """What the model-assisted triage said of a user's message, as saved on it."""

    verdict: str
    sign: str = ""
    latency_ms: int | None = None
    model: str = ""
    input_tokens: int | None = None
    output_tokens: int | None = None

    @property
    def raises(self) -> bool:
        return self.verdict == Message.TriageVerdict.EMERGENCY


@dataclass(frozen=True, slots=True)
class EmergencyRaise:
    """A turn the triage raised to an emergency after its rows were written."""

    categories: list[str]
    disclaimer: dict | None


def reply_finish(
    *,
    reply_id,
    conversation_id,
    text: str,
    status: str,
    model: str = "",
    input_tokens=None,
    output_tokens=None,
    user_message_id=None,
    triage: TriageOutcome | None = None,
    raised: EmergencyRaise | None = None,
) -> None:
    """Save a reply's final state, and what its turn's triage found on the user's message."""
    now = timezone.now()
    reply_fields = {}
    if raised is not None:
        categories = raised.categories
        reply_fields = {"categories": categories, "primary_category": categories[0], "disclaimer": raised.disclaimer}
    Message.objects.filter(id=reply_id).update(
        message=text,
        status=status,
        model=model,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        updated_at=now,
        **reply_fields,
    )
    if triage is not None:
        triage_fields = {
            "triage_verdict": triage.verdict,
            "triage_sign": triage.sign,
            "triage_latency_ms": triage.latency_ms,
            "triage_model": triage.model,
            "triage_input_tokens": triage.input_tokens,
            "triage_output_tokens": triage.output_tokens,
        }
        if raised is not None:
            triage_fields |= {"categories": raised.categories, "primary_category": raised.categories[0]}
        Message.objects.filter(id=user_message_id).update(**triage_fields)
    conversation_fields = {"has_emergency": True} if raised is not None else {}
    Conversation.objects.filter(id=conversation_id).update(last_activity_at=now, **conversation_fields)
