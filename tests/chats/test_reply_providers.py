import asyncio
import json
import logging
import re
from collections.abc import AsyncIterator

import anthropic
import pytest

from chats.engine.providers import (
    ModelEvent,
    PromptMessage,
    ReplyOpened,
    ReplyProvider,
    ReplyProviderError,
    ReplyUsage,
    TextDelta,
    reply_provider,
)
from chats.engine.providers.anthropic import (
    MESSAGES,
    TITLE_SYSTEM,
    AnthropicReplyProvider,
    _stream_events,
    _StreamCutShort,
    messages_build,
    title_clean,
)
from chats.engine.providers.offline import OfflineReplyProvider, guide
from chats.safety.classifier import CATEGORY_ORDER, message_classify

KEY = "test-key"
HISTORY = (PromptMessage(role="user", text="I'm 8 weeks pregnant and so tired."),)


@pytest.fixture
def anthropic_settings(settings, anthropic_server):
    settings.NORA_LLM_PROVIDER = "anthropic"
    settings.ANTHROPIC_API_KEY = KEY
    settings.ANTHROPIC_BASE_URL = anthropic_server.url
    settings.NORA_CHAT_MODEL = "claude-sonnet-4-6"
    settings.NORA_TITLE_MODEL = "claude-haiku-4-5"
    settings.NORA_CHAT_MAX_TOKENS = 1024
    settings.NORA_TITLE_MAX_TOKENS = 24
    settings.NORA_LLM_TIMEOUT_SECONDS = 5.0
    settings.NORA_LLM_RETRIES = 2
    settings.NORA_LLM_RETRY_BACKOFF_SECONDS = 0.001
    return settings


@pytest.fixture
async def provider(anthropic_settings) -> AsyncIterator[AnthropicReplyProvider]:
    provider = AnthropicReplyProvider()
    yield provider
    await provider.aclose()


async def reply_collect(
    provider: ReplyProvider, *, history=HISTORY, system: str = "You are Nora."
) -> tuple[list[ModelEvent], ReplyProviderError | None]:
    """Every event the provider yielded, and the error that ended the stream, if any."""
    events: list[ModelEvent] = []
    try:
        async for event in provider.reply_stream(system=system, history=history):
            events.append(event)
    except ReplyProviderError as error:
        return events, error
    finally:
        await provider.aclose()
    return events, None


def text_of(events: list[ModelEvent]) -> str:
    return "".join(event.text for event in events if isinstance(event, TextDelta))


# Anthropic: the happy path


async def test_reply_streams_deltas_in_order_then_usage(provider, anthropic_server):
    """The stream's opening first, then each text delta as it was sent, and usage once, last."""
    anthropic_server.reply_script(tokens=["Feeling", " tired", " is", " common", "."])

    events, error = await reply_collect(provider)

    assert error is None
    assert events[0] == ReplyOpened()
    assert events[1:-1] == [TextDelta(text) for text in ["Feeling", " tired", " is", " common", "."]]
    assert events[-1] == ReplyUsage(model="claude-sonnet-4-6", input_tokens=10, output_tokens=5)


async def test_reply_sends_system_history_model_and_key(provider, anthropic_server):
    """The system prompt, the merged history, the model, max_tokens and the key reach the API."""
    history = [
        PromptMessage(role="assistant", text="Hi, I'm Nora."),
        PromptMessage(role="user", text="Hello"),
        PromptMessage(role="user", text="Is coffee okay?"),
        PromptMessage(role="assistant", text="In moderation, yes."),
        PromptMessage(role="user", text="How much?"),
    ]

    events, error = await reply_collect(provider, history=history, system="Be kind and careful.")

    assert error is None
    [request] = anthropic_server.reply_requests
    assert request.body["model"] == "claude-sonnet-4-6"
    assert request.body["max_tokens"] == 1024
    assert request.body["system"] == "Be kind and careful."
    assert request.body["stream"] is True
    assert request.body["messages"] == [
        {"role": "user", "content": "Hello\n\nIs coffee okay?"},
        {"role": "assistant", "content": "In moderation, yes."},
        {"role": "user", "content": "How much?"},
    ]
    assert KEY in (request.headers.get("x-api-key", "") + request.headers.get("authorization", ""))


class _RawResponse:
    """What the parser reads: the response's bytes, cut wherever the network cut them."""

    def __init__(self, pieces: list[bytes]) -> None:
        self.pieces = pieces
        self.http_response = None

    async def iter_bytes(self) -> AsyncIterator[bytes]:
        for piece in self.pieces:
            yield piece


def _sse_raw(event: str, data: dict, *, newline: str) -> bytes:
    return f"event: {event}{newline}data: {json.dumps(data, ensure_ascii=False)}{newline}{newline}".encode()


def _stream_raw(*, texts: list[str], newline: str) -> bytes:
    message = {"type": "message", "model": "claude-sonnet-4-6", "usage": {"input_tokens": 12, "output_tokens": 1}}
    deltas = [{"type": "content_block_delta", "delta": {"type": "text_delta", "text": text}} for text in texts]
    events = [
        ("message_start", {"type": "message_start", "message": message}),
        ("content_block_start", {"type": "content_block_start", "index": 0}),
        ("ping", {"type": "ping"}),
        *(("content_block_delta", delta) for delta in deltas),
        ("content_block_stop", {"type": "content_block_stop", "index": 0}),
        ("message_delta", {"type": "message_delta", "usage": {"output_tokens": len(texts)}}),
        ("message_stop", {"type": "message_stop"}),
    ]
    return b"".join(_sse_raw(event, data, newline=newline) for event, data in events)


async def _parsed(pieces: list[bytes]) -> list[ModelEvent]:
    return [event async for event in _stream_events(_RawResponse(pieces))]


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
async def test_stream_events_survive_any_cut_in_the_bytes(newline):
    """Lines cut anywhere, even inside a character or between CR and LF, give the same events."""
    texts = ["Bébé", " dort", " 👶", " bien."]
    raw = _stream_raw(texts=texts, newline=newline)
    usage = ReplyUsage(model="claude-sonnet-4-6", input_tokens=12, output_tokens=4)
    expected = [*(TextDelta(text) for text in texts), usage]

    assert await _parsed([raw]) == expected
    assert await _parsed([raw[offset : offset + 1] for offset in range(len(raw))]) == expected
    for cut in range(1, len(raw)):
        assert await _parsed([raw[:cut], raw[cut:]]) == expected, cut


async def test_stream_events_without_message_stop_is_cut_short():
    """A stream that ends cleanly but before `message_stop` is an error, not a short reply."""
    raw = _stream_raw(texts=["Half"], newline="\n")

    with pytest.raises(_StreamCutShort):
        await _parsed([raw[: raw.index(b"event: message_stop")]])


async def test_the_parser_reads_a_stream_as_the_sdk_itself_does(provider, anthropic_server):
    """Nora's parser stands in for the SDK's (docs/decisions/anthropic-stream-parser.md): the same
    stream, read both ways, gives the same text and usage."""
    tokens = ["Naps", " help", " 👶", ", and", " so", " does", " rest."]
    anthropic_server.reply_script(tokens=tokens)
    anthropic_server.reply_script(tokens=tokens)
    events, error = await reply_collect(provider)
    client = anthropic.AsyncAnthropic(api_key=KEY, base_url=anthropic_server.url, max_retries=0)
    async with client:
        stream = await client.messages.create(
            model="claude-sonnet-4-6",
            system="You are Nora.",
            messages=messages_build(history=HISTORY),
            max_tokens=64,
            stream=True,
        )
        sdk_events = [event async for event in stream]
    sdk_text = "".join(event.delta.text for event in sdk_events if event.type == "content_block_delta")
    [start] = [event for event in sdk_events if event.type == "message_start"]
    [delta] = [event for event in sdk_events if event.type == "message_delta"]

    assert error is None
    assert text_of(events) == sdk_text == "".join(tokens)
    assert events[-1] == ReplyUsage(
        model=start.message.model,
        input_tokens=start.message.usage.input_tokens,
        output_tokens=delta.usage.output_tokens,
    )


def test_messages_build_starts_with_user_and_alternates():
    """Leading assistant turns and empty turns go; same-role neighbours are joined."""
    history = [
        PromptMessage(role="assistant", text="Welcome!"),
        PromptMessage(role="user", text="  "),
        PromptMessage(role="user", text="First"),
        PromptMessage(role="assistant", text="Reply one"),
        PromptMessage(role="assistant", text="Reply two"),
        PromptMessage(role="user", text="Second"),
    ]

    assert messages_build(history=history) == [
        {"role": "user", "content": "First"},
        {"role": "assistant", "content": "Reply one\n\nReply two"},
        {"role": "user", "content": "Second"},
    ]


def test_provider_builds_a_client_per_event_loop(provider, anthropic_server):
    """A provider kept across event loops still works: each loop gets its own client."""
    first, first_error = asyncio.run(reply_collect(provider))
    second, second_error = asyncio.run(reply_collect(provider))

    assert first_error is None and second_error is None
    assert text_of(first) == text_of(second) == "Hello, I'm Nora. How are you feeling today?"


# Anthropic: titles


async def test_title_generate_asks_the_title_model_and_cleans_the_answer(provider, anthropic_server):
    """The title call is a short non-streaming request, and its answer loses quotes and extra lines."""
    anthropic_server.title_script(title='"Morning Sickness Tips."\nI hope this helps!')

    title = await provider.title_generate(message="What helps with morning sickness?")

    assert title == "Morning Sickness Tips"
    [request] = anthropic_server.title_requests
    assert request.body["model"] == "claude-haiku-4-5"
    assert request.body["max_tokens"] == 24
    assert request.body["system"] == TITLE_SYSTEM
    assert request.body["messages"] == [{"role": "user", "content": "What helps with morning sickness?"}]
    assert not request.body.get("stream")
    assert anthropic_server.reply_requests == []


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("Sleep Tips", "Sleep Tips"),
        ("Title: **Back Pain Relief**", "Back Pain Relief"),
        ("\n\n'Heartburn at Night'\n", "Heartburn at Night"),
        ("one two three four five six seven eight nine ten", "one two three four five six seven eight"),
        (
            "Extraordinarily Comprehensive Considerations Regarding Gestational Nutritional Supplementation",
            "Extraordinarily Comprehensive Considerations Regarding",
        ),
        ('""', ""),
    ],
)
def test_title_clean(raw, clean):
    """Titles are one short line without quotes, labels or trailing punctuation."""
    assert title_clean(text=raw) == clean
    assert len(title_clean(text=raw)) <= 60


async def test_title_generate_failure_raises_after_retries(provider, anthropic_server):
    """A title that keeps failing with 500 is retried, then reported as a provider error."""
    for _ in range(3):
        anthropic_server.title_script(status=500)

    with pytest.raises(ReplyProviderError) as caught:
        await provider.title_generate(message="Hello")

    assert caught.value.code == "provider"
    assert len(anthropic_server.title_requests) == 3


async def test_title_generate_unauthorized_is_not_retried(provider, anthropic_server):
    anthropic_server.title_script(status=401)

    with pytest.raises(ReplyProviderError) as caught:
        await provider.title_generate(message="Hello")

    assert caught.value.code == "auth"
    assert len(anthropic_server.title_requests) == 1


async def test_title_generate_empty_title_raises(provider, anthropic_server):
    anthropic_server.title_script(title=' "." ')

    with pytest.raises(ReplyProviderError) as caught:
        await provider.title_generate(message="Hello")

    assert caught.value.code == "provider"


# Anthropic: failures before any text are retried quietly


@pytest.mark.parametrize(
    "fault",
    [
        {"status": 529},
        {"status": 500},
        {"error_after": 0},
        {"drop_after": 0},
        {"end_after": 0},
    ],
    ids=["http-529", "http-500", "in-stream-overloaded", "dropped-connection", "ended-early"],
)
async def test_failure_before_text_is_retried_then_succeeds(provider, anthropic_server, caplog, fault):
    """The person sees only the successful attempt, and no warning is logged."""
    anthropic_server.reply_script(**fault)
    anthropic_server.reply_script(tokens=["All", " good"])

    with caplog.at_level(logging.INFO, logger="chats.engine.providers"):
        events, error = await reply_collect(provider)

    assert error is None
    assert text_of(events) == "All good"
    assert isinstance(events[-1], ReplyUsage)
    assert [event for event in events if isinstance(event, ReplyOpened)] == [ReplyOpened()]
    assert isinstance(events[0], ReplyOpened)
    assert len(anthropic_server.reply_requests) == 2
    ours = [record.levelno for record in caplog.records if record.name.startswith("chats.engine.providers")]
    assert ours == [logging.INFO]


async def test_retries_are_exactly_the_setting(provider, anthropic_server, anthropic_settings):
    """NORA_LLM_RETRIES extra attempts, then the failure is reported."""
    anthropic_settings.NORA_LLM_RETRIES = 1
    for _ in range(5):
        anthropic_server.reply_script(status=529)

    events, error = await reply_collect(AnthropicReplyProvider())

    assert events == []
    assert error is not None and error.code == "overloaded"
    assert len(anthropic_server.reply_requests) == 2


# Anthropic: failures after text are reported, with the partial text already yielded


@pytest.mark.parametrize(
    ("fault", "code"),
    [({"error_after": 2}, "overloaded"), ({"drop_after": 2}, "connection"), ({"end_after": 2}, "connection")],
    ids=["in-stream-overloaded", "dropped-connection", "ended-early"],
)
async def test_failure_after_text_raises_without_retry(provider, anthropic_server, fault, code):
    anthropic_server.reply_script(tokens=["Rest", " when", " you", " can"], **fault)

    events, error = await reply_collect(provider)

    assert events == [ReplyOpened(), TextDelta("Rest"), TextDelta(" when")]
    assert error is not None and error.code == code
    assert len(anthropic_server.reply_requests) == 1


# Anthropic: failures that retrying cannot fix


@pytest.mark.parametrize(
    ("status", "code"),
    [(401, "auth"), (403, "auth"), (400, "provider"), (429, "rate_limited")],
)
async def test_client_errors_are_not_retried(provider, anthropic_server, status, code):
    anthropic_server.reply_script(status=status)

    events, error = await reply_collect(provider)

    assert events == []
    assert error is not None and error.code == code
    assert str(error) == error.message == MESSAGES[code]
    assert len(anthropic_server.reply_requests) == 1


async def test_empty_key_is_an_auth_error_without_a_request(anthropic_settings, anthropic_server):
    anthropic_settings.ANTHROPIC_API_KEY = ""

    events, error = await reply_collect(AnthropicReplyProvider())

    assert error is not None and error.code == "auth"
    assert anthropic_server.requests == []


async def test_hanging_server_times_out(provider, anthropic_server, anthropic_settings):
    """A server that never answers is reported as a timeout, after the retries."""
    anthropic_settings.NORA_LLM_TIMEOUT_SECONDS = 0.2
    anthropic_settings.NORA_LLM_RETRIES = 1
    anthropic_server.reply_script(hang=True)
    anthropic_server.reply_script(hang=True)

    events, error = await reply_collect(AnthropicReplyProvider())

    assert events == []
    assert error is not None and error.code == "timeout"
    assert len(anthropic_server.reply_requests) == 2


async def test_stream_stalling_after_text_times_out(provider, anthropic_server, anthropic_settings):
    anthropic_settings.NORA_LLM_TIMEOUT_SECONDS = 0.2
    anthropic_server.reply_script(tokens=["Take", " a", " break"], hang_after=1)

    events, error = await reply_collect(AnthropicReplyProvider())

    assert events == [ReplyOpened(), TextDelta("Take")]
    assert error is not None and error.code == "timeout"
    assert len(anthropic_server.reply_requests) == 1


@pytest.mark.parametrize(
    "fault",
    [{"status": 401}, {"status": 429}, {"status": 529}, {"status": 500}, {"error_after": 1}, {"drop_after": 1}],
)
async def test_errors_and_logs_never_carry_the_key_or_raw_body(
    provider, anthropic_server, anthropic_settings, caplog, fault
):
    anthropic_settings.NORA_LLM_RETRIES = 0
    anthropic_server.reply_script(**fault)

    with caplog.at_level(logging.INFO, logger="chats.engine.providers"):
        events, error = await reply_collect(provider)

    assert error is not None
    assert error.message in MESSAGES.values()
    assert error.__cause__ is None and error.__suppress_context__
    logged = caplog.text
    for secret in (KEY, "invalid x-api-key", "per-minute rate limit", "Internal server error", '"type"'):
        assert secret not in error.message
        assert secret not in logged
    [record] = [record for record in caplog.records if record.levelno == logging.WARNING]
    assert f"code={error.code}" in record.getMessage()


# Offline


@pytest.fixture
def offline(settings) -> OfflineReplyProvider:
    settings.NORA_OFFLINE_WORD_DELAY_SECONDS = 0.0
    return OfflineReplyProvider()


async def test_offline_streams_words_and_says_it_is_offline(offline):
    history = [
        PromptMessage(role="user", text="What can I take for heartburn?"),
        PromptMessage(role="assistant", text="Here is some advice."),
        PromptMessage(role="user", text="I keep feeling sick in the mornings"),
    ]

    events, error = await reply_collect(offline, history=history, system="You are Nora, be warm.")

    assert error is None
    assert events[0] == ReplyOpened()
    deltas = events[1:-1]
    assert all(isinstance(delta, TextDelta) and re.fullmatch(r"\S+\s*", delta.text) for delta in deltas)
    text = text_of(events)
    assert text.startswith(guide().notice)
    assert "hyperemesis" in text
    assert events[-1] == ReplyUsage(model="offline", input_tokens=5 + 6 + 4 + 7, output_tokens=len(deltas))


async def test_offline_waits_between_words(offline, settings):
    settings.NORA_OFFLINE_WORD_DELAY_SECONDS = 0.002
    loop = asyncio.get_running_loop()
    started = loop.time()

    events, _ = await reply_collect(offline)

    words = [event for event in events if isinstance(event, TextDelta)]
    assert loop.time() - started >= 0.002 * (len(words) - 1)


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("I just found out I'm pregnant, what now?", "First Trimester Questions"),
        ("Which cheese is safe to eat?", "Eating Well in Pregnancy"),
        ("Morning sickness has me feeling rough", "Nausea and Morning Sickness"),
        ("My lower back aches all day", "Back Pain in Pregnancy"),
        ("Terrible heartburn after dinner", "Heartburn Relief"),
        ("I can't sleep at all", "Sleep and Rest"),
        ("I have some bleeding and back pain", "Warning Signs to Know"),
        ("My baby's movements feel different today", "Warning Signs to Know"),
    ],
)
async def test_offline_picks_topic_by_keywords(offline, message, expected):
    """The reply and the title follow the topic of the last user message, warning signs first."""
    [topic] = [topic for topic in guide().topics if topic.title == expected]

    events, _ = await reply_collect(offline, history=[PromptMessage(role="user", text=message)])

    assert topic.text in text_of(events)
    assert await offline.title_generate(message=message) == expected


@pytest.mark.parametrize(
    ("message", "category", "expected"),
    [
        ("Can I take ibuprofen for a headache while pregnant?", "medication", "Medicines in Pregnancy"),
        ("I've felt so low and anxious since the birth", "mental_health", "Looking After Your Feelings"),
        ("I want to kill myself", "emergency", "Looking After Your Feelings"),
        ("Is this rash on my belly something to worry about?", "medical", "Symptoms and When to Ask"),
        ("I'm 30 weeks and bleeding heavily", "emergency", "Warning Signs to Know"),
        ("Which cheese is safe to eat?", "nutrition", "Eating Well in Pregnancy"),
    ],
)
async def test_offline_answers_what_the_disclaimer_is_about(offline, message, category, expected):
    """Each category the classifier detects gets a reply about it, so the disclaimer under the
    reply (a medicine's, a feeling's) matches what the reply talks about; thoughts of self-harm
    get the topic that names a crisis line, not the physical warning signs."""
    assert message_classify(text=message).primary_category == category
    [topic] = [topic for topic in guide().topics if topic.title == expected]

    events, _ = await reply_collect(offline, history=[PromptMessage(role="user", text=message)])

    assert topic.text in text_of(events)


def test_offline_guide_has_a_topic_for_every_category_but_pregnancy():
    """A pregnancy question no topic's keywords fit gets the general answer, which is about pregnancy."""
    covered = {topic.category for topic in guide().topics} - {None}
    assert covered == set(CATEGORY_ORDER) - {"pregnancy"}
    assert "first trimester" in guide().fallback


async def test_offline_falls_back_for_other_questions(offline):
    events, _ = await reply_collect(offline, history=[PromptMessage(role="user", text="How do I choose a pram?")])

    text = text_of(events)
    assert text.startswith(guide().notice)
    assert "midwife" in text
    assert await offline.title_generate(message="How do I choose a pram?") == "Choose Pram"
    assert await offline.title_generate(message="?!") == "New Conversation"


# Choosing a provider


def test_reply_provider_follows_the_setting_and_forgets_on_change(settings, anthropic_server):
    settings.NORA_LLM_PROVIDER = "offline"
    first = reply_provider()
    assert isinstance(first, OfflineReplyProvider)
    assert reply_provider() is first

    settings.NORA_LLM_PROVIDER = "anthropic"
    settings.ANTHROPIC_API_KEY = KEY
    anthropic = reply_provider()
    assert isinstance(anthropic, AnthropicReplyProvider)
    assert reply_provider() is anthropic

    settings.ANTHROPIC_BASE_URL = anthropic_server.url
    assert reply_provider() is not anthropic
