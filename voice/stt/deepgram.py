"""Live transcription from Deepgram's websocket through the official SDK (v7, async).

One session is one websocket. Interim and final `Results` become partials (the finals so
far plus the current interim guess); `transcript_finish` sends `Finalize` and waits for the
result Deepgram marks `from_finalize`. While no audio flows a `KeepAlive` goes out every
NORA_STT_KEEPALIVE_SECONDS, since Deepgram closes a stream that hears nothing for 10 s.

Two decisions about failures, both made for a person asking about their health:
- A stream that breaks during an utterance (dropped connection, Deepgram's close, an error
  frame) raises SpeechToTextError from `transcript_finish` rather than returning the words
  heard before the break: a question cut short ("is it safe to take ibuprofen while...")
  can be answered wrongly, and saying it again costs one turn.
- When no `from_finalize` result arrives within NORA_STT_FINALIZE_TIMEOUT_SECONDS, the
  utterance is what was heard so far: the final segments plus the latest interim guess.
  Deepgram did hear all of the audio, and that text is what the person already saw as a
  partial, so it is answered rather than thrown away.
"""

import asyncio
import contextlib
import logging

from deepgram import AsyncDeepgramClient
from deepgram.core.api_error import ApiError
from deepgram.environment import DeepgramClientEnvironment
from deepgram.listen.v1.socket_client import AsyncV1SocketClient
from deepgram.listen.v1.types import ListenV1Error, ListenV1Metadata, ListenV1Results
from django.conf import settings
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI
from websockets.frames import Close

from nora.event_loops import PerEventLoop
from voice.stt.base import AudioFormat, PartialHandler, SpeechToTextError

log = logging.getLogger(__name__)

MESSAGES = {
    "unavailable": "Speech recognition is unavailable right now. Please try again.",
    "auth": "Speech recognition is not configured correctly. Please try again later.",
    "interrupted": "Speech recognition was interrupted. Please say that again.",
    "idle": "Speech recognition stopped after a long silence. Please try again.",
    "audio": "Speech recognition could not decode this audio. Please check the audio format and try again.",
    "provider": "Speech recognition ran into a problem. Please try again.",
}

# Deepgram's close codes: 1011 NET-0001 when it heard nothing for too long, 1008 DATA-0000
# when the bytes are not audio it can decode.
CLOSE_CODES = {1011: "idle", 1008: "audio"}


def _error_build(*, code: str, detail: str) -> SpeechToTextError:
    # `detail` names status codes and close reasons, never audio or transcript text.
    log.warning("Deepgram transcription failed: code=%s %s", code, detail)
    return SpeechToTextError(MESSAGES[code], code=code)


def _close_describe(close: Close | None) -> str:
    return "close=none" if close is None else f"close={close.code} reason={close.reason[:60]!r}"


class DeepgramSession:
    """One websocket to Deepgram, good for many utterances until it fails or is closed."""

    def __init__(
        self,
        *,
        socket: AsyncV1SocketClient,
        connection: contextlib.AsyncExitStack,
        on_partial: PartialHandler,
        keepalive_seconds: float,
        finalize_timeout: float,
    ) -> None:
        self._socket = socket
        self._connection = connection
        self._on_partial = on_partial
        self._keepalive_seconds = keepalive_seconds
        self._finalize_timeout = finalize_timeout
        self._finals: list[str] = []
        self._interim = ""
        self._partial_sent = ""
        # Audio sent since the last finish: without it there is nothing to finalize, and
        # Deepgram answers a Finalize only when it has audio buffered.
        self._heard = False
        self._failure: SpeechToTextError | None = None
        self._closing = False
        # Set by the `from_finalize` result and also when the stream ends, so a waiter wakes either way.
        self._finalized = asyncio.Event()
        self._metadata = asyncio.Event()
        self._loop = asyncio.get_running_loop()
        self._last_sent = self._loop.time()
        self._receiver = asyncio.create_task(self._receive_run())
        self._keepalive = asyncio.create_task(self._keepalive_run())

    async def audio_send(self, *, chunk: bytes) -> None:
        # Deepgram takes an empty binary frame as the end of the stream.
        if not chunk or self._failure is not None or self._closing:
            return
        try:
            await self._socket.send_media(chunk)
        except ConnectionClosed:
            return  # the receiver records why the stream ended
        self._last_sent = self._loop.time()
        self._heard = True

    async def transcript_finish(self) -> str:
        if self._heard and self._failure is None and not self._closing:
            self._finalized.clear()
            with contextlib.suppress(ConnectionClosed):
                await self._socket.send_finalize()
                self._last_sent = self._loop.time()
            try:
                async with asyncio.timeout(self._finalize_timeout):
                    await self._finalized.wait()
            except TimeoutError:
                log.warning("Deepgram sent no final result in %.1f s; keeping what was heard", self._finalize_timeout)
        if self._failure is not None:
            raise self._failure
        text = self._utterance()
        self._finals.clear()
        self._interim = self._partial_sent = ""
        self._heard = False
        return text

    async def close(self) -> None:
        if self._closing:
            return
        self._closing = True
        self._keepalive.cancel()
        try:
            if not self._receiver.done():
                # CloseStream makes Deepgram flush, send Metadata and close the socket itself.
                await self._socket.send_close_stream()
                async with asyncio.timeout(self._finalize_timeout):
                    await self._metadata.wait()
        except (ConnectionClosed, TimeoutError):
            pass
        except Exception:
            log.warning("Deepgram stream did not close cleanly", exc_info=True)
        finally:
            self._receiver.cancel()
            await asyncio.gather(self._receiver, self._keepalive, return_exceptions=True)
            try:
                async with asyncio.timeout(self._finalize_timeout):
                    await self._connection.aclose()
            except Exception:
                log.warning("Deepgram websocket did not close cleanly", exc_info=True)

    def _utterance(self) -> str:
        return " ".join(part for part in [*self._finals, self._interim] if part)

    def _fail(self, *, code: str, detail: str) -> None:
        if self._failure is None and not self._closing:
            self._failure = _error_build(code=code, detail=detail)

    async def _receive_run(self) -> None:
        try:
            async for message in self._socket:
                if isinstance(message, ListenV1Results):
                    await self._results_take(message)
                elif isinstance(message, ListenV1Metadata):
                    self._metadata.set()
                elif isinstance(message, ListenV1Error):
                    self._fail(code="provider", detail=f"error frame variant={message.variant}")
            self._fail(code="interrupted", detail="Deepgram closed the stream")
        except ConnectionClosed as error:
            close = error.rcvd
            code = CLOSE_CODES.get(close.code, "interrupted") if close is not None else "interrupted"
            self._fail(code=code, detail=_close_describe(close))
        except Exception as error:
            self._fail(code="provider", detail=type(error).__name__)
        finally:
            self._finalized.set()
            self._metadata.set()

    async def _results_take(self, message: ListenV1Results) -> None:
        alternatives = message.channel.alternatives
        text = alternatives[0].transcript.strip() if alternatives else ""
        if message.is_final:
            if text:
                self._finals.append(text)
            self._interim = ""
        else:
            self._interim = text
        utterance = self._utterance()
        if utterance != self._partial_sent:
            self._partial_sent = utterance
            try:
                await self._on_partial(utterance)
            except Exception:
                # A partial the client misses is replaced by the next one; the stream goes on.
                log.warning("Partial transcript handler failed", exc_info=True)
        if message.from_finalize:
            self._finalized.set()

    async def _keepalive_run(self) -> None:
        try:
            while True:
                idle_for = self._loop.time() - self._last_sent
                if idle_for < self._keepalive_seconds:
                    await asyncio.sleep(self._keepalive_seconds - idle_for)
                    continue
                await self._socket.send_keep_alive()
                self._last_sent = self._loop.time()
        except ConnectionClosed:
            pass  # the receiver records why the stream ended


class DeepgramSpeechToText:
    """Opens a Deepgram live stream per session; the SDK client is built once per event loop."""

    def __init__(self) -> None:
        self._clients: PerEventLoop[AsyncDeepgramClient] = PerEventLoop()

    def _client(self) -> AsyncDeepgramClient:
        return self._clients.get(self._client_build)

    def _client_build(self) -> AsyncDeepgramClient:
        if not settings.DEEPGRAM_API_KEY:
            raise _error_build(code="auth", detail="DEEPGRAM_API_KEY is empty")
        environment = DeepgramClientEnvironment.PRODUCTION
        base_url = settings.DEEPGRAM_BASE_URL.rstrip("/")
        if base_url:
            if not base_url.startswith(("ws://", "wss://")):
                raise _error_build(code="auth", detail="DEEPGRAM_BASE_URL must start with ws:// or wss://")
            environment = DeepgramClientEnvironment(
                base=environment.base,
                production=base_url,
                agent=environment.agent,
                agent_rest=environment.agent_rest,
            )
        return AsyncDeepgramClient(api_key=settings.DEEPGRAM_API_KEY, environment=environment)

    async def session_open(self, *, audio_format: AudioFormat, on_partial: PartialHandler) -> DeepgramSession:
        client = self._client()
        # The turn ends when the client says stop_talking, so endpointing and UtteranceEnd
        # only shape the segments: patient values keep a mid-sentence pause from splitting one.
        options: dict[str, str] = {
            "model": settings.DEEPGRAM_MODEL,
            "interim_results": "true",
            "smart_format": "true",
            "punctuate": "true",
            "endpointing": str(settings.NORA_STT_ENDPOINTING_MS),
            "utterance_end_ms": str(settings.NORA_STT_UTTERANCE_END_MS),
        }
        # Containerized audio describes itself; Deepgram needs these only for raw audio.
        if audio_format.encoding is not None:
            options["encoding"] = audio_format.encoding
        if audio_format.sample_rate is not None:
            options["sample_rate"] = str(audio_format.sample_rate)
        if audio_format.channels is not None:
            options["channels"] = str(audio_format.channels)

        connection = contextlib.AsyncExitStack()
        try:
            socket = await connection.enter_async_context(client.listen.v1.connect(**options))
        except ApiError as error:
            code = "auth" if error.status_code in (401, 403) else "unavailable"
            raise _error_build(code=code, detail=f"handshake status={error.status_code}") from None
        except (OSError, InvalidHandshake, InvalidURI, TimeoutError) as error:
            raise _error_build(code="unavailable", detail=f"connect {type(error).__name__}") from None
        return DeepgramSession(
            socket=socket,
            connection=connection,
            on_partial=on_partial,
            keepalive_seconds=settings.NORA_STT_KEEPALIVE_SECONDS,
            finalize_timeout=settings.NORA_STT_FINALIZE_TIMEOUT_SECONDS,
        )
