"""Writes for conversations and their messages.

The reply engine (chats/engine) decides what happens in a turn; these functions are the
only places that turn's rows are written.
"""

import functools
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import User
from nora.errors import ConflictError, NotFoundError
from nora.expressions import ValueByPrimaryKey
from nora.personalities import PERSONALITIES

from . import selectors
from .models import Conversation, Message
from .safety.notices import SafetyDecision

REPLY_IN_PROGRESS = "A reply is already being generated"


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


def replies_recover_stale(*, conversation_id) -> int:
    """Mark replies whose generator died (no progress saved for a while) as incomplete."""
    return Message.objects.filter(
        conversation_id=conversation_id, status=Message.Status.STREAMING, updated_at__lt=selectors.stale_cutoff()
    ).update(status=Message.Status.INCOMPLETE, updated_at=timezone.now())


def replies_shown_recover_stale(*, messages: Sequence[Message]) -> None:
    """Mark a dead reply among messages about to be shown as incomplete, there and in the database.

    Only a page that shows a streaming reply is checked, so reading a conversation usually
    writes nothing; a dead reply on a page nobody reads is recovered by the next turn.
    """
    cutoff = selectors.stale_cutoff()
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


def _user_message_build(*, conversation: Conversation, text: str, source: str, safety: SafetyDecision) -> Message:
    categories = safety.categories
    return Message(
        conversation=conversation,
        sender=Message.Sender.USER,
        message=text,
        source=source,
        categories=categories,
        primary_category=categories[0] if categories else "",
    )


def _streaming_reply_possible(*, context: selectors.PromptContext) -> bool:
    """Whether a streaming reply, live or dead, was in the conversation when its context was read."""
    return not context.whole_conversation or any(m.status == Message.Status.STREAMING for m in context.earlier)


def _streaming_reply_create(
    *, conversation: Conversation, conflict_possible: bool, source: str, personality: str, safety: SafetyDecision
) -> Message | None:
    """The turn's streaming reply, holding the emergency notice if any; None while another reply streams.

    A reply whose generator died blocks the next one until it is marked incomplete, which is
    done here, only when it blocks, so a turn's usual path writes nothing it does not need.
    When the turn's context showed no streaming reply (`conflict_possible` false) the insert
    needs no savepoint, two round trips fewer per turn: one started since then fails the whole
    transaction, and `turn_save` writes the turn again, expecting it.
    """
    categories = safety.categories
    fields = {
        "conversation": conversation,
        "sender": Message.Sender.AI,
        "status": Message.Status.STREAMING,
        "message": safety.first_text,
        "source": source,
        "personality": personality,
        "categories": categories,
        "primary_category": categories[0] if categories else "",
        "disclaimer": safety.disclaimer,
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
class SavedTurn:
    """A turn's rows as saved: the user's message and the reply that streams into its row."""

    conversation: Conversation
    user_message: Message
    reply: Message
    # Set only on the conversation's first message: the title saved until the model's arrives.
    title_fallback: str | None


def turn_save(
    *,
    context: selectors.PromptContext,
    text: str,
    source: str,
    safety: SafetyDecision,
    keep_user_message_on_conflict: bool = False,
) -> SavedTurn:
    """Save the user's message and the reply's streaming row, in one transaction.

    The database allows one streaming reply per conversation, so a second turn while a reply is
    being generated (by any server process) fails with 409. Voice keeps what was said even then.
    """
    conflict_possible = _streaming_reply_possible(context=context)
    insert = functools.partial(
        _turn_insert,
        context=context,
        text=text,
        source=source,
        safety=safety,
        keep_user_message_on_conflict=keep_user_message_on_conflict,
    )
    try:
        return insert(conflict_possible=conflict_possible)
    except IntegrityError:
        if conflict_possible:
            raise
        # A reply was started after the context was read: write the turn again, ready for it.
        return insert(conflict_possible=True)


def _turn_insert(
    *,
    context: selectors.PromptContext,
    text: str,
    source: str,
    safety: SafetyDecision,
    conflict_possible: bool,
    keep_user_message_on_conflict: bool,
) -> SavedTurn:
    conversation = context.conversation
    with transaction.atomic():
        user_message = _user_message_build(conversation=conversation, text=text, source=source, safety=safety)
        user_message.save(force_insert=True)
        reply = _streaming_reply_create(
            conversation=conversation,
            conflict_possible=conflict_possible,
            source=source,
            personality=context.personality,
            safety=safety,
        )
        conflict = reply is None
        if conflict and not keep_user_message_on_conflict:
            transaction.set_rollback(True)
        else:
            title_fallback = title_fallback_make(text=text) if conversation.title is None else None
            _conversation_touch(
                conversation=conversation, safety=safety, personality=context.personality, title_fallback=title_fallback
            )
    if conflict:
        raise ConflictError(REPLY_IN_PROGRESS)
    return SavedTurn(conversation=conversation, user_message=user_message, reply=reply, title_fallback=title_fallback)


def _conversation_touch(
    *,
    conversation: Conversation,
    safety: SafetyDecision,
    personality: str | None = None,
    title_fallback: str | None = None,
) -> None:
    """A turn's mark on its conversation: activity, the personality it used, the emergency flag, a first title.

    One statement, which keeps what others wrote since the conversation was read: an emergency
    flag is only ever set, and a title the user gave meanwhile is not replaced by the fallback.
    """
    now = timezone.now()
    fields = {"last_activity_at": now}
    conversation.last_activity_at = now
    if personality is not None:
        fields["personality"] = conversation.personality = personality
    if safety.is_emergency:
        fields["has_emergency"] = conversation.has_emergency = True
    if title_fallback is not None:
        fields["title"] = Coalesce("title", Value(title_fallback))
        conversation.title = title_fallback
    Conversation.objects.filter(id=conversation.id).update(**fields)


def message_user_record(*, user: User, conversation_id, text: str, source: str, safety: SafetyDecision) -> Message:
    """Save words the user said outside a turn (a socket closed mid-utterance); no reply is started."""
    conversation = Conversation.objects.filter(user=user, id=conversation_id).first()
    if conversation is None:
        raise NotFoundError("Conversation not found.")
    with transaction.atomic():
        message = _user_message_build(conversation=conversation, text=text, source=source, safety=safety)
        message.save(force_insert=True)
        _conversation_touch(conversation=conversation, safety=safety)
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
    raised: SafetyDecision | None = None,
) -> None:
    """Save a reply's final state, and what its turn's triage found on the user's message.

    `raised` is the turn's decision once the triage made it an emergency after the rows were written.
    """
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
    conversation_fields = {"has_emergency": True} if raised is not None and raised.is_emergency else {}
    Conversation.objects.filter(id=conversation_id).update(last_activity_at=now, **conversation_fields)
