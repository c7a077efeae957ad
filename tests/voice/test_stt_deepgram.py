"""The Deepgram provider, driven through the real deepgram-sdk against the fake live server."""

import asyncio
import logging
import time

import pytest

from fakes.deepgram_server import (
    TEST_API_KEY,
    FakeDeepgramServer,
    Script,
    refused_url,
)
from voice.stt import AudioFormat, SpeechToTextError, speech_to_text
from voice.stt.deepgram import MESSAGES, DeepgramSpeechToText
from voice.stt.offline import OfflineSpeechToText

WORDS = ["Is", "it", "safe", "to", "eat", "sushi?"]
WORD_BYTES = 320
LINEAR16 = AudioFormat(encoding="linear16", sample_rate=16000, channels=1)


class Partials(list[str]):
    """An on_partial handler that remembers what it was given."""

    async def __call__(self, text: str) -> None:
        self.append(text)


@pytest.fixture
def deepgram(settings, deepgram_server: FakeDeepgramServer) -> FakeDeepgramServer:
    settings.DEEPGRAM_API_KEY = TEST_API_KEY
    settings.DEEPGRAM_BASE_URL = deepgram_server.url
    # Long enough that no KeepAlive muddles the recorded controls; the keep-alive tests shorten it.
    settings.NORA_STT_KEEPALIVE_SECONDS = 60.0
    settings.NORA_STT_FINALIZE_TIMEOUT_SECONDS = 1.0
    deepgram_server.default = Script(words=WORDS, bytes_per_word=WORD_BYTES)
    return deepgram_server


async def speak(session, *, words: int = len(WORDS)) -> None:
    for _ in range(words):
        await session.audio_send(chunk=bytes(WORD_BYTES))


async def test_partials_grow_then_finish_returns_the_utterance(deepgram):
    """Each interim result reaches on_partial as the whole utterance so far."""
    partials = Partials()
    session = await DeepgramSpeechToText().session_open(audio_format=LINEAR16, on_partial=partials)
    await speak(session)
    transcript = await session.transcript_finish()
    await session.close()

    assert transcript == "Is it safe to eat sushi?"
    assert partials == [" ".join(WORDS[:count]) for count in range(1, len(WORDS) + 1)]


async def test_partials_join_finals_so_far_with_the_current_interim(deepgram):
    deepgram.script(words=WORDS, bytes_per_word=WORD_BYTES, final_every=3)
    partials = Partials()
    session = await DeepgramSpeechToText().session_open(audio_format=LINEAR16, on_partial=partials)
    await speak(session, words=5)
    transcript = await session.transcript_finish()
    await session.close()

    assert "Is it safe to eat" in partials
    assert transcript == "Is it safe to eat"


async def test_options_reach_deepgram(deepgram, settings):
    settings.NORA_STT_ENDPOINTING_MS = 800
    settings.NORA_STT_UTTERANCE_END_MS = 1500
    session = await DeepgramSpeechToText().session_open(audio_format=LINEAR16, on_partial=Partials())
    await session.close()

    query = deepgram.stream.query
    assert query["model"] == "nova-3"
    assert query["interim_results"] == "true"
    assert query["smart_format"] == "true"
    assert query["punctuate"] == "true"
    assert query["endpointing"] == "800"
    assert query["utterance_end_ms"] == "1500"
    assert (query["encoding"], query["sample_rate"], query["channels"]) == ("linear16", "16000", "1")
    assert deepgram.stream.headers["authorization"] == f"Token {TEST_API_KEY}"


async def test_containerized_audio_sends_no_format_and_the_model_setting_is_used(deepgram, settings):
    settings.DEEPGRAM_MODEL = "nova-2-medical"
    session = await DeepgramSpeechToText().session_open(audio_format=AudioFormat(), on_partial=Partials())
    await session.close()

    query = deepgram.stream.query
    assert query["model"] == "nova-2-medical"
    assert not {"encoding", "sample_rate", "channels"} & query.keys()


async def test_keepalive_holds_an_idle_stream_open(deepgram, settings):
    """KeepAlive text frames keep Deepgram's idle timeout from closing a quiet stream."""
    settings.NORA_STT_KEEPALIVE_SECONDS = 0.1
    deepgram.script(words=WORDS, bytes_per_word=WORD_BYTES, idle_timeout=0.4)
    session = await DeepgramSpeechToText().session_open(audio_format=LINEAR16, on_partial=Partials())
    await asyncio.sleep(1.0)
    await speak(session)
    transcript = await session.transcript_finish()
    await session.close()

    assert transcript == "Is it safe to eat sushi?"
    assert deepgram.stream.controls.count("KeepAlive") >= 5
    assert deepgram.stream.close_code == 1000


async def test_no_keepalive_while_audio_flows(deepgram, settings):
    settings.NORA_STT_KEEPALIVE_SECONDS = 0.2
    session = await DeepgramSpeechToText().session_open(audio_format=LINEAR16, on_partial=Partials())
    for _ in range(10):
        await session.audio_send(chunk=bytes(WORD_BYTES))
        await asyncio.sleep(0.05)
    await session.transcript_finish()
    await session.close()

    assert "KeepAlive" not in deepgram.stream.controls


async def test_idle_close_without_keepalive_is_an_error(deepgram):
    """Deepgram's NET-0001 close (1011) surfaces as a SpeechToTextError, not a hang."""
    deepgram.script(words=WORDS, bytes_per_word=WORD_BYTES, idle_timeout=0.2)
    session = await DeepgramSpeechToText().session_open(audio_format=LINEAR16, on_partial=Partials())
    await speak(session, words=2)
    await asyncio.sleep(0.5)
    await session.audio_send(chunk=bytes(WORD_BYTES))
    with pytest.raises(SpeechToTextError) as raised:
        await session.transcript_finish()
    await session.close()

    assert deepgram.stream.close_code == 1011
    assert raised.value.code == "idle"
    assert raised.value.message == MESSAGES["idle"]


async def test_finish_sends_finalize_and_close_sends_closestream(deepgram):
    session = await DeepgramSpeechToText().session_open(audio_format=LINEAR16, on_partial=Partials())
    await speak(session)
    await session.transcript_finish()
    await session.close()
    await session.close()

    assert deepgram.stream.controls == ["Finalize", "CloseStream"]
    assert len(deepgram.stream.audio) == len(WORDS) * WORD_BYTES
    assert deepgram.stream.close_code == 1000


async def test_one_session_serves_several_utterances(deepgram):
    partials = Partials()
    session = await DeepgramSpeechToText().session_open(audio_format=LINEAR16, on_partial=partials)
    await speak(session, words=2)
    first = await session.transcript_finish()
    await speak(session, words=3)
    second = await session.transcript_finish()
    await session.close()

    assert (first, second) == ("Is it", "Is it safe")
    assert partials[-1] == "Is it safe"


async def test_silence_is_an_empty_transcript(deepgram):
    deepgram.script(words=[], bytes_per_word=WORD_BYTES)
    partials = Partials()
    session = await DeepgramSpeechToText().session_open(audio_format=LINEAR16, on_partial=partials)
    await speak(session)
    assert await session.transcript_finish() == ""
    await session.close()

    assert partials == []
    assert deepgram.stream.controls == ["Finalize", "CloseStream"]


async def test_finish_without_audio_returns_at_once(deepgram):
    """Deepgram answers Finalize only when it has audio buffered, so none is sent without audio."""
    session = await DeepgramSpeechToText().session_open(audio_format=LINEAR16, on_partial=Partials())
    started = time.monotonic()
    assert await session.transcript_finish() == ""
    elapsed = time.monotonic() - started
    await session.close()

    assert elapsed < 0.2
    assert deepgram.stream.controls == ["CloseStream"]


async def test_connection_refused_is_an_error(deepgram, settings):
    settings.DEEPGRAM_BASE_URL = refused_url()
    with pytest.raises(SpeechToTextError) as raised:
        await DeepgramSpeechToText().session_open(audio_format=LINEAR16, on_partial=Partials())

    assert raised.value.message == "Speech recognition is unavailable right now. Please try again."


async def test_connection_dropped_during_handshake_is_an_error(deepgram):
    deepgram.script(drop_handshake=True)
    with pytest.raises(SpeechToTextError) as raised:
        await DeepgramSpeechToText().session_open(audio_format=LINEAR16, on_partial=Partials())

    assert raised.value.code == "unavailable"


async def test_wrong_key_is_rejected_at_handshake(deepgram, settings):
    settings.DEEPGRAM_API_KEY = "not-the-key"
    with pytest.raises(SpeechToTextError) as raised:
        await DeepgramSpeechToText().session_open(audio_format=LINEAR16, on_partial=Partials())

    assert raised.value.code == "auth"
    assert deepgram.streams == []


async def test_service_error_status_at_handshake_is_unavailable(deepgram):
    deepgram.script(reject_status=503)
    with pytest.raises(SpeechToTextError) as raised:
        await DeepgramSpeechToText().session_open(audio_format=LINEAR16, on_partial=Partials())

    assert raised.value.code == "unavailable"


@pytest.mark.parametrize("base_url", ["https://api.deepgram.com", "api.deepgram.com"])
async def test_base_url_must_be_a_websocket_url(deepgram, settings, base_url):
    settings.DEEPGRAM_BASE_URL = base_url
    with pytest.raises(SpeechToTextError) as raised:
        await DeepgramSpeechToText().session_open(audio_format=LINEAR16, on_partial=Partials())

    assert raised.value.code == "auth"


async def test_missing_key_is_an_error(deepgram, settings):
    settings.DEEPGRAM_API_KEY = ""
    with pytest.raises(SpeechToTextError) as raised:
        await DeepgramSpeechToText().session_open(audio_format=LINEAR16, on_partial=Partials())

    assert raised.value.code == "auth"


async def test_connection_lost_mid_utterance_is_an_error_not_half_a_question(deepgram, caplog):
    """A cut-short question is not answered: finish raises, and the log holds no transcript."""
    deepgram.script(words=WORDS, bytes_per_word=WORD_BYTES, close_after_bytes=3 * WORD_BYTES)
    partials = Partials()
    session = await DeepgramSpeechToText().session_open(audio_format=LINEAR16, on_partial=partials)
    with caplog.at_level(logging.WARNING, logger="voice.stt.deepgram"):
        await speak(session)
        with pytest.raises(SpeechToTextError) as raised:
            await session.transcript_finish()
        await session.close()

    assert raised.value.code == "interrupted"
    # Results in flight when the connection dropped are lost with it.
    assert set(partials) <= {"Is", "Is it"}
    assert "safe" not in caplog.text and "Is it" not in caplog.text


async def test_undecodable_audio_close_is_an_error(deepgram):
    deepgram.script(words=WORDS, bytes_per_word=WORD_BYTES, close_after_bytes=WORD_BYTES, close_code=1008)
    session = await DeepgramSpeechToText().session_open(audio_format=AudioFormat(), on_partial=Partials())
    await speak(session, words=2)
    with pytest.raises(SpeechToTextError) as raised:
        await session.transcript_finish()
    await session.close()

    assert raised.value.code == "audio"


async def test_never_final_returns_the_interim_text_after_a_bounded_wait(deepgram, settings):
    """Without a from_finalize result the wait ends at the timeout with what was heard."""
    settings.NORA_STT_FINALIZE_TIMEOUT_SECONDS = 0.3
    deepgram.script(words=WORDS, bytes_per_word=WORD_BYTES, ignore_finalize=True)
    session = await DeepgramSpeechToText().session_open(audio_format=LINEAR16, on_partial=Partials())
    await speak(session, words=4)
    started = time.monotonic()
    transcript = await session.transcript_finish()
    elapsed = time.monotonic() - started
    await session.close()

    assert transcript == "Is it safe to"
    assert 0.25 < elapsed < 1.0
    assert deepgram.stream.controls[0] == "Finalize"


async def test_never_final_keeps_finals_and_the_latest_interim(deepgram, settings):
    settings.NORA_STT_FINALIZE_TIMEOUT_SECONDS = 0.3
    deepgram.script(words=WORDS, bytes_per_word=WORD_BYTES, final_every=2, ignore_finalize=True)
    session = await DeepgramSpeechToText().session_open(audio_format=LINEAR16, on_partial=Partials())
    await speak(session, words=5)
    transcript = await session.transcript_finish()
    await session.close()

    assert transcript == "Is it safe to eat"


async def test_slow_results_still_arrive_within_the_finalize_wait(deepgram):
    deepgram.script(words=WORDS, bytes_per_word=WORD_BYTES, result_delay=0.2)
    session = await DeepgramSpeechToText().session_open(audio_format=LINEAR16, on_partial=Partials())
    await speak(session)
    transcript = await session.transcript_finish()
    await session.close()

    assert transcript == "Is it safe to eat sushi?"


async def test_a_failing_partial_handler_does_not_stop_recognition(deepgram):
    async def on_partial(text: str) -> None:
        raise RuntimeError("client went away")

    session = await DeepgramSpeechToText().session_open(audio_format=LINEAR16, on_partial=on_partial)
    await speak(session)
    transcript = await session.transcript_finish()
    await session.close()

    assert transcript == "Is it safe to eat sushi?"


def test_provider_is_chosen_by_setting_and_rebuilt_when_it_changes(settings):
    settings.DEEPGRAM_API_KEY = TEST_API_KEY
    settings.NORA_STT_PROVIDER = "deepgram"
    deepgram_provider = speech_to_text()
    assert isinstance(deepgram_provider, DeepgramSpeechToText)
    assert speech_to_text() is deepgram_provider

    settings.NORA_STT_PROVIDER = "offline"
    assert isinstance(speech_to_text(), OfflineSpeechToText)
