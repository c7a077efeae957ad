"""What the model sees: a system prompt per personality, the user's profile, and bounded history."""

from collections.abc import Sequence
from datetime import date

from django.utils import timezone

from accounts.models import User
from chats.models import Message
from chats.selectors import HistoryMessage
from nora.personalities import PERSONALITIES

from .providers import PromptMessage

NORA_BASE_PROMPT = (
    "You are Nora, a companion for people who are pregnant, trying to conceive, or caring for a "
    "newborn. Give accurate, practical, evidence-based information in plain language. You are not "
    "a doctor or midwife: never diagnose, never prescribe or change medication doses, and say when "
    "something needs a professional. Urgent warning signs (heavy bleeding, severe headache, vision "
    "changes, trouble breathing, chest pain, fever, the baby moving less, thoughts of self-harm) "
    "always come first: tell the person to seek care now. Keep answers short enough to read on a "
    "phone, and kind."
)


def pregnancy_stage_describe(*, due_date: date, today: date) -> str:
    days_to_go = (due_date - today).days
    if days_to_go >= 0:
        week = max(1, (280 - days_to_go) // 7)
        return f"The user is about {week} weeks pregnant (due {due_date.isoformat()})."
    weeks_since = -days_to_go // 7
    return f"The user's due date was {due_date.isoformat()}; the baby is likely about {weeks_since} weeks old."


def system_prompt_build(*, personality: str, user: User, safety_instructions: str = "") -> str:
    parts = [NORA_BASE_PROMPT, PERSONALITIES[personality].voice]
    if user.name:
        parts.append(f"The user's name is {user.name}.")
    if user.due_date:
        parts.append(pregnancy_stage_describe(due_date=user.due_date, today=timezone.localdate()))
    if safety_instructions:
        parts.append(safety_instructions)
    return "\n\n".join(parts)


def prompt_messages_build(*, history: Sequence[HistoryMessage], budget_chars: int) -> list[PromptMessage]:
    """The conversation as the model is sent it: newest kept first until the budget runs out,
    in the order the API expects.

    `history` is oldest first and ends with the user's new message, which is always kept.
    """
    kept: list[PromptMessage] = []
    spent = 0
    for message in reversed(history):
        if not message.message:
            continue
        if kept and spent + len(message.message) > budget_chars:
            break
        spent += len(message.message)
        role = "user" if message.sender == Message.Sender.USER else "assistant"
        kept.append(PromptMessage(role=role, text=message.message))
    kept.reverse()
    while kept and kept[0].role != "user":
        kept.pop(0)
    return kept
