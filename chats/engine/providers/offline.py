"""Replies from a small built-in guide, so Nora runs with no API key and no network."""

import asyncio
import functools
import re
import tomllib
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from chats.engine.providers.base import (
    ModelEvent,
    PromptMessage,
    ReplyOpened,
    ReplyProviderError,
    ReplyUsage,
    TextDelta,
    TriageAnswer,
)
from chats.safety.classifier import message_classify

GUIDE_PATH = Path(__file__).with_name("offline_guide.toml")


@dataclass(frozen=True, slots=True)
class Topic:
    title: str
    # The safety category (the classifier's primary one) this topic answers, if any.
    category: str | None
    # Matched at the start of a word, so "vomit" also finds "vomiting".
    keywords: tuple[str, ...]
    text: str


@dataclass(frozen=True, slots=True)
class Guide:
    notice: str
    topics: tuple[Topic, ...]
    fallback: str


@functools.cache
def guide() -> Guide:
    with GUIDE_PATH.open("rb") as file:
        data = tomllib.load(file)
    topics = tuple(
        Topic(
            title=topic["title"],
            category=topic.get("category"),
            keywords=tuple(topic.get("keywords", ())),
            text=topic["text"].strip(),
        )
        for topic in data["topics"]
    )
    return Guide(notice=data["notice"], topics=topics, fallback=data["fallback"].strip())


FALLBACK_TITLE_WORDS = 4
STOPWORDS = frozenset(
    "a an and are about any am be but can could do does for from have how i i'm im if in is it it's its me my "
    "of on or should so that the there this to was we what when where which who why will with would you your "
    "hi hello hey please thanks thank".split()
)


def topic_pick(*, text: str) -> Topic | None:
    """The first topic of the guide whose category or keywords fit the message.

    The category is the classifier's primary one, except that thoughts of self-harm, an
    emergency of the mind, are answered by the feelings topic, which names the crisis line.
    """
    classification = message_classify(text=text)
    category = "mental_health" if classification.is_self_harm else classification.primary_category
    lowered = text.lower()
    for topic in guide().topics:
        if topic.category is not None and topic.category == category:
            return topic
        if any(re.search(rf"\b{re.escape(keyword)}", lowered) for keyword in topic.keywords):
            return topic
    return None


def _words_count(*, text: str) -> int:
    return len(text.split())


class OfflineReplyProvider:
    """Answers the person's last message from the built-in guide, word by word."""

    # With no model to ask, the offline layers decide alone.
    can_triage = False

    async def aclose(self) -> None:
        """It holds no connections."""

    async def reply_stream(self, *, system: str, history: Sequence[PromptMessage]) -> AsyncIterator[ModelEvent]:
        last_user_text = next((turn.text for turn in reversed(history) if turn.role == "user"), "")
        topic = topic_pick(text=last_user_text)
        reply = f"{guide().notice}\n\n{topic.text if topic else guide().fallback}"
        delay = settings.NORA_OFFLINE_WORD_DELAY_SECONDS
        words = re.findall(r"\S+\s*", reply)
        yield ReplyOpened()
        for index, word in enumerate(words):
            if index:
                await asyncio.sleep(delay)
            yield TextDelta(word)
        yield ReplyUsage(
            model="offline",
            input_tokens=_words_count(text=system) + sum(_words_count(text=turn.text) for turn in history),
            output_tokens=len(words),
        )

    async def title_generate(self, *, message: str) -> str:
        topic = topic_pick(text=message)
        if topic is not None:
            return topic.title
        words = [word for word in re.findall(r"[^\W\d_][\w'-]*", message.lower()) if word not in STOPWORDS]
        return " ".join(word.capitalize() for word in words[:FALLBACK_TITLE_WORDS]) or "New Conversation"

    async def triage_assess(self, *, message: str) -> TriageAnswer:
        raise ReplyProviderError("Nora has no model to ask for a second opinion offline.", code="unavailable")
