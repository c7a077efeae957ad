"""The reply engine: one turn of a conversation, from the user's words to a saved reply.

It knows nothing about HTTP or sockets. The SSE view and the voice consumer both start a
turn with `turn_start` and read the events of the live reply it returns; the generation runs
in a task of its own, so a reply outlives the request that asked for it and is saved even if
nobody is listening.
"""

import asyncio
import atexit
import contextlib
import contextvars
import functools
import logging
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

from channels.db import database_sync_to_async
from django.conf import settings
from django.db import DatabaseError

from accounts.models import User
from chats import quotas, selectors, services
from chats.models import Message
from chats.safety.classifier import message_classify
from chats.safety.notices import SafetyDecision, safety_decide
from chats.safety.triage import classification_raise
from nora.errors import ServiceUnavailableError, TooManyRequestsError
from nora.event_loops import PerEventLoop
from nora.observability import FIRST_CHUNK, PROVIDER_ERRORS, TOKENS, conversation_id_var, request_id_var, user_id_var

from .prompts import prompt_messages_build, system_prompt_build
from .providers import ModelEvent, ReplyOpened, ReplyProviderError, ReplyUsage, TextDelta, reply_provider
from .stop_requests import StopSubscription, stop_listener
from .triage import ModelTriage, triage_wanted

logger = logging.getLogger(__name__)

GENERIC_FAILURE = "Nora could not finish this reply. Please try again."
UNSAVED_FAILURE = "Nora could not save this reply. Please try again in a moment."
UNAVAILABLE = "Nora is temporarily unavailable. Please try again in a moment."


@dataclass(frozen=True, slots=True)
class ReplyStart:
    message_id: uuid.UUID
    title: str | None


@dataclass(frozen=True, slots=True)
class ReplyChunk:
    text: str


@dataclass(frozen=True, slots=True)
class ReplyDone:
    message_id: uuid.UUID
    status: str
    text: str
    disclaimer: dict | None
    title: str | None


@dataclass(frozen=True, slots=True)
class ReplyFailed:
    message_id: uuid.UUID
    message: str


ReplyEvent = ReplyStart | ReplyChunk | ReplyDone | ReplyFailed

# Generations in flight in this process; the event loop only keeps weak references to tasks.
_running: set["LiveReply"] = set()


def _context_fresh(*, user_id, conversation_id) -> contextvars.Context:
    """A context carrying only the log ids.

    A task started inside a request would otherwise inherit that request's thread-sensitive
    executor, which Django shuts down when the response is sent.
    """
    context = contextvars.Context()
    context.run(request_id_var.set, request_id_var.get())
    context.run(user_id_var.set, str(user_id))
    context.run(conversation_id_var.set, str(conversation_id))
    return context


class ModelReply:
    """The model's reply to a turn, asked for as soon as the turn's prompt context is read.

    Usually that is while the turn's rows are still being written. Nothing of it is shown
    before they are saved: the first event waits here until the live reply reads it, and a
    turn that could not be saved discards it.
    """

    def __init__(self, *, context: selectors.PromptContext, safety: SafetyDecision) -> None:
        conversation = context.conversation
        system = system_prompt_build(
            personality=context.personality, user=conversation.user, safety_instructions=safety.instructions
        )
        messages = prompt_messages_build(history=context.history, budget_chars=settings.NORA_HISTORY_MAX_CHARS)
        self._stream = reply_provider().reply_stream(system=system, history=messages)
        self._first = asyncio.create_task(
            anext(self._stream), context=_context_fresh(user_id=conversation.user_id, conversation_id=conversation.id)
        )

    async def events(self) -> AsyncIterator[ModelEvent]:
        try:
            yield await self._first
        except StopAsyncIteration:
            return
        async for event in self._stream:
            yield event

    async def discard(self) -> None:
        self._first.cancel()
        await asyncio.wait([self._first])
        if not self._first.cancelled() and self._first.exception() is None:
            # A failure to close must not hide why the turn failed.
            with contextlib.suppress(Exception):
                await self._stream.aclose()


@functools.cache
def _shutdown_hook_install() -> None:
    atexit.register(replies_abandon)


def replies_abandon() -> None:
    """The server is exiting (SIGTERM, a deploy): save every reply it was generating as incomplete.

    Runs after the event loop has stopped, so plain synchronous ORM calls are safe here.
    """
    for reply in list(_running):
        try:
            services.reply_abandon(reply_id=reply.reply_id, text=reply.text)
        except Exception:
            logger.exception("Could not save an abandoned reply", extra={"reply_id": str(reply.reply_id)})


class LiveReply:
    """A reply being generated. Read its events with `events()`; end it early with `interrupt()`."""

    def __init__(
        self,
        *,
        saved: services.SavedTurn,
        safety: SafetyDecision,
        stop_subscription: StopSubscription | None,
        model: ModelReply | None,
        triage: ModelTriage | None = None,
    ) -> None:
        self.saved = saved
        self.reply_id = saved.reply.id
        self.conversation_id = saved.conversation.id
        self.user_id = saved.conversation.user_id
        self.disclaimer = saved.reply.disclaimer
        # Starts as the reply's saved first text: the emergency notice, or nothing.
        self.text = saved.reply.message
        # None when the turn is answered without the model (an emergency over the user's limits).
        self._model = model
        self._safety = safety
        # A second opinion on a message the offline layers let pass; None when none was asked for.
        self._triage = triage
        self._triage_outcome: services.TriageOutcome | None = None
        # The turn's decision once the triage made it an emergency; None while the first one stands.
        self._raised: SafetyDecision | None = None
        self._stop_subscription = stop_subscription
        self._began = time.monotonic()
        self._model_spoke = False
        self._events: asyncio.Queue[ReplyEvent] = asyncio.Queue()
        self._started = False
        self._start_carried_model_title = False
        self._final_status: str | None = None
        self._generation: asyncio.Task | None = None
        # Set once the model has accepted the reply's request, or once there will be no reply from it.
        self._reply_opened = asyncio.Event()
        self._title_task: asyncio.Task | None = None
        self._task: asyncio.Task | None = None

    @property
    def title_is_new(self) -> bool:
        return self.saved.title_fallback is not None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), context=self._context_fresh())
        if self.title_is_new:
            self._title_task = asyncio.create_task(self._title_generate(), context=self._context_fresh())
        _shutdown_hook_install()
        _running.add(self)
        self._task.add_done_callback(lambda _: _running.discard(self))

    def _context_fresh(self) -> contextvars.Context:
        return _context_fresh(user_id=self.user_id, conversation_id=self.conversation_id)

    async def events(self) -> AsyncIterator[ReplyEvent]:
        while True:
            event = await self._events.get()
            yield event
            if isinstance(event, ReplyDone | ReplyFailed):
                return

    async def next_event(self) -> ReplyEvent:
        return await self._events.get()

    def event_ready(self) -> ReplyEvent | None:
        """The next event if one is already waiting, else None."""
        try:
            return self._events.get_nowait()
        except asyncio.QueueEmpty:
            return None

    def interrupt(self, *, status: str) -> None:
        """End the reply now, saving what was said with `status` (stopped, or incomplete on barge-in)."""
        if self._final_status is None:
            self._final_status = status
        if self._generation is not None:
            self._generation.cancel()

    async def wait(self) -> None:
        if self._task is not None:
            await asyncio.shield(self._task)

    # The generation ------------------------------------------------------------------

    def _emit(self, event: ReplyEvent) -> None:
        self._events.put_nowait(event)

    def _emit_start(self) -> None:
        if self._started:
            return
        self._started = True
        title = None
        if self.title_is_new:
            model_title = self._title_ready()
            self._start_carried_model_title = model_title is not None
            title = model_title or self.saved.title_fallback
        self._emit(ReplyStart(message_id=self.reply_id, title=title))

    def _title_ready(self) -> str | None:
        task = self._title_task
        if task is not None and task.done() and not task.cancelled() and task.exception() is None:
            return task.result()
        return None

    async def _run(self) -> None:
        usage: ReplyUsage | None = None
        failure: str | None = None
        status = Message.Status.COMPLETE
        if self.text:
            # The emergency notice is already saved with the reply and goes out before
            # anything the model says, so it never depends on the model.
            self._emit_start()
            self._emit(ReplyChunk(text=self.text))
        if self._model is not None and self._final_status is None:
            # Started first, so the model's events are read before the helpers' first steps run.
            self._generation = asyncio.create_task(self._consume(self._model))
        else:
            self._reply_opened.set()
            if self._model is not None:
                await self._model.discard()
        stop_waiter = asyncio.create_task(self._listen_for_stop())
        saver = _progress_savers.get(_ProgressSaver)
        saver.add(self)
        try:
            if self._generation is not None:
                usage = await self._generation
            status = self._final_status or status
        except asyncio.CancelledError:
            if self._final_status is None:
                # The process is going away mid-reply: save what there is, then let it go.
                self._final_status = Message.Status.INCOMPLETE
                await asyncio.shield(self._finish(status=self._final_status, usage=None))
                raise
            status = self._final_status
        except ReplyProviderError as error:
            PROVIDER_ERRORS.labels("llm", error.code).inc()
            status, failure = Message.Status.ERROR, error.message
        except Exception:
            logger.exception("Reply generation failed", extra={"reply_id": str(self.reply_id)})
            status, failure = Message.Status.ERROR, GENERIC_FAILURE
        finally:
            stop_waiter.cancel()
            saver.discard(self)

        # A reply that failed before any text still owes the notice the triage calls for; one the
        # person stopped does not wait for it.
        await self._triage_settle(wait=status not in (Message.Status.STOPPED, Message.Status.INCOMPLETE))
        saved = await asyncio.shield(self._finish(status=status, usage=usage))
        self._emit_start()
        if not saved:
            failure = UNSAVED_FAILURE
        if failure is not None:
            self._emit(ReplyFailed(message_id=self.reply_id, message=failure))
            return
        self._emit(
            ReplyDone(
                message_id=self.reply_id,
                status=status,
                text=self.text,
                disclaimer=self.disclaimer,
                title=await self._title_late(),
            )
        )

    async def _consume(self, model: ModelReply) -> ReplyUsage | None:
        usage = None
        try:
            async for event in model.events():
                if isinstance(event, TextDelta):
                    if not event.text:
                        continue
                    if not self._model_spoke:
                        # The model's words wait for the triage, so that a notice it calls for comes first.
                        await self._triage_settle(wait=True)
                        self._model_spoke = True
                        FIRST_CHUNK.observe(time.monotonic() - self._began)
                    self._emit_start()
                    self.text += event.text
                    self._emit(ReplyChunk(text=event.text))
                elif isinstance(event, ReplyOpened):
                    self._reply_opened.set()
                else:
                    usage = event
        finally:
            self._reply_opened.set()
        return usage

    async def _triage_settle(self, *, wait: bool) -> None:
        """Read the triage once; when it calls the message an emergency, send the notice now."""
        if self._triage is None or self._triage_outcome is not None:
            return
        self._triage_outcome = outcome = await self._triage.outcome(wait=wait)
        if not outcome.raises:
            return
        profile = self.saved.conversation.user
        self._raised = safety = safety_decide(
            classification=classification_raise(classification=self._safety.classification, sign=outcome.sign or None),
            text=self.saved.user_message.message,
            preferred_language=profile.language,
            country=profile.country,
        )
        self.disclaimer = safety.disclaimer
        self._emit_start()
        self.text = safety.first_text + self.text
        self._emit(ReplyChunk(text=safety.first_text))

    async def _finish(self, *, status: str, usage: ReplyUsage | None) -> bool:
        """Save the reply's last state; False when the database would not take it."""
        triage = None
        if self._triage is not None:
            triage = await self._triage.outcome(wait=False)
            await self._triage.close()
        try:
            await database_sync_to_async(services.reply_finish)(
                reply_id=self.reply_id,
                conversation_id=self.conversation_id,
                text=self.text,
                status=status,
                model=usage.model if usage else "",
                input_tokens=usage.input_tokens if usage else None,
                output_tokens=usage.output_tokens if usage else None,
                user_message_id=self.saved.user_message.id,
                triage=triage,
                raised=self._raised,
            )
        except Exception:
            logger.exception("Could not save the finished reply", extra={"reply_id": str(self.reply_id)})
            return False
        if triage is not None and triage.input_tokens is not None:
            # Counted for the operator, never against the user's quota.
            TOKENS.labels("triage_input").inc(triage.input_tokens)
            TOKENS.labels("triage_output").inc(triage.output_tokens or 0)
        if usage is not None:
            TOKENS.labels("input").inc(usage.input_tokens)
            TOKENS.labels("output").inc(usage.output_tokens)
            try:
                await quotas.tokens_charge(user_id=self.user_id, tokens=usage.input_tokens + usage.output_tokens)
            except Exception as error:
                # The reply is saved; an uncounted reply is better than a lost one.
                logger.warning("Could not count the reply's tokens: %s", type(error).__name__)
        return True

    async def _listen_for_stop(self) -> None:
        if self._stop_subscription is None:
            return
        try:
            await self._stop_subscription.requested.wait()
            self.interrupt(status=Message.Status.STOPPED)
        finally:
            self._stop_subscription.close()

    async def _title_generate(self) -> str | None:
        """The model's title, saved over the fallback; None keeps the fallback.

        Asked for once the reply's request is answered: sent together, the two requests are
        built, and their answers handled, at the same moments, and the title's share of that
        work delays the reply's first words (bench/title_first_chunk).
        """
        await self._reply_opened.wait()
        try:
            title = (await reply_provider().title_generate(message=self.saved.user_message.message)).strip()[:255]
            if not title:
                return None
            await database_sync_to_async(services.conversation_title_replace)(
                conversation_id=self.conversation_id, expected=self.saved.title_fallback, title=title
            )
            return title
        except ReplyProviderError as error:
            logger.info("Title generation failed (%s); keeping the fallback title", error.code)
        except Exception:
            logger.exception("Title generation failed; keeping the fallback title")
        return None

    async def _title_late(self) -> str | None:
        """The model's title when it arrived after `start`, so `done` can carry it."""
        if self._title_task is None or self._start_carried_model_title:
            return None
        try:
            return await asyncio.wait_for(asyncio.shield(self._title_task), settings.NORA_TITLE_WAIT_SECONDS)
        except TimeoutError:
            return None


class _ProgressSaver:
    """Saves the growing text of every live reply on an event loop, in one statement per interval.

    It also shows a reply's row is alive while the model is silent. One statement for all
    of them, rather than one per reply, so that the cost of saving grows with the interval's
    count, not with the number of open streams (bench/sse_capacity).
    """

    def __init__(self) -> None:
        self._saved: dict[LiveReply, tuple[str, float]] = {}
        self._task: asyncio.Task | None = None

    def add(self, reply: LiveReply) -> None:
        self._saved[reply] = (reply.text, time.monotonic())
        if self._task is None:
            self._task = asyncio.create_task(self._run(), context=contextvars.Context())

    def discard(self, reply: LiveReply) -> None:
        self._saved.pop(reply, None)

    async def _run(self) -> None:
        interval = settings.NORA_REPLY_SAVE_INTERVAL_SECONDS
        heartbeat = settings.NORA_REPLY_STALE_SECONDS / 3
        try:
            while self._saved:
                await asyncio.sleep(interval)
                now = time.monotonic()
                due = {
                    reply: reply.text
                    for reply, (saved_text, saved_at) in self._saved.items()
                    if reply.text != saved_text or now - saved_at >= heartbeat
                }
                if not due:
                    continue
                try:
                    await database_sync_to_async(services.replies_progress_save)(
                        texts={reply.reply_id: text for reply, text in due.items()}
                    )
                except Exception:
                    logger.warning("Could not save the progress of %d replies", len(due))
                    continue
                for reply, text in due.items():
                    if reply in self._saved:
                        self._saved[reply] = (text, now)
        finally:
            self._task = None


_progress_savers: PerEventLoop[_ProgressSaver] = PerEventLoop()


async def turn_start(
    *,
    user_id,
    conversation_id,
    text: str,
    personality: str | None = None,
    source: str = Message.Source.TEXT,
    keep_user_message_on_conflict: bool = False,
) -> LiveReply:
    """Start a turn: the user's message is classified and saved, and its reply starts generating.

    Raises NotAuthenticatedError for a user deleted or deactivated since their token was
    issued, NotFoundError for a conversation that is not the user's, ConflictError while
    another reply in the conversation is being generated, TooManyRequestsError over the
    user's limits (except for an emergency, which is answered with the safety notice alone),
    and ServiceUnavailableError when the database or the shared cache cannot be reached.
    """
    classification = message_classify(text=text)
    context = await _database(selectors.prompt_context_read)(
        user_id=user_id, conversation_id=conversation_id, text=text, personality=personality
    )
    profile = context.conversation.user
    safety = safety_decide(
        classification=classification, text=text, preferred_language=profile.language, country=profile.country
    )
    model_allowed = await _model_call_reserve(user_id=user_id, safety=safety)
    stop_subscription = await stop_listener().subscribe(conversation_id=conversation_id)
    model = triage = None
    if model_allowed and not context.reply_live:
        # Asked before the turn is saved, so that the model's wait overlaps the writes.
        model = ModelReply(context=context, safety=safety)
    if model_allowed and triage_wanted(safety=safety):
        triage = ModelTriage(text=text, context=_context_fresh(user_id=user_id, conversation_id=conversation_id))
    try:
        saved = await _database(services.turn_save)(
            context=context,
            text=text,
            source=source,
            safety=safety,
            keep_user_message_on_conflict=keep_user_message_on_conflict,
        )
    except BaseException:
        if model is not None:
            await model.discard()
        if triage is not None:
            await triage.close()
        if stop_subscription is not None:
            stop_subscription.close()
        if model_allowed:
            await _model_call_refund(user_id=user_id)
        raise
    if model_allowed and model is None:
        # A reply that looked live when the context was read has ended since.
        model = ModelReply(context=context, safety=safety)
    reply = LiveReply(saved=saved, safety=safety, stop_subscription=stop_subscription, model=model, triage=triage)
    reply.start()
    return reply


def _database(function):
    """`function` on the database's thread; a database that cannot be reached answers 503."""
    run = database_sync_to_async(function)

    async def call(**kwargs):
        try:
            return await run(**kwargs)
        except DatabaseError as error:
            logger.warning("The database refused a turn: %s", type(error).__name__)
            raise ServiceUnavailableError(UNAVAILABLE) from error

    return call


async def _model_call_reserve(*, user_id, safety: SafetyDecision) -> bool:
    """Count the turn's model call against the user's limits: False when an emergency goes over them."""
    try:
        await quotas.model_call_reserve(user_id=user_id)
    except TooManyRequestsError:
        if not safety.is_emergency:
            raise
        return False
    except Exception as error:
        logger.warning("The shared cache is unavailable: %s", type(error).__name__)
        raise ServiceUnavailableError(UNAVAILABLE) from error
    return True


async def _model_call_refund(*, user_id) -> None:
    try:
        await quotas.model_call_refund(user_id=user_id)
    except Exception as error:
        # The turn's own error is the one to answer with.
        logger.warning("Could not refund a model call: %s", type(error).__name__)


async def utterance_record(*, user: User, conversation_id, text: str) -> None:
    """Save words spoken to a socket that closed before the turn ended; no reply is started."""
    safety = safety_decide(
        classification=message_classify(text=text),
        text=text,
        preferred_language=user.language,
        country=user.country,
    )
    await database_sync_to_async(services.message_user_record)(
        user=user, conversation_id=conversation_id, text=text, source=Message.Source.VOICE, safety=safety
    )
