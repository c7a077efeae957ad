"""The voice socket, driven with Channels' WebsocketCommunicator through the real deepgram-sdk and a fake Deepgram."""

import asyncio
import base64
import uuid
from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from rest_framework_simplejwt.tokens import AccessToken

from chats.models import Conversation, Message
from fakes.deepgram_server import TEST_API_KEY
from tests.factories import ConversationFactory, MessageFactory
from tests.sockets import (
    WORD,
    receive,
    receive_until,
    socket_communicator,
    socket_connected,
    socket_open,
    speak,
    still_usable,
)

pytestmark = pytest.mark.django_db(transaction=True)


def encoded(chunk: bytes) -> str:
    return base64.b64encode(chunk).decode()


# Connecting --------------------------------------------------------------------------------


@pytest.mark.parametrize("token", ["", "garbage", "expired"])
async def test_missing_invalid_or_expired_token_gets_error_and_4001(owner, token):
    if token == "expired":
        access = AccessToken.for_user(owner)
        access.set_exp(lifetime=-timedelta(seconds=1))
        token = str(access)
    communicator = await socket_open(owner, token=token)
    message = await receive(communicator)
    assert message["type"] == "error" and "token" in message["message"]
    assert await communicator.receive_output(timeout=2) == {"type": "websocket.close", "code": 4001}


async def test_own_conversation_is_used(owner):
    conversation = await sync_to_async(ConversationFactory)(user=owner)
    communicator, session_id = await socket_connected(owner, conversation.id)
    assert session_id == str(conversation.id)
    await communicator.disconnect()


@pytest.mark.parametrize("kind", ["unknown", "not-a-uuid", "someone-elses"])
async def test_any_other_session_id_gets_a_new_conversation(owner, kind):
    session = {"unknown": str(uuid.uuid4()), "not-a-uuid": "hello-world"}.get(kind)
    if kind == "someone-elses":
        session = str((await sync_to_async(ConversationFactory)()).id)
    communicator, session_id = await socket_connected(owner, session)
    assert session_id != session
    assert await Conversation.objects.filter(id=session_id, user=owner).aexists()
    await communicator.disconnect()


async def test_unknown_personality_is_refused(owner):
    communicator = await socket_open(owner, query="personality=pirate")
    assert (await receive(communicator))["type"] == "error"
    assert (await communicator.receive_output(timeout=2))["code"] == 4400


async def test_a_foreign_browser_origin_is_refused(owner):
    token = AccessToken.for_user(owner)
    communicator = socket_communicator(token=token, query="", headers=[(b"origin", b"https://evil.example")])
    connected_, _ = await communicator.connect()
    assert not connected_


async def test_ping_pong(owner):
    communicator, _ = await socket_connected(owner)
    await communicator.send_json_to({"type": "ping", "timestamp": "1732634523"})
    assert await receive(communicator) == {"type": "pong", "timestamp": "1732634523"}
    await communicator.disconnect()


# A spoken turn ---------------------------------------------------------------------------------


async def test_a_spoken_turn_is_transcribed_saved_and_answered(deepgram, owner):
    deepgram.script(words=["is", "sushi", "safe", "in", "pregnancy"])
    communicator, session_id = await socket_connected(owner)
    partials = await speak(communicator, words=5)
    assert [p["type"] for p in partials] == ["partial_transcript"] * 5
    assert partials[-1]["text"].lower().startswith("is sushi safe in pregnancy")

    await communicator.send_json_to({"type": "stop_talking"})
    messages = await receive_until(communicator, "ai_response", complete=True)
    kinds = [m["type"] for m in messages]
    final = next(m for m in messages if m["type"] == "final_transcript")
    assert final["text"].lower().startswith("is sushi safe in pregnancy")
    assert kinds.index("final_transcript") < kinds.index("ai_response")
    assert "title" in kinds
    deltas = [m for m in messages if m["type"] == "ai_response" and not m["is_complete"]]
    complete = messages[-1]
    assert len(deltas) > 3
    assert complete["text"] == "".join(d["text"] for d in deltas)
    assert complete["disclaimer"]["primary_category"] in {"pregnancy", "nutrition"}
    assert await asyncio.to_thread(deepgram.stream.closed.wait, 3)
    assert deepgram.stream.controls[-2:] == ["Finalize", "CloseStream"]

    user_message, reply = [m async for m in Message.objects.filter(conversation_id=session_id).order_by("created_at")]
    assert (user_message.source, user_message.sender) == ("voice", "user")
    assert user_message.message.lower().startswith("is sushi safe in pregnancy")
    assert (reply.source, reply.status, reply.message) == ("voice", "complete", complete["text"])
    await communicator.disconnect()


async def spoken_first_message(owner, deepgram) -> tuple[list[dict], str]:
    """A first message spoken into a new conversation: every message up to the complete reply."""
    deepgram.script(words=["is", "sushi", "safe", "in", "pregnancy"])
    communicator, session_id = await socket_connected(owner)
    await speak(communicator, words=5)
    await communicator.send_json_to({"type": "stop_talking"})
    messages = await receive_until(communicator, "ai_response", complete=True)
    await communicator.disconnect()
    return messages, session_id


@pytest.mark.parametrize("title_delay", [0.0, 0.4], ids=["ready-at-start", "ready-after-start"])
async def test_a_first_message_gets_one_title_the_models(anthropic_model, deepgram, owner, title_delay):
    """One `title`, before the complete reply: the model's, whether it came before or after the
    reply's first words."""
    anthropic_model.title_script(title="Sushi in Pregnancy", first_token_delay=title_delay)
    anthropic_model.reply_script(tokens=["Cooked", " sushi", " is", " fine"], first_token_delay=0.1)

    messages, session_id = await spoken_first_message(owner, deepgram)

    titles = [m for m in messages if m["type"] == "title"]
    assert titles == [{"type": "title", "text": "Sushi in Pregnancy"}]
    assert messages.index(titles[0]) == len(messages) - 2
    assert (await Conversation.objects.aget(id=session_id)).title == "Sushi in Pregnancy"


async def test_a_first_message_whose_model_title_fails_gets_the_fallback_once(anthropic_model, deepgram, owner):
    for _ in range(3):
        anthropic_model.title_script(status=500)
    anthropic_model.reply_script(tokens=["Cooked", " sushi", " is", " fine"])

    messages, session_id = await spoken_first_message(owner, deepgram)

    titles = [m["text"] for m in messages if m["type"] == "title"]
    conversation = await Conversation.objects.aget(id=session_id)
    assert len(titles) == 1 and messages[-2]["type"] == "title"
    assert titles[0].lower().startswith("is sushi safe in pregnancy") and titles[0] == conversation.title


async def test_query_audio_format_reaches_deepgram(deepgram, owner):
    communicator, _ = await socket_connected(owner, query="encoding=linear16&sample_rate=16000&channels=1")
    await speak(communicator, words=1)
    query = deepgram.stream.query
    assert (query["encoding"], query["sample_rate"], query["channels"], query["model"]) == (
        "linear16",
        "16000",
        "1",
        "nova-3",
    )
    await communicator.disconnect()


async def test_silence_is_no_speech_and_no_model_call(deepgram, owner):
    communicator, session_id = await socket_connected(owner)
    await communicator.send_json_to({"type": "start_talking"})
    await receive(communicator)
    await communicator.send_json_to({"type": "stop_talking"})
    assert await receive(communicator) == {"type": "status", "message": "No speech detected"}
    assert not await Message.objects.filter(conversation_id=session_id).aexists()
    await still_usable(communicator)
    await communicator.disconnect()


async def test_emergency_gets_the_notice_first(deepgram, owner, settings):
    settings.NORA_EMERGENCY_NUMBER = "999"
    deepgram.script(words=["im", "pregnant", "and", "bleeding", "heavily"])
    communicator, _ = await socket_connected(owner)
    await speak(communicator, words=5)
    await communicator.send_json_to({"type": "stop_talking"})
    messages = await receive_until(communicator, "ai_response", complete=True)
    first_reply = next(m for m in messages if m["type"] == "ai_response")
    assert "999" in first_reply["text"]
    assert messages[-1]["disclaimer"]["primary_category"] == "emergency"
    await communicator.disconnect()


async def test_a_spoken_emergency_gets_the_notice_in_the_language_it_was_spoken_in(deepgram, owner, settings):
    settings.NORA_EMERGENCY_NUMBER = "112"
    words = ["tengo", "convulsiones", "y", "estoy", "embarazada", "de", "treinta", "semanas"]
    deepgram.script(words=words)
    communicator, _ = await socket_connected(owner)
    await speak(communicator, words=len(words))
    await communicator.send_json_to({"type": "stop_talking"})
    messages = await receive_until(communicator, "ai_response", complete=True)
    first_reply = next(m for m in messages if m["type"] == "ai_response")
    assert first_reply["text"].startswith(
        "Esto podría ser una emergencia. Llama ahora a los servicios de emergencia al 112"
    )
    assert messages[-1]["disclaimer"]["message"].startswith("Algo de lo que describes")
    await communicator.disconnect()


async def test_a_transcript_the_model_triage_calls_an_emergency_gets_the_notice_first(
    anthropic_model, deepgram, owner, settings
):
    settings.NORA_EMERGENCY_NUMBER = "999"
    # Nothing the offline triage reads as an emergency: the model's second opinion raises it.
    words = ["can", "you", "tell", "me", "what", "to", "do", "about", "my", "wife", "right", "now"]
    deepgram.script(words=words)
    anthropic_model.triage_script(triage={"emergency": True, "sign": "self_harm"}, first_token_delay=0.2)
    communicator, _ = await socket_connected(owner)
    await speak(communicator, words=len(words))
    await communicator.send_json_to({"type": "stop_talking"})
    messages = await receive_until(communicator, "ai_response", complete=True)
    first_reply = next(m for m in messages if m["type"] == "ai_response")
    assert first_reply["text"].startswith("This could be an emergency") and "999" in first_reply["text"]
    assert messages[-1]["text"].startswith(first_reply["text"])
    assert messages[-1]["disclaimer"]["primary_category"] == "emergency"
    [request] = anthropic_model.triage_requests
    assert request.body["messages"][0]["content"] == " ".join(words)
    await communicator.disconnect()


async def test_barge_in_interrupts_the_reply_and_keeps_it_as_incomplete(deepgram, owner, settings):
    settings.NORA_OFFLINE_WORD_DELAY_SECONDS = 0.05
    communicator, session_id = await socket_connected(owner)
    await speak(communicator, words=2)
    await communicator.send_json_to({"type": "stop_talking"})
    await receive_until(communicator, "ai_response")
    await communicator.send_json_to({"type": "start_talking"})
    await receive_until(communicator, "status")
    reply = await Message.objects.filter(conversation_id=session_id, sender="ai").afirst()
    for _ in range(50):
        await reply.arefresh_from_db()
        if reply.status != "streaming":
            break
        await asyncio.sleep(0.05)
    assert reply.status == "incomplete"
    assert reply.message
    await communicator.disconnect()


async def test_speaking_while_an_sse_reply_is_generated_is_refused_but_saved(deepgram, owner):
    conversation = await sync_to_async(ConversationFactory)(user=owner)
    await sync_to_async(MessageFactory)(conversation=conversation, sender="ai", status="streaming")
    communicator, _ = await socket_connected(owner, conversation.id)
    await speak(communicator, words=2)
    await communicator.send_json_to({"type": "stop_talking"})
    messages = await receive_until(communicator, "error")
    assert messages[-1] == {"type": "error", "message": "A reply is already being generated"}
    assert await Message.objects.filter(conversation=conversation, sender="user", source="voice").acount() == 1
    await still_usable(communicator)
    await communicator.disconnect()


async def test_disconnect_mid_utterance_saves_what_was_said_and_closes_the_stream(deepgram, owner):
    deepgram.script(words=["my", "back", "hurts"])
    communicator, session_id = await socket_connected(owner)
    await speak(communicator, words=3)
    await communicator.disconnect()
    saved = await Message.objects.filter(conversation_id=session_id).afirst()
    assert saved.message.lower().startswith("my back hurts") and saved.source == "voice"
    assert await asyncio.to_thread(deepgram.stream.closed.wait, 3)
    assert "CloseStream" in deepgram.stream.controls


async def test_deepgram_refusing_the_connection_is_a_clear_error(deepgram, owner):
    deepgram.script(reject_status=401)
    communicator, _ = await socket_connected(owner)
    await communicator.send_json_to({"type": "start_talking"})
    error = await receive(communicator)
    assert error["type"] == "error" and TEST_API_KEY not in error["message"]
    await still_usable(communicator)
    await communicator.disconnect()


async def test_offline_recognition_needs_linear16(owner, settings):
    settings.NORA_STT_PROVIDER = "offline"
    communicator, _ = await socket_connected(owner, query="")
    await communicator.send_json_to({"type": "start_talking"})
    error = await receive(communicator)
    assert error["type"] == "error" and "encoding=linear16&sample_rate=16000" in error["message"]
    await communicator.disconnect()


# Bad input never kills the socket ----------------------------------------------------------------


@pytest.mark.parametrize(
    "frame, expected",
    [
        ("{not json", "Messages must be JSON objects."),
        ("[1, 2]", "Unknown message type."),
        ('{"type": "dance"}', "Unknown message type."),
        ('{"no": "type"}', "Unknown message type."),
        ('{"type": "audio_chunk", "data": "AAAA"}', "Send start_talking before audio_chunk."),
        ('{"type": "stop_talking"}', "Send start_talking before stop_talking."),
    ],
)
async def test_bad_frames_get_one_error(owner, frame, expected):
    communicator, _ = await socket_connected(owner)
    await communicator.send_to(text_data=frame)
    assert await receive(communicator) == {"type": "error", "message": expected}
    await still_usable(communicator)
    await communicator.disconnect()


async def test_binary_frames_get_an_error(owner):
    communicator, _ = await socket_connected(owner)
    await communicator.send_to(bytes_data=b"\x00\x01")
    assert (await receive(communicator))["message"].startswith("Binary frames are not supported")
    await still_usable(communicator)
    await communicator.disconnect()


async def test_frames_over_the_limit_are_refused_before_parsing(owner, settings):
    communicator, _ = await socket_connected(owner)
    await communicator.send_to(text_data="x" * (settings.NORA_VOICE_MAX_FRAME_BYTES + 1))
    assert await receive(communicator) == {"type": "error", "message": "Message too large."}
    await still_usable(communicator)
    await communicator.disconnect()


@pytest.mark.parametrize(
    "data, expected",
    [
        ("not base64!!", "Audio data is not valid base64."),
        ("", "audio_chunk needs base64 audio in data."),
        (None, "audio_chunk needs base64 audio in data."),
    ],
)
async def test_bad_audio_chunks_get_one_error(deepgram, owner, data, expected):
    communicator, _ = await socket_connected(owner)
    await communicator.send_json_to({"type": "start_talking"})
    await receive(communicator)
    await communicator.send_json_to({"type": "audio_chunk", "data": data})
    assert await receive(communicator) == {"type": "error", "message": expected}
    await still_usable(communicator)
    await communicator.disconnect()


async def test_audio_chunk_over_256_kib_is_refused(deepgram, owner, settings):
    communicator, _ = await socket_connected(owner)
    await communicator.send_json_to({"type": "start_talking"})
    await receive(communicator)
    await communicator.send_json_to(
        {"type": "audio_chunk", "data": encoded(b"\x00" * (settings.NORA_VOICE_MAX_CHUNK_BYTES + 1))}
    )
    assert (await receive(communicator))["message"].startswith("Audio chunk too large")
    assert not deepgram.stream.audio
    await still_usable(communicator)
    await communicator.disconnect()


async def test_an_utterance_past_its_size_limit_is_ended_and_answered(deepgram, owner, settings):
    settings.NORA_VOICE_MAX_UTTERANCE_BYTES = len(WORD) * 2
    communicator, _ = await socket_connected(owner)
    await speak(communicator, words=2)
    await communicator.send_json_to({"type": "audio_chunk", "data": encoded(WORD)})
    messages = await receive_until(communicator, "final_transcript")
    assert any(m["type"] == "error" and "too long" in m["message"] for m in messages)
    await communicator.send_json_to({"type": "audio_chunk", "data": encoded(WORD)})
    assert (await receive_until(communicator, "error"))[-1]["message"] == "Send start_talking before audio_chunk."
    await communicator.disconnect()


async def test_an_utterance_past_its_time_limit_is_ended(deepgram, owner, settings):
    settings.NORA_VOICE_MAX_UTTERANCE_SECONDS = 0.2
    communicator, _ = await socket_connected(owner)
    await speak(communicator, words=1)
    await asyncio.sleep(0.3)
    await communicator.send_json_to({"type": "audio_chunk", "data": encoded(WORD)})
    messages = await receive_until(communicator, "final_transcript")
    assert any(m["type"] == "error" and "too long" in m["message"] for m in messages)
    await communicator.disconnect()


async def test_open_sockets_per_user_are_limited(owner, settings):
    settings.NORA_VOICE_MAX_SOCKETS_PER_USER = 2
    first, _ = await socket_connected(owner)
    second, _ = await socket_connected(owner)
    third = await socket_open(owner)
    assert (await receive(third))["message"] == "Too many open voice connections. Close one and try again."
    assert (await third.receive_output(timeout=2))["code"] == 4429
    await first.disconnect()
    fourth, _ = await socket_connected(owner)
    await second.disconnect()
    await fourth.disconnect()


async def test_over_the_message_rate_the_socket_gets_an_error(deepgram, owner, settings):
    settings.NORA_RATE_MESSAGES_PER_MINUTE = 0
    communicator, session_id = await socket_connected(owner)
    await speak(communicator, words=2)
    await communicator.send_json_to({"type": "stop_talking"})
    messages = await receive_until(communicator, "error")
    assert "too quickly" in messages[-1]["message"]
    await still_usable(communicator)
    await communicator.disconnect()


async def test_an_unexpected_failure_in_a_turn_keeps_the_socket(owner, monkeypatch):
    """A bug in one message's handling is an error for that message, not a dead socket."""
    from voice import consumers

    def broken(*args, **kwargs):
        raise RuntimeError("simulated bug")

    monkeypatch.setattr(consumers, "speech_to_text", broken)
    communicator, _ = await socket_connected(owner)
    await communicator.send_json_to({"type": "start_talking"})
    assert await receive(communicator) == {
        "type": "error",
        "message": "Something went wrong on our side. Please try again.",
    }
    await still_usable(communicator)
    await communicator.disconnect()


async def test_disconnect_during_a_reply_saves_it_as_incomplete_at_once(deepgram, owner, settings):
    settings.NORA_OFFLINE_WORD_DELAY_SECONDS = 0.05
    communicator, session_id = await socket_connected(owner)
    await speak(communicator, words=2)
    await communicator.send_json_to({"type": "stop_talking"})
    await receive_until(communicator, "ai_response")
    started = asyncio.get_running_loop().time()
    await communicator.disconnect()
    assert asyncio.get_running_loop().time() - started < settings.NORA_STT_FINALIZE_TIMEOUT_SECONDS
    reply = await Message.objects.filter(conversation_id=session_id, sender="ai").aget()
    assert reply.status == "incomplete" and reply.message
