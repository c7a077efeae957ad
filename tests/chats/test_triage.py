"""The model-assisted triage: a second opinion from the fake Anthropic server, through the real SDK.

It may raise a turn to an emergency (the notice then comes before the model's first word), never
lower one; it is waited for until NORA_TRIAGE_DEADLINE_SECONDS; and without a model, or with the
model down, the offline layers decide alone.
"""

import time

import pytest
from asgiref.sync import sync_to_async

from chats import quotas
from chats.models import Conversation, Message
from chats.safety.classifier import EMERGENCY_SIGNS, RESEMBLES_EMERGENCY, message_classify
from chats.safety.triage import NO_SIGN, OTHER_SIGN, classification_raise, triage_answer_read, triage_brief
from nora.ratelimit import window_count
from tests.factories import ConversationFactory
from tests.streams import message_post, without_keepalives

pytestmark = pytest.mark.django_db(transaction=True)

# Words no offline layer calls an emergency, which a model reading them closely might.
QUIET = "she keeps counting the tablets in the cupboard and writing letters to each of us"
SEIZURE = "my wife is having a seizure right now"


async def turn(owner, text: str, **conversation_fields):
    conversation = await sync_to_async(ConversationFactory)(user=owner, **conversation_fields)
    began = time.monotonic()
    _, events = await message_post(owner, conversation.id, {"message": text})
    elapsed = time.monotonic() - began
    user_message = await Message.objects.filter(conversation=conversation, sender="user").aget()
    reply = await Message.objects.filter(conversation=conversation, sender="ai").aget()
    return without_keepalives(events), user_message, reply, elapsed


def test_quiet_is_not_an_offline_emergency():
    assert not message_classify(text=QUIET).is_emergency
    assert message_classify(text=SEIZURE).is_emergency


async def test_the_model_raises_a_turn_to_an_emergency_and_the_notice_comes_first(anthropic_model, owner, settings):
    settings.NORA_EMERGENCY_NUMBER = "999"
    anthropic_model.triage_script(triage={"emergency": True, "sign": "self_harm"}, first_token_delay=0.2)
    anthropic_model.reply_script(tokens=["I'm", " here", " with", " you."])
    events, user_message, reply, _ = await turn(owner, QUIET)
    start, notice, *chunks, done = events
    assert start["type"] == "start"
    assert notice["type"] == "chunk" and "999" in notice["content"] and "crisis line" in notice["content"]
    assert "".join(chunk["content"] for chunk in chunks) == "I'm here with you."
    assert done["disclaimer"]["primary_category"] == "emergency"
    assert reply.message == notice["content"] + "I'm here with you."
    assert reply.categories[0] == "emergency" and reply.disclaimer == done["disclaimer"]
    assert user_message.triage_verdict == "emergency" and user_message.triage_sign == "self_harm"
    assert user_message.primary_category == "emergency"
    assert user_message.triage_latency_ms >= 200
    assert user_message.triage_model == settings.NORA_TRIAGE_MODEL
    assert user_message.triage_input_tokens > 0 and user_message.triage_output_tokens > 0
    conversation = await Conversation.objects.aget(id=reply.conversation_id)
    assert conversation.has_emergency


async def test_the_triage_asks_the_triage_model_with_the_message_alone(anthropic_model, owner, settings):
    settings.NORA_TRIAGE_MODEL = "claude-triage-test"
    await turn(owner, QUIET)
    [request] = anthropic_model.triage_requests
    assert request.body["model"] == "claude-triage-test"
    assert request.body["messages"] == [{"role": "user", "content": QUIET}]
    assert request.body["tool_choice"] == {"type": "tool", "name": triage_brief().tool_name}
    signs = request.body["tools"][0]["input_schema"]["properties"]["sign"]["enum"]
    # Every named warning sign, but not the statistical layer's, which names none.
    assert signs == [*(sign for sign in EMERGENCY_SIGNS if sign != RESEMBLES_EMERGENCY), OTHER_SIGN, NO_SIGN]


async def test_a_raised_notice_is_in_the_profiles_language_with_its_countrys_numbers(anthropic_model, owner):
    owner.language, owner.country = "es", "MX"
    await sync_to_async(owner.save)()
    anthropic_model.triage_script(triage={"emergency": True, "sign": "bleeding"})
    events, *_ = await turn(owner, QUIET)
    assert events[1]["content"].startswith("Esto podría ser una emergencia") and "911" in events[1]["content"]


async def test_the_model_cannot_lower_an_offline_emergency(anthropic_model, owner, settings):
    settings.NORA_EMERGENCY_NUMBER = "999"
    anthropic_model.triage_default.triage = {"emergency": False, "sign": "none"}
    events, user_message, reply, _ = await turn(owner, SEIZURE)
    assert "999" in events[1]["content"]
    assert reply.message.startswith(events[1]["content"])
    # Never asked: nothing it could say would change the turn.
    assert anthropic_model.triage_requests == []
    assert user_message.triage_verdict == ""


async def test_a_not_emergency_verdict_changes_nothing_but_is_saved(anthropic_model, owner):
    events, user_message, reply, _ = await turn(owner, QUIET)
    assert [event["type"] for event in events][:2] == ["start", "chunk"]
    assert not reply.message.startswith("This could be an emergency")
    assert user_message.triage_verdict == "not_emergency" and user_message.triage_sign == ""
    assert user_message.triage_latency_ms is not None
    assert not (await Conversation.objects.aget(id=reply.conversation_id)).has_emergency


async def test_a_late_triage_holds_the_reply_only_until_the_deadline(anthropic_model, owner, settings):
    settings.NORA_TRIAGE_DEADLINE_SECONDS = 0.3
    anthropic_model.triage_script(triage={"emergency": True, "sign": "self_harm"}, first_token_delay=3.0)
    events, user_message, reply, elapsed = await turn(owner, QUIET)
    assert 0.3 <= elapsed < 2.5
    assert not events[1]["content"].startswith("This could be an emergency")
    assert user_message.triage_verdict == "late" and user_message.triage_input_tokens is None
    assert reply.status == "complete"


async def test_the_reply_waits_for_a_triage_that_answers_in_time(anthropic_model, owner):
    anthropic_model.triage_script(first_token_delay=0.4)
    anthropic_model.reply_script(tokens=["Hello"])
    _, _, _, elapsed = await turn(owner, QUIET)
    assert elapsed >= 0.4


@pytest.mark.parametrize(
    "script",
    [
        {"status": 500},
        {"status": 401},
        {"drop_after": 0},
        {"triage": {"verdict": "emergency"}},
        {"triage": {"emergency": "yes", "sign": "seizure"}},
    ],
    ids=["server-error", "refused-key", "connection-reset", "wrong-shape", "not-a-boolean"],
)
async def test_with_the_triage_down_the_offline_layers_decide_alone(anthropic_model, owner, script):
    anthropic_model.triage_script(**script)
    events, user_message, reply, _ = await turn(owner, QUIET)
    assert events[-1]["type"] == "done" and events[-1]["status"] == "complete"
    assert not reply.message.startswith("This could be an emergency")
    assert user_message.triage_verdict == "failed"


async def test_a_failed_reply_still_gets_the_notice_the_triage_calls_for(anthropic_model, owner, settings):
    settings.NORA_LLM_RETRIES = 0
    settings.NORA_EMERGENCY_NUMBER = "999"
    anthropic_model.triage_script(triage={"emergency": True, "sign": "seizure"}, first_token_delay=0.1)
    anthropic_model.reply_script(status=500)
    events, _, reply, _ = await turn(owner, QUIET)
    assert [event["type"] for event in events] == ["start", "chunk", "error"]
    assert "999" in events[1]["content"] and reply.message == events[1]["content"]


async def test_a_deadline_of_zero_turns_the_layer_off(anthropic_model, owner, settings):
    settings.NORA_TRIAGE_DEADLINE_SECONDS = 0
    _, user_message, _, _ = await turn(owner, QUIET)
    assert anthropic_model.triage_requests == [] and user_message.triage_verdict == ""


async def test_offline_there_is_no_triage(owner):
    _, user_message, reply, _ = await turn(owner, QUIET)
    assert user_message.triage_verdict == "" and reply.status == "complete"


async def test_the_triages_tokens_are_not_counted_against_the_quota(anthropic_model, owner, settings):
    settings.NORA_QUOTA_TOKENS_PER_DAY = 10_000
    anthropic_model.triage_script(triage={"emergency": True, "sign": "self_harm"})
    _, user_message, reply, _ = await turn(owner, QUIET)
    assert user_message.triage_input_tokens > 0
    _, _, tokens = quotas._windows()
    used = await sync_to_async(window_count)(window=tokens, subject=str(owner.id))
    assert used == reply.input_tokens + reply.output_tokens


def test_an_answer_is_read_only_in_the_shape_asked_for():
    assert triage_answer_read(answer={"emergency": True, "sign": "seizure"}) == (True, "seizure")
    assert triage_answer_read(answer={"emergency": True, "sign": "other"}) == (True, None)
    assert triage_answer_read(answer={"emergency": False, "sign": "seizure"}) == (False, None)
    assert triage_answer_read(answer={"emergency": 1}) is None
    assert triage_answer_read(answer=None) is None


def test_a_raise_keeps_what_the_offline_layers_found():
    found = message_classify(text="can i take paracetamol for this headache")
    raised = classification_raise(classification=found, sign="headache")
    assert raised.detected_categories[0] == "emergency"
    assert set(found.detected_categories) <= set(raised.detected_categories)
    assert raised.emergency_signs == ("headache",)
