"""The offline provider: PocketSphinx on speech synthesized for the test with espeak-ng and sox."""

import shutil
import subprocess
from pathlib import Path

import pytest

from voice.stt import AudioFormat, SpeechToTextError
from voice.stt.offline import FORMAT_MESSAGE, OfflineSpeechToText

LINEAR16 = AudioFormat(encoding="linear16", sample_rate=16000, channels=1)
QUESTION = "is it safe to drink coffee when I am pregnant"
KEY_WORDS = {"safe", "drink", "coffee", "when", "pregnant"}
# An odd size, so that samples split across chunks are exercised too.
CHUNK_BYTES = 3001


class Partials(list[str]):
    async def __call__(self, text: str) -> None:
        self.append(text)


@pytest.fixture(scope="module")
def question_audio(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """The question as linear16 16 kHz mono, spoken by espeak-ng and converted by sox."""
    missing = [tool for tool in ("espeak-ng", "sox") if shutil.which(tool) is None]
    if missing:
        pytest.fail(f"{' and '.join(missing)} missing: apt-get install espeak-ng sox")
    folder = tmp_path_factory.mktemp("speech")
    wav, raw = folder / "question.wav", folder / "question.raw"
    # A slower, quieter voice with pauses between words is what PocketSphinx's model hears best;
    # -D turns off dithering so the audio, and so the transcript, is the same on every run.
    subprocess.run(["espeak-ng", "-v", "en", "-s", "120", "-a", "50", "-g", "8", "-w", wav, QUESTION], check=True)
    subprocess.run(
        ["sox", "-D", wav, "-r", "16000", "-c", "1", "-b", "16", "-e", "signed-integer", raw, "highpass", "80"]
        + ["pad", "0.5", "0.5"],
        check=True,
    )
    return Path(raw).read_bytes()


async def feed(session, audio: bytes) -> None:
    for start in range(0, len(audio), CHUNK_BYTES):
        await session.audio_send(chunk=audio[start : start + CHUNK_BYTES])


async def test_offline_recognizes_synthesized_speech(question_audio):
    """PocketSphinx is no Deepgram: a few of the key words are enough.

    The second session gets a reused decoder, which must hear as a fresh one does rather
    than carry over what it adapted to in the first.
    """
    transcripts = []
    for _ in range(2):
        partials = Partials()
        session = await OfflineSpeechToText().session_open(audio_format=LINEAR16, on_partial=partials)
        await feed(session, question_audio)
        transcripts.append(await session.transcript_finish())
        await session.close()
        assert partials, "no partial transcript while decoding"

    assert len(KEY_WORDS & set(transcripts[0].split())) >= 2, transcripts[0]
    assert transcripts[1] == transcripts[0]


async def test_one_session_serves_several_utterances(question_audio):
    session = await OfflineSpeechToText().session_open(audio_format=LINEAR16, on_partial=Partials())
    await feed(session, bytes(16000))
    silence = await session.transcript_finish()
    await feed(session, question_audio)
    question = await session.transcript_finish()
    await session.close()

    assert silence == ""
    assert len(KEY_WORDS & set(question.split())) >= 2, question


async def test_silence_and_no_audio_are_empty_transcripts():
    session = await OfflineSpeechToText().session_open(audio_format=LINEAR16, on_partial=Partials())
    assert await session.transcript_finish() == ""
    await feed(session, bytes(32000))
    assert await session.transcript_finish() == ""
    await session.close()


async def test_close_mid_utterance_is_clean_and_idempotent(question_audio):
    session = await OfflineSpeechToText().session_open(audio_format=LINEAR16, on_partial=Partials())
    await feed(session, question_audio[: len(question_audio) // 2])
    await session.close()
    await session.close()
    await session.audio_send(chunk=question_audio[:CHUNK_BYTES])
    assert await session.transcript_finish() == ""

    # The decoder it gives back is clean for the next session.
    session = await OfflineSpeechToText().session_open(audio_format=LINEAR16, on_partial=Partials())
    await feed(session, bytes(16000))
    assert await session.transcript_finish() == ""
    await session.close()


@pytest.mark.parametrize(
    "audio_format",
    [
        AudioFormat(),
        AudioFormat(encoding="opus", sample_rate=48000),
        AudioFormat(encoding="linear16", sample_rate=8000),
        AudioFormat(encoding="linear16", sample_rate=16000, channels=2),
        AudioFormat(encoding="mulaw", sample_rate=16000),
    ],
)
async def test_other_formats_are_refused_with_what_is_needed(audio_format):
    with pytest.raises(SpeechToTextError) as raised:
        await OfflineSpeechToText().session_open(audio_format=audio_format, on_partial=Partials())

    assert raised.value.message == FORMAT_MESSAGE
    assert "encoding=linear16&sample_rate=16000" in raised.value.message


async def test_linear16_without_channels_is_taken_as_mono():
    session = await OfflineSpeechToText().session_open(
        audio_format=AudioFormat(encoding="linear16", sample_rate=16000), on_partial=Partials()
    )
    await session.close()
