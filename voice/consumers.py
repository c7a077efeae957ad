"""The real-time voice socket: speech in, transcripts and the reply engine's answer out.

Protocol (the API document's): the client sends `start_talking`, `audio_chunk`, `stop_talking`
and `ping`; the server sends `status`, `partial_transcript`, `final_transcript`, `ai_response`,
`title`, `error` and `pong`. Bad input gets one `error` and the socket stays open.
"""

import asyncio
import base64
import binascii
import json
import logging
import math
import time
import uuid

from asgiref.sync import sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from accounts.middleware import AUTH_REQUIRED
from chats.engine.replies import (
    LiveReply,
    ReplyChunk,
    ReplyDone,
    ReplyFailed,
    ReplyStart,
    turn_start,
    utterance_record,
)
from chats.models import Message
from nora.errors import ApplicationError
from nora.observability import OPEN_SOCKETS, PROVIDER_ERRORS, conversation_id_var, request_id_var, user_id_var
from nora.server.consumers import FramesWithoutConnectionCleanup

from . import services
from .stt import AudioFormat, SpeechToTextError, TranscriptionSession, speech_to_text

logger = logging.getLogger(__name__)

CLOSE_UNAUTHORIZED = 4001
CLOSE_BAD_REQUEST = 4400
CLOSE_TOO_MANY = 4429


def _constant_refuse(name: str):
    """NaN and Infinity are not JSON; echoing them back would send clients invalid JSON."""
    raise ValueError(f"{name} is not JSON")


def _float_finite(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError("numbers must be finite")
    return number


class VoiceConsumer(FramesWithoutConnectionCleanup, AsyncWebsocketConsumer):
    conversation_id = None
    personality: str | None = None
    audio_format = AudioFormat()
    closed = False
    holds_socket_slot = False
    listening: TranscriptionSession | None = None
    turn_task: asyncio.Task | None = None
    reply: LiveReply | None = None

    async def connect(self) -> None:
        self.utterance_started = 0.0
        self.utterance_bytes = 0
        self.closing: set[asyncio.Task] = set()

        await self.accept()
        request_id_var.set(uuid.uuid4().hex)
        self.user = self.scope["user"]
        if not self.user.is_authenticated:
            await self.error(AUTH_REQUIRED)
            await self.close(code=CLOSE_UNAUTHORIZED)
            return
        try:
            self.audio_format, self.personality = services.voice_options_parse(query_string=self.scope["query_string"])
        except ApplicationError as error:
            await self.error(error.message)
            await self.close(code=CLOSE_BAD_REQUEST)
            return
        if not await sync_to_async(services.voice_socket_claim)(user_id=self.user.id):
            await self.error("Too many open voice connections. Close one and try again.")
            await self.close(code=CLOSE_TOO_MANY)
            return
        self.holds_socket_slot = True
        conversation = await services.voice_conversation_resolve(
            user=self.user,
            chat_session_id=self.scope["url_route"]["kwargs"]["chat_session_id"],
            personality=self.personality,
        )
        self.conversation_id = conversation.id
        user_id_var.set(str(self.user.id))
        conversation_id_var.set(str(conversation.id))
        self.opened_at = time.monotonic()
        OPEN_SOCKETS.inc()
        logger.info("voice socket open", extra={"event": "voice.open"})
        await self.send_json({"type": "status", "message": "Connected", "session_id": str(conversation.id)})

    async def disconnect(self, code) -> None:
        """Save what was said and answered so far, and leave no task running."""
        self.closed = True
        if self.listening is not None:
            transcription, self.listening = self.listening, None
            await self._utterance_keep(transcription)
        if self.reply is not None:
            self.reply.interrupt(status=Message.Status.INCOMPLETE)
        if self.turn_task is not None and not self.turn_task.done():
            # A transcript being finalized is still saved; a reply it starts is interrupted below.
            try:
                await asyncio.wait_for(asyncio.shield(self.turn_task), settings.NORA_STT_FINALIZE_TIMEOUT_SECONDS + 1)
            except TimeoutError:
                self.turn_task.cancel()
        if self.reply is not None:
            self.reply.interrupt(status=Message.Status.INCOMPLETE)
            await self.reply.wait()
        await asyncio.gather(*self.closing, return_exceptions=True)
        if self.holds_socket_slot:
            await sync_to_async(services.voice_socket_release)(user_id=self.user.id)
        if self.conversation_id is not None:
            OPEN_SOCKETS.dec()
            logger.info(
                "voice socket closed",
                extra={
                    "event": "voice.close",
                    "latency_ms": round((time.monotonic() - self.opened_at) * 1000),
                    "status": code,
                },
            )

    # Frames -----------------------------------------------------------------------------

    async def receive(self, text_data=None, bytes_data=None) -> None:
        if self.conversation_id is None:
            return  # refused at connect; the close is on its way
        if bytes_data is not None:
            await self.error("Binary frames are not supported: send JSON text frames.")
            return
        limit = settings.NORA_VOICE_MAX_FRAME_BYTES
        # Characters first: cheap, and never fewer than the bytes they encode to.
        if len(text_data) > limit or len(text_data.encode(errors="surrogatepass")) > limit:
            await self.error("Message too large.")
            return
        try:
            content = json.loads(text_data, parse_constant=_constant_refuse, parse_float=_float_finite)
        except (ValueError, RecursionError):
            await self.error("Messages must be JSON objects.")
            return
        kind = content.get("type") if isinstance(content, dict) else None
        handler = {
            "ping": self.ping,
            "start_talking": self.start_talking,
            "audio_chunk": self.audio_chunk,
            "stop_talking": self.stop_talking,
        }.get(kind if isinstance(kind, str) else "")
        if handler is None:
            await self.error("Unknown message type.")
            return
        try:
            await handler(content)
        except Exception:
            # One bad turn must not take the socket, its speech stream and its slot down with it.
            logger.exception("Voice message failed", extra={"event": "voice.error"})
            await self.error("Something went wrong on our side. Please try again.")

    async def ping(self, content: dict) -> None:
        timestamp = content.get("timestamp")
        if not isinstance(timestamp, str | int | float | None):
            await self.error("timestamp must be a string or a number.")
            return
        await self.send_json({"type": "pong", "timestamp": timestamp})

    async def start_talking(self, content: dict) -> None:
        if self.reply is not None:
            # Barge-in: the person speaks over the reply; keep what it said so far.
            self.reply.interrupt(status=Message.Status.INCOMPLETE)
        if self.listening is not None:
            await self.listening.close()
            self.listening = None
        try:
            self.listening = await speech_to_text().session_open(
                audio_format=self.audio_format, on_partial=self._partial_send
            )
        except SpeechToTextError as error:
            PROVIDER_ERRORS.labels("stt", error.code).inc()
            await self.error(error.message)
            return
        self.utterance_started = time.monotonic()
        self.utterance_bytes = 0
        await self.send_json({"type": "status", "message": "Listening... Speak now"})

    async def audio_chunk(self, content: dict) -> None:
        if self.listening is None:
            await self.error("Send start_talking before audio_chunk.")
            return
        data = content.get("data")
        if not isinstance(data, str) or not data:
            await self.error("audio_chunk needs base64 audio in data.")
            return
        try:
            chunk = base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError):
            await self.error("Audio data is not valid base64.")
            return
        if len(chunk) > settings.NORA_VOICE_MAX_CHUNK_BYTES:
            await self.error(f"Audio chunk too large: at most {settings.NORA_VOICE_MAX_CHUNK_BYTES // 1024} KiB.")
            return
        self.utterance_bytes += len(chunk)
        too_long = time.monotonic() - self.utterance_started > settings.NORA_VOICE_MAX_UTTERANCE_SECONDS
        if too_long or self.utterance_bytes > settings.NORA_VOICE_MAX_UTTERANCE_BYTES:
            # What was said so far is still answered; the rest of this utterance is not taken.
            await self.error("This message is too long; Nora will answer what you said so far.")
            await self.stop_talking({})
            return
        await self.listening.audio_send(chunk=chunk)

    async def stop_talking(self, content: dict) -> None:
        if self.listening is None:
            await self.error("Send start_talking before stop_talking.")
            return
        transcription, self.listening = self.listening, None
        self.turn_task = asyncio.create_task(self._turn(transcription))

    # A spoken turn -----------------------------------------------------------------------

    async def _turn(self, transcription: TranscriptionSession) -> None:
        try:
            text = (await transcription.transcript_finish()).strip()
        except SpeechToTextError as error:
            PROVIDER_ERRORS.labels("stt", error.code).inc()
            await self.error(error.message)
            return
        finally:
            # Closing waits for the provider's goodbye; the reply need not wait for it.
            closing = asyncio.create_task(transcription.close())
            self.closing.add(closing)
            closing.add_done_callback(self.closing.discard)
        if not text:
            await self.send_json({"type": "status", "message": "No speech detected"})
            return
        await self.send_json({"type": "final_transcript", "text": text})
        try:
            reply = await turn_start(
                user_id=self.user.id,
                conversation_id=self.conversation_id,
                text=text,
                personality=self.personality,
                source=Message.Source.VOICE,
                keep_user_message_on_conflict=True,
            )
        except ApplicationError as error:
            await self.error(error.message)
            return
        self.reply = reply
        try:
            await self._reply_forward(reply)
        finally:
            if self.reply is reply:
                self.reply = None

    async def _reply_forward(self, reply: LiveReply) -> None:
        # A first message's title goes out once, as the reply ends: the model's if it is ready
        # by then (`done` carries one that came after `start`), else the one `start` had.
        title = None
        async for event in reply.events():
            if isinstance(event, ReplyStart):
                title = event.title
            elif isinstance(event, ReplyChunk):
                await self.send_json({"type": "ai_response", "text": event.text, "is_complete": False})
            elif isinstance(event, ReplyDone):
                if title := event.title or title:
                    await self.send_json({"type": "title", "text": title})
                if event.status == Message.Status.INCOMPLETE:
                    return
                response = {"type": "ai_response", "text": event.text, "is_complete": True, "status": event.status}
                if event.disclaimer:
                    response["disclaimer"] = event.disclaimer
                await self.send_json(response)
            elif isinstance(event, ReplyFailed):
                if title:
                    await self.send_json({"type": "title", "text": title})
                await self.error(event.message)

    async def _utterance_keep(self, transcription: TranscriptionSession) -> None:
        """The socket closed mid-utterance: save what was said, without starting a reply."""
        try:
            text = (await transcription.transcript_finish()).strip()
        except SpeechToTextError:
            text = ""
        finally:
            await transcription.close()
        if text:
            await utterance_record(user=self.user, conversation_id=self.conversation_id, text=text)

    # Sending -------------------------------------------------------------------------------

    async def _partial_send(self, text: str) -> None:
        await self.send_json({"type": "partial_transcript", "text": text})

    async def error(self, message: str) -> None:
        await self.send_json({"type": "error", "message": message})

    async def send_json(self, content: dict) -> None:
        if self.closed:
            return
        await self.send(text_data=json.dumps(content, ensure_ascii=False))
