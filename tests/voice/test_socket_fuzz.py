"""Hostile frames against the real voice consumer: each gets one `error` (or its documented reply),
then a `ping` still gets its `pong`; the app never raises, closes or hangs."""

import base64
import json
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework_simplejwt.tokens import AccessToken

from tests.factories import UserFactory
from tests.sockets import socket_connected, still_usable

pytestmark = pytest.mark.django_db(transaction=True)

FRAME_LIMIT = 2048
CHUNK_LIMIT = 1024
LINEAR16 = "encoding=linear16&sample_rate=16000"
# Long enough for a loaded CI machine; a hang still fails.
TIMEOUT = 10
FUZZ = settings(
    max_examples=60,
    derandomize=True,
    deadline=None,
    database=None,
    # The user and its token are made once, for every example.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
def limits(settings):
    """Small limits, so frames on both sides of them are cheap to make."""
    settings.NORA_VOICE_MAX_FRAME_BYTES = FRAME_LIMIT
    settings.NORA_VOICE_MAX_CHUNK_BYTES = CHUNK_LIMIT
    settings.NORA_VOICE_MAX_SOCKETS_PER_USER = 1000  # one user opens a socket per example
    settings.NORA_STT_PROVIDER = "offline"


@pytest.fixture
def token(limits) -> str:
    return str(AccessToken.for_user(UserFactory()))


# The protocol ------------------------------------------------------------------------------------


async def reply(communicator) -> dict:
    """The next frame the server sends; a close (1011 or any other) or an app exception fails here."""
    output = await communicator.receive_output(timeout=TIMEOUT)
    assert output["type"] == "websocket.send", output
    return json.loads(output["text"])


async def closed_cleanly(communicator) -> None:
    """Disconnecting re-raises anything the consumer raised, and times out if it hangs."""
    await communicator.disconnect(timeout=TIMEOUT)
    assert communicator.future.done() and not communicator.future.cancelled()
    assert communicator.future.exception() is None


async def turn_ended(communicator) -> None:
    """Random audio is mostly heard as nothing, but the decoder may hear a word in it and answer."""
    while True:
        message = await reply(communicator)
        assert message["type"] in {"status", "final_transcript", "title", "ai_response"}, message
        if message == {"type": "status", "message": "No speech detected"} or message.get("is_complete"):
            return


def not_json(token: str):
    raise ValueError(f"{token} is not JSON")


def finite_float(text: str) -> float:
    if not math.isfinite(number := float(text)):
        raise ValueError(f"{text} is not a finite number")
    return number


def strict_json(text: str):
    """JSON as RFC 8259 has it, and as the socket reads it: NaN and Infinity (1e999 too) are not values."""
    return json.loads(text, parse_constant=not_json, parse_float=finite_float)


def documented_reply(frame: str | bytes, *, listening: bool = False) -> str:
    """`pong` for a ping, `error` for anything else a socket that is not being spoken to is sent."""
    if isinstance(frame, bytes) or len(frame.encode()) > FRAME_LIMIT:
        return "error"
    try:
        content = strict_json(frame)
    except (ValueError, RecursionError):
        return "error"
    kind = content.get("type") if isinstance(content, dict) else None
    if kind == "ping":
        return "pong" if isinstance(content.get("timestamp"), str | int | float | None) else "error"
    if kind == "audio_chunk" and listening:
        return "silence" if audio_accepted(content.get("data")) else "error"
    return "error"


def audio_accepted(data) -> bool:
    if not isinstance(data, str) or not data:
        return False
    try:
        return len(base64.b64decode(data, validate=True)) <= CHUNK_LIMIT
    except ValueError:
        return False


async def answered(communicator, frame: str | bytes, *, listening: bool = False) -> None:
    """Send one frame; it gets its documented reply (none for accepted audio), and the socket lives on."""
    # send_input, not send_to, which refuses the empty frames a client can still send.
    key = "bytes" if isinstance(frame, bytes) else "text"
    await communicator.send_input({"type": "websocket.receive", key: frame})
    expected = documented_reply(frame, listening=listening)
    if expected != "silence":
        message = await reply(communicator)
        assert message["type"] == expected, (frame[:200], message)
        if expected == "error":
            assert isinstance(message["message"], str) and message["message"]
        else:
            assert message["timestamp"] == strict_json(frame).get("timestamp")
    await still_usable(communicator)


# Strategies ------------------------------------------------------------------------------------------

finite_floats = st.floats(allow_nan=False, allow_infinity=False)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | finite_floats | st.text(max_size=40),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)
kinds = st.sampled_from(["ping", "audio_chunk", "stop_talking", "PING", "start-talking", "", " ping"]) | json_values
typed = st.builds(
    lambda kind, extra: {**extra, "type": kind}, kinds, st.dictionaries(st.text(max_size=10), json_values, max_size=3)
)
base64_text = st.binary(max_size=CHUNK_LIMIT + 8).map(lambda raw: base64.b64encode(raw).decode())
audio_data = (
    json_values  # not a string, or a string that is rarely base64
    | base64_text
    | base64_text.map(lambda text: text[:-1] if text else "=")  # cut short
    | base64_text.map(lambda text: text + "\n")  # whitespace
    | st.text(alphabet="ABCDabcd0123+/=-_ \t", max_size=60)  # nearly base64
    | st.integers(CHUNK_LIMIT + 1, CHUNK_LIMIT * 3).map(lambda size: base64.b64encode(b"\x00" * size).decode())
)
audio_chunks = st.builds(lambda data: {"type": "audio_chunk", "data": data}, audio_data)


def padded_ping(length: int) -> str:
    """A valid ping exactly `length` characters long."""
    frame = json.dumps({"type": "ping", "timestamp": ""})
    return frame[:-2] + "x" * (length - len(frame)) + frame[-2:]


def not_a_stop(frame: str | bytes) -> bool:
    """Ending the utterance is not hostile; it is tested on its own."""
    return documented_reply(frame) != "error" or "stop_talking" not in str(frame)


near_the_limit = st.integers(-3, 3).map(lambda offset: padded_ping(FRAME_LIMIT + offset))
hostile_frames = st.one_of(
    st.text(max_size=300),  # any unicode
    json_values.map(json.dumps),
    typed.map(json.dumps),
    audio_chunks.map(json.dumps),
    st.binary(max_size=300),
    near_the_limit,
    st.integers(FRAME_LIMIT + 1, FRAME_LIMIT * 4).map(lambda size: "x" * size),  # huge
)


# Tests ----------------------------------------------------------------------------------------------


@FUZZ
@given(frames=st.lists(hostile_frames, min_size=1, max_size=6))
async def test_hostile_frames_each_get_their_reply_and_the_socket_lives_on(token, frames):
    """Any text, JSON, type, audio_chunk, binary or oversized frame: one error (a ping: its pong), then a pong."""
    communicator, _ = await socket_connected(token=token, query="", timeout=TIMEOUT)
    for frame in frames:
        await answered(communicator, frame)
    await closed_cleanly(communicator)


@FUZZ
@given(frames=st.lists(audio_chunks.map(json.dumps) | hostile_frames.filter(not_a_stop), min_size=1, max_size=6))
async def test_hostile_audio_while_listening_gets_errors_and_the_utterance_goes_on(token, frames):
    """Bad audio_chunk data mid-utterance is refused one frame at a time; good audio is still taken."""
    communicator, _ = await socket_connected(token=token, timeout=TIMEOUT)
    await communicator.send_to(text_data=json.dumps({"type": "start_talking"}))
    assert await reply(communicator) == {"type": "status", "message": "Listening... Speak now"}
    for frame in frames:
        await answered(communicator, frame, listening=True)
    await communicator.send_to(text_data=json.dumps({"type": "stop_talking"}))
    await turn_ended(communicator)
    await still_usable(communicator)
    await closed_cleanly(communicator)


@pytest.mark.parametrize("offset, expected", [(-1, "pong"), (0, "pong"), (1, "error")])
async def test_frames_just_under_and_over_the_limit(token, offset, expected):
    """A ping of exactly NORA_VOICE_MAX_FRAME_BYTES is answered; one character more is refused."""
    communicator, _ = await socket_connected(token=token, query="", timeout=TIMEOUT)
    frame = padded_ping(FRAME_LIMIT + offset)
    assert len(frame) == FRAME_LIMIT + offset
    await communicator.send_to(text_data=frame)
    assert (await reply(communicator))["type"] == expected
    await still_usable(communicator)
    await closed_cleanly(communicator)


@pytest.mark.parametrize(
    "frame",
    [
        "",
        "null",
        "NaN",
        '{"type": "ping", "timestamp": 1' + "0" * 5000 + "}",  # past Python's int digits limit
        '{"type": "ping"}' + " " * 10,
        '{"type": "ping"} {"type": "ping"}',
        '{"type": "audio_chunk", "data": "AAAA"}',
        '{"type": "stop_talking"}',
        "\U0001f600" * 10,
        b"",
        b"\xff" * (FRAME_LIMIT * 2),
    ],
)
async def test_odd_frames(token, frame):
    """Empty, non-object, doubled, padded and emoji frames and huge binary ones get their documented reply."""
    communicator, _ = await socket_connected(token=token, query="", timeout=TIMEOUT)
    await answered(communicator, frame)
    await closed_cleanly(communicator)


@pytest.mark.parametrize("frame", ["[" * 1500, '{"type": "ping", "timestamp": ' + "[" * 1500])
async def test_deeply_nested_json_gets_an_error(token, frame):
    """JSON nested past Python's recursion limit, well under the frame limit, is an error, not a crash."""
    communicator, _ = await socket_connected(token=token, query="", timeout=TIMEOUT)
    await answered(communicator, frame)
    await closed_cleanly(communicator)


async def test_a_timestamp_nested_just_under_the_recursion_limit_is_not_a_crash(token):
    """Some depth parses in receive() but would overflow json.dumps a few frames further down, in ping()."""
    communicator, _ = await socket_connected(token=token, query="", timeout=TIMEOUT)
    for depth in range(850, 1000):
        frame = '{"type": "ping", "timestamp": ' + "[" * depth + "]" * depth + "}"
        await communicator.send_to(text_data=frame)
        assert (await reply(communicator))["type"] in {"pong", "error"}
    await closed_cleanly(communicator)


@pytest.mark.parametrize(
    "value",
    [
        "NaN",
        "Infinity",
        "-Infinity",
        "1e999",
    ],
)
async def test_replies_are_strict_json(token, value):
    """NaN and Infinity are not JSON: refused, never echoed in a pong a browser could not parse."""
    communicator, _ = await socket_connected(token=token, query="", timeout=TIMEOUT)
    await communicator.send_to(text_data=f'{{"type": "ping", "timestamp": {value}}}')
    output = await communicator.receive_output(timeout=TIMEOUT)
    assert strict_json(output["text"])["type"] == "error"
    await still_usable(communicator)
    await closed_cleanly(communicator)


async def test_the_frame_limit_counts_bytes(token):
    """A frame within the limit in characters but over it in UTF-8 bytes is refused."""
    communicator, _ = await socket_connected(token=token, query="", timeout=TIMEOUT)
    frame = padded_ping(FRAME_LIMIT).replace("x", "é")  # the limit in characters, twice it in UTF-8
    await communicator.send_to(text_data=frame)
    assert await reply(communicator) == {"type": "error", "message": "Message too large."}
    await still_usable(communicator)
    await closed_cleanly(communicator)
