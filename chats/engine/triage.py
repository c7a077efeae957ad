"""The model-assisted triage of one turn: asked when the reply is, waited for only until a deadline.

The reply's text is held until the triage answers or NORA_TRIAGE_DEADLINE_SECONDS pass, so that
when the model calls the message an emergency the fixed notice still comes first. A late or
failed triage changes nothing: the offline layers have decided alone.
"""

import asyncio
import contextvars
import logging
import time

from django.conf import settings

from chats.models import Message
from chats.safety.notices import SafetyDecision
from chats.services import TriageOutcome
from nora.observability import PROVIDER_ERRORS, TRIAGE_LATENCY, TRIAGE_VERDICTS

from .providers import ReplyProviderError, TriageAnswer, reply_provider

logger = logging.getLogger(__name__)


def triage_wanted(*, safety: SafetyDecision) -> bool:
    """Whether to ask: the layer is on, a model can answer, and the offline layers let the message pass."""
    return settings.NORA_TRIAGE_DEADLINE_SECONDS > 0 and not safety.is_emergency and reply_provider().can_triage


class ModelTriage:
    """One message's triage, running from the moment the turn starts."""

    def __init__(self, *, text: str, context: contextvars.Context) -> None:
        self._began = time.monotonic()
        self._deadline = self._began + settings.NORA_TRIAGE_DEADLINE_SECONDS
        self._task = asyncio.create_task(self._assess(text=text), context=context)
        self._outcome: TriageOutcome | None = None
        self._latency: float | None = None

    async def _assess(self, *, text: str) -> TriageAnswer:
        answer = await reply_provider().triage_assess(message=text)
        self._latency = time.monotonic() - self._began
        TRIAGE_LATENCY.observe(self._latency)
        return answer

    async def outcome(self, *, wait: bool = True) -> TriageOutcome:
        """The triage's outcome, waiting for it until the deadline (not at all without `wait`).

        Decided once: the first call fixes what the turn does with it.
        """
        if self._outcome is None:
            if wait and not self._task.done():
                remaining = self._deadline - time.monotonic()
                if remaining > 0:
                    await asyncio.wait([self._task], timeout=remaining)
            if self._outcome is None:
                self._outcome = self._outcome_read()
                TRIAGE_VERDICTS.labels(self._outcome.verdict).inc()
        return self._outcome

    def _outcome_read(self) -> TriageOutcome:
        if not self._task.done():
            return TriageOutcome(verdict=Message.TriageVerdict.LATE)
        error = self._task.exception()
        if isinstance(error, ReplyProviderError):
            PROVIDER_ERRORS.labels("triage", error.code).inc()
            logger.info("The model-assisted triage failed (%s); the offline layers decide alone", error.code)
            return TriageOutcome(verdict=Message.TriageVerdict.FAILED)
        if error is not None:
            logger.error("The model-assisted triage failed", exc_info=error)
            return TriageOutcome(verdict=Message.TriageVerdict.FAILED)
        answer = self._task.result()
        return TriageOutcome(
            verdict=Message.TriageVerdict.EMERGENCY if answer.emergency else Message.TriageVerdict.NOT_EMERGENCY,
            sign=answer.sign or "",
            latency_ms=round(self._latency * 1000),
            model=answer.model,
            input_tokens=answer.input_tokens,
            output_tokens=answer.output_tokens,
        )

    async def close(self) -> None:
        """Stop waiting for an answer nobody will read."""
        if not self._task.done():
            self._task.cancel()
        await asyncio.wait([self._task])
        if not self._task.cancelled():
            # Read, so that asyncio does not report an exception nobody retrieved.
            self._task.exception()
