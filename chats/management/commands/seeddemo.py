"""`manage.py seeddemo`: a demo account with a few realistic conversations, one of them an emergency.

Run it again and nothing is duplicated: conversations are matched by title, and the password is
left alone unless --reset-password asks for a new one. The password is random and shown once.
"""

import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from chats.models import Conversation, Message

DEMO_EMAIL = "demo@nora.local"
DISCLAIMER_TEXT = (
    "This information is for educational purposes only and is not a substitute for advice from "
    "your midwife, doctor or other healthcare professional."
)


@dataclass(frozen=True)
class Turn:
    sender: str
    text: str
    categories: tuple[str, ...] = ()


@dataclass(frozen=True)
class DemoConversation:
    title: str
    personality: str
    hours_ago: int
    turns: tuple[Turn, ...]


CONVERSATIONS = (
    DemoConversation(
        title="Tired all the time at 14 weeks",
        personality="mother_figure",
        hours_ago=6 * 24,
        turns=(
            Turn(
                "user",
                "I'm 14 weeks pregnant and so tired I can barely get through the afternoon. Is that normal?",
                ("pregnancy",),
            ),
            Turn(
                "ai",
                "It's very common, love. Your body is building the placenta and your blood volume is rising, "
                "and that takes a lot out of you. Many people find the tiredness eases in the second "
                "trimester. Rest when you can, keep eating little and often, and mention it to your "
                "midwife so they can check your iron.",
                ("pregnancy",),
            ),
            Turn("user", "Thank you. Should I be taking anything for iron?", ("pregnancy", "medication")),
            Turn(
                "ai",
                "Please don't start iron tablets on your own; your midwife can check your levels with a "
                "simple blood test first. Foods like lentils, spinach and lean red meat help, and vitamin C "
                "with meals helps you absorb iron.",
                ("pregnancy", "medication"),
            ),
        ),
    ),
    DemoConversation(
        title="What to eat for more energy",
        personality="science_guide",
        hours_ago=3 * 24,
        turns=(
            Turn(
                "user",
                "What are good snacks for energy in pregnancy? I keep reaching for biscuits.",
                ("nutrition", "pregnancy"),
            ),
            Turn(
                "ai",
                "Snacks that pair slow carbohydrates with protein keep blood sugar steadier: wholegrain "
                "toast with peanut butter, yoghurt with fruit, hummus with vegetables, or a handful of "
                "nuts. Biscuits now and then are fine too.",
                ("nutrition", "pregnancy"),
            ),
        ),
    ),
    DemoConversation(
        title="Bleeding at 32 weeks",
        personality="midwife",
        hours_ago=20,
        turns=(
            Turn(
                "user",
                "I'm 32 weeks and I've started bleeding quite heavily, and there's a pain in my tummy "
                "that won't go away.",
                ("emergency", "pregnancy"),
            ),
            Turn(
                "ai",
                "Heavy bleeding with constant pain at 32 weeks needs to be seen straight away. Please call "
                "your maternity unit or your local emergency number now, and don't wait to see if it "
                "settles. If you can, lie on your left side while you wait and have someone stay with you.",
                ("emergency", "pregnancy"),
            ),
        ),
    ),
    DemoConversation(
        title="Feeling low since the baby came",
        personality="best_friend",
        hours_ago=2,
        turns=(
            Turn(
                "user",
                "The baby is three weeks old and I keep crying and feeling like I'm not good enough.",
                ("mental_health",),
            ),
            Turn(
                "ai",
                "That sounds really hard, and you're not alone in it. Lots of people feel weepy in the "
                "first weeks, and if it carries on or gets heavier it's worth telling your health visitor "
                "or GP; it's common and it's treatable. Is there someone who can take the baby for a few "
                "hours so you can sleep?",
                ("mental_health",),
            ),
        ),
    ),
)


def _disclaimer(categories: tuple[str, ...]) -> dict | None:
    if not categories:
        return None
    return {"primary_category": categories[0], "detected_categories": list(categories), "message": DISCLAIMER_TEXT}


def _conversation_seed(*, user: User, spec: DemoConversation) -> bool:
    """Create one demo conversation with its messages, unless the demo user already has it."""
    if Conversation.objects.filter(user=user, title=spec.title).exists():
        return False
    started = timezone.now() - timedelta(hours=spec.hours_ago)
    conversation = Conversation.objects.create(
        user=user,
        title=spec.title,
        personality=spec.personality,
        has_emergency=any("emergency" in turn.categories for turn in spec.turns),
    )
    at = started
    for turn in spec.turns:
        is_reply = turn.sender == Message.Sender.AI
        message = Message.objects.create(
            conversation=conversation,
            sender=turn.sender,
            message=turn.text,
            personality=spec.personality if is_reply else "",
            categories=list(turn.categories),
            primary_category=turn.categories[0] if turn.categories else "",
            disclaimer=_disclaimer(turn.categories) if is_reply else None,
            model="demo" if is_reply else "",
        )
        Message.objects.filter(pk=message.pk).update(created_at=at, updated_at=at)
        at += timedelta(seconds=40)
    Conversation.objects.filter(pk=conversation.pk).update(created_at=started, last_activity_at=at)
    return True


def demo_seed(*, reset_password: bool = False) -> tuple[User, str | None, int]:
    """The demo user, its new password if one was set now, and how many conversations were added."""
    with transaction.atomic():
        user, created = User.objects.get_or_create(
            email=DEMO_EMAIL,
            defaults={"name": "Demo", "due_date": timezone.localdate() + timedelta(weeks=8)},
        )
        password = None
        if created or reset_password:
            password = secrets.token_urlsafe(12)
            user.set_password(password)
            user.save(update_fields=["password"])
        added = sum(_conversation_seed(user=user, spec=spec) for spec in CONVERSATIONS)
    return user, password, added


class Command(BaseCommand):
    help = (
        f"Create the demo account {DEMO_EMAIL} with a few conversations, one flagged as an emergency. "
        "Safe to run again; the password is random and printed only when it is set."
    )

    def add_arguments(self, parser):
        parser.add_argument("--reset-password", action="store_true", help="Give the demo user a new password.")

    def handle(self, *args, reset_password: bool, **options):
        user, password, added = demo_seed(reset_password=reset_password)
        self.stdout.write(f"Demo user {user.email}: {added} conversation(s) added, {len(CONVERSATIONS)} in the set.")
        if password:
            self.stdout.write(self.style.SUCCESS(f"Password (shown only this once): {password}"))
        else:
            self.stdout.write("Password unchanged; run with --reset-password for a new one.")
