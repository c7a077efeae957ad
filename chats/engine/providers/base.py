"""What the reply engine needs from a language model, independent of any vendor."""

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol


@dataclass(frozen=True, slots=True)
class PromptMessage:
    """One message of the conversation as the model is sent it."""

    role: Literal["user", "assistant"]
    text: str


@dataclass(frozen=True, slots=True)
class ReplyOpened:
    """Yielded once, before any text: the model has accepted the request and is answering."""


@dataclass(frozen=True, slots=True)
class TextDelta:
    text: str


@dataclass(frozen=True, slots=True)
class ReplyUsage:
    """Yielded once, last, and only when the reply ended normally."""

    model: str
    input_tokens: int
    output_tokens: int


# What a model's reply stream yields; the live reply turns these into its own events.
ModelEvent = ReplyOpened | TextDelta | ReplyUsage


@dataclass(frozen=True, slots=True)
class TriageAnswer:
    """A model's second opinion on whether a message describes an emergency."""

    emergency: bool
    # A warning sign the classifier names (chats.safety.triage.NAMED_SIGNS), when it is an
    # emergency and the model named one.
    sign: str | None
    model: str
    input_tokens: int
    output_tokens: int


class ReplyProviderError(Exception):
    """A provider failure; `message` is written for a person and safe to send to clients."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class ReplyProvider(Protocol):
    # Whether `triage_assess` asks a model; the offline provider has none to ask.
    can_triage: bool

    def reply_stream(self, *, system: str, history: Sequence[PromptMessage]) -> AsyncIterator[ModelEvent]: ...

    async def title_generate(self, *, message: str) -> str: ...

    async def triage_assess(self, *, message: str) -> TriageAnswer: ...

    async def aclose(self) -> None:
        """Release what the provider holds for the running event loop, before the loop ends."""
