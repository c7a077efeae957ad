"""What the voice socket needs from a speech-to-text service, independent of any vendor."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class AudioFormat:
    """How the client encodes its audio; all None means containerized audio (WebM/Opus, Ogg, WAV)."""

    encoding: str | None = None
    sample_rate: int | None = None
    channels: int | None = None


class SpeechToTextError(Exception):
    """A recognition failure; `message` is written for a person and safe to send to clients."""

    def __init__(self, message: str, *, code: str = "provider") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


# Called with the whole utterance so far: the final segments plus the current interim guess.
PartialHandler = Callable[[str], Awaitable[None]]


class TranscriptionSession(Protocol):
    async def audio_send(self, *, chunk: bytes) -> None:
        """Queue audio; never raises: a failed stream is reported by `transcript_finish`."""

    async def transcript_finish(self) -> str:
        """End the utterance and return its text ("" for silence).

        Waits at most NORA_STT_FINALIZE_TIMEOUT_SECONDS for the service's final results.
        Raises SpeechToTextError when the service failed during the utterance; after that
        the session is spent and the caller opens a new one for the next turn. Otherwise the
        session is ready for another utterance.
        """

    async def close(self) -> None:
        """Idempotent; stops every task and never raises."""


class SpeechToText(Protocol):
    async def session_open(self, *, audio_format: AudioFormat, on_partial: PartialHandler) -> TranscriptionSession:
        """Raises SpeechToTextError when the service cannot be reached or cannot take this format."""
