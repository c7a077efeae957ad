"""Offline recognition with PocketSphinx's bundled US English model: a development mode.

It needs no key and no network, so `make run` can take voice out of the box, but it is far
less accurate than Deepgram, has no punctuation, and only reads linear16 16 kHz mono
(`encoding=linear16&sample_rate=16000`). Decoding is CPU work, so it runs in a worker
thread as audio arrives; `transcript_finish` then only waits for the last few chunks.
"""

import asyncio
import logging
import threading

from pocketsphinx import Decoder

from voice.stt.base import AudioFormat, PartialHandler, SpeechToTextError

log = logging.getLogger(__name__)

FORMAT_MESSAGE = "Offline speech recognition needs encoding=linear16&sample_rate=16000 (mono)."
FAILED_MESSAGE = "Offline speech recognition ran into a problem. Please try again."
SAMPLE_RATE = 16000
# A partial means a search over everything heard so far; one per half second of audio shows
# progress without doubling the decoding work.
PARTIAL_EVERY_BYTES = SAMPLE_RATE  # 16-bit samples: half a second

# Loading the model takes about half a second and a decoder cannot share it, so decoders
# are kept and reused: one is loaded per concurrent session, the first on first use.
_idle_decoders: list[Decoder] = []
_idle_decoders_lock = threading.Lock()


def _decoder_take() -> Decoder:
    with _idle_decoders_lock:
        decoder = _idle_decoders.pop() if _idle_decoders else None
    if decoder is None:
        return Decoder(loglevel="FATAL")
    # The cepstral mean adapts to the last speaker and microphone; a new session starts from
    # the model's own, so that what one person said does not colour the next one's transcript.
    decoder.set_cmn(decoder.config["cmninit"])
    return decoder


def _decoder_give(decoder: Decoder) -> None:
    with _idle_decoders_lock:
        _idle_decoders.append(decoder)


class _Utterance:
    """The decoder's side of one session; its methods run in a worker thread, one at a time."""

    def __init__(self, decoder: Decoder) -> None:
        self.decoder = decoder
        self.started = False
        self.since_partial = 0

    def feed(self, audio: bytes) -> str | None:
        """Decode audio; returns the hypothesis so far when a partial is due."""
        if not self.started:
            self.decoder.start_utt()
            self.started = True
        self.decoder.process_raw(audio, False, False)
        self.since_partial += len(audio)
        if self.since_partial < PARTIAL_EVERY_BYTES:
            return None
        self.since_partial = 0
        hypothesis = self.decoder.hyp()
        return hypothesis.hypstr if hypothesis is not None else ""

    def end(self) -> str:
        if not self.started:
            return ""
        self.started = False
        self.since_partial = 0
        self.decoder.end_utt()
        hypothesis = self.decoder.hyp()
        return hypothesis.hypstr.strip() if hypothesis is not None else ""


class OfflineSession:
    """Queues audio for one worker task that feeds the decoder off the event loop."""

    def __init__(self, *, decoder: Decoder, on_partial: PartialHandler) -> None:
        self._decoder = decoder
        self._utterance = _Utterance(decoder)
        self._on_partial = on_partial
        self._partial_sent = ""
        # Audio, a future that asks for the utterance's end, or None to stop.
        self._inbox: asyncio.Queue[bytes | asyncio.Future[str] | None] = asyncio.Queue()
        # Samples are two bytes: an odd byte waits for the next chunk.
        self._odd_byte = b""
        self._failure: SpeechToTextError | None = None
        self._closed = False
        self._worker = asyncio.create_task(self._decode_run())

    async def audio_send(self, *, chunk: bytes) -> None:
        if self._closed or self._failure is not None:
            return
        audio = self._odd_byte + chunk
        cut = len(audio) - len(audio) % 2
        self._odd_byte = audio[cut:]
        if cut:
            self._inbox.put_nowait(audio[:cut])

    async def transcript_finish(self) -> str:
        # No timeout here, unlike Deepgram: this waits on local CPU work, the chunks that
        # arrived since the last one decoded, not on a remote service that may never answer.
        if self._failure is not None:
            raise self._failure
        if self._closed:
            return ""
        self._odd_byte = b""
        done: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._inbox.put_nowait(done)
        # Waiting on the worker too means a worker that died cannot leave this waiting forever.
        await asyncio.wait([done, self._worker], return_when=asyncio.FIRST_COMPLETED)
        if not done.done():
            log.warning("Offline decoder stopped before the utterance ended")
            raise SpeechToTextError(FAILED_MESSAGE, code="provider")
        return done.result()

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._inbox.put_nowait(None)
        try:
            # The worker may be inside the decoder; only once it stops is the decoder free to reuse.
            await self._worker
        except Exception:
            log.warning("Offline decoder stopped with an error", exc_info=True)
            return
        _decoder_give(self._decoder)

    async def _decode_run(self) -> None:
        while True:
            items = [await self._inbox.get()]
            while not self._inbox.empty():
                items.append(self._inbox.get_nowait())
            # Audio that queued up while the last batch decoded goes to the decoder in one call.
            audio = bytearray()
            for item in items:
                if isinstance(item, bytes):
                    audio += item
                    continue
                if item is None:
                    # Closing: the audio still queued is dropped, and the decoder is left clean for reuse.
                    if self._utterance.started:
                        await asyncio.to_thread(self._utterance.end)
                    return
                await self._feed(bytes(audio))
                audio.clear()
                await self._end_answer(item)
            await self._feed(bytes(audio))

    async def _feed(self, audio: bytes) -> None:
        if not audio or self._failure is not None:
            return
        try:
            partial = await asyncio.to_thread(self._utterance.feed, audio)
        except RuntimeError as error:
            self._failure = SpeechToTextError(FAILED_MESSAGE, code="provider")
            log.warning("Offline decoding failed: %s", type(error).__name__)
            return
        if partial and partial != self._partial_sent:
            self._partial_sent = partial
            try:
                await self._on_partial(partial)
            except Exception:
                # A partial the client misses is replaced by the next one; decoding goes on.
                log.warning("Partial transcript handler failed", exc_info=True)

    async def _end_answer(self, done: asyncio.Future[str]) -> None:
        text = ""
        if self._failure is None:
            try:
                text = await asyncio.to_thread(self._utterance.end)
            except RuntimeError as error:
                self._failure = SpeechToTextError(FAILED_MESSAGE, code="provider")
                log.warning("Offline decoding failed: %s", type(error).__name__)
        self._partial_sent = ""
        if done.cancelled():
            return
        if self._failure is not None:
            done.set_exception(self._failure)
        else:
            done.set_result(text)


class OfflineSpeechToText:
    async def session_open(self, *, audio_format: AudioFormat, on_partial: PartialHandler) -> OfflineSession:
        raw_16k_mono = (
            audio_format.encoding == "linear16"
            and audio_format.sample_rate == SAMPLE_RATE
            and audio_format.channels in (None, 1)
        )
        if not raw_16k_mono:
            raise SpeechToTextError(FORMAT_MESSAGE, code="format")
        decoder = await asyncio.to_thread(_decoder_take)
        return OfflineSession(decoder=decoder, on_partial=on_partial)
