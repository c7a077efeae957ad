"""Safety through the SSE endpoint: the notice first, the disclaimer in `done`, both saved with the reply."""

import pytest
from asgiref.sync import sync_to_async

from chats.models import Conversation, Message
from tests.factories import ConversationFactory
from tests.streams import message_post, without_keepalives

pytestmark = pytest.mark.django_db(transaction=True)


async def send(user, text: str) -> tuple[Conversation, list[dict]]:
    """The message, in a new conversation of the user's."""
    conversation = await sync_to_async(ConversationFactory)(user=user)
    _, events = await message_post(user, conversation.id, {"message": text})
    return conversation, without_keepalives(events)


async def reply_of(conversation) -> Message:
    return await Message.objects.filter(conversation=conversation, sender="ai").aget()


async def test_a_pregnancy_question_gets_the_educational_disclaimer(owner):
    conversation, events = await send(owner, "what should i expect in my first trimester")
    done = events[-1]
    assert done["disclaimer"]["primary_category"] == "pregnancy"
    assert done["disclaimer"]["message"].startswith("This information is for educational purposes only")
    reply = await reply_of(conversation)
    assert reply.disclaimer == done["disclaimer"]
    assert reply.categories == done["disclaimer"]["detected_categories"]


async def test_a_medication_question_gets_talk_to_your_provider(owner):
    _, events = await send(owner, "can i take ibuprofen for a headache at 20 weeks")
    disclaimer = events[-1]["disclaimer"]
    assert disclaimer["primary_category"] == "medication"
    assert "pharmacist" in disclaimer["message"] or "doctor" in disclaimer["message"]


async def test_small_talk_has_no_disclaimer_key(owner):
    _, events = await send(owner, "thanks, have a nice evening")
    assert events[-1]["type"] == "done"
    assert "disclaimer" not in events[-1]


async def test_an_emergency_gets_the_notice_first_and_saved(owner, settings):
    settings.NORA_EMERGENCY_NUMBER = "999"
    conversation, events = await send(owner, "my wife is 34 weeks and has a really bad headache and blurry vision")
    assert events[0]["type"] == "start"
    notice = events[1]
    assert notice["type"] == "chunk" and "999" in notice["content"] and "maternity unit" in notice["content"]
    assert events[-1]["disclaimer"]["primary_category"] == "emergency"
    reply = await reply_of(conversation)
    assert reply.message.startswith(notice["content"])
    assert reply.primary_category == "emergency"
    await conversation.arefresh_from_db()
    assert conversation.has_emergency


async def test_the_model_is_told_to_put_safety_first(owner, settings, anthropic_server):
    settings.NORA_LLM_PROVIDER = "anthropic"
    settings.ANTHROPIC_API_KEY = "sk-ant-safety"
    settings.ANTHROPIC_BASE_URL = anthropic_server.url
    await send(owner, "im 30 weeks pregnant and bleeding heavily")
    system = anthropic_server.reply_requests[-1].body["system"]
    system = system if isinstance(system, str) else system[0]["text"]
    assert "emergency" in system.lower()


async def test_thoughts_of_self_harm_name_the_crisis_line(owner, settings):
    settings.NORA_EMERGENCY_NUMBER = "911"
    settings.NORA_CRISIS_LINE = "988"
    _, events = await send(owner, "i keep having thoughts of hurting myself since the baby came")
    assert "988" in events[1]["content"]
    assert events[-1]["disclaimer"]["primary_category"] == "emergency"
    assert "mental_health" in events[-1]["disclaimer"]["detected_categories"]


async def test_a_negated_sign_is_not_an_emergency(owner):
    _, events = await send(owner, "I'm not bleeding, just cramps like a period")
    assert events[-1].get("disclaimer", {}).get("primary_category") != "emergency"
    assert events[1]["type"] == "chunk" and "emergency" not in events[1]["content"].lower()


async def test_the_notice_and_disclaimer_are_in_the_profiles_language_with_its_countrys_numbers(owner, settings):
    settings.NORA_EMERGENCY_NUMBER = "999"
    owner.country, owner.language = "MX", "es"
    await owner.asave(update_fields=["country", "language"])

    conversation, events = await send(owner, "I'm 30 weeks and I've just had a seizure")

    notice = events[1]["content"]
    assert notice.startswith("Esto podría ser una emergencia. Llama ahora a los servicios de emergencia al 911")
    assert "999" not in notice
    done = events[-1]
    assert done["disclaimer"]["message"].startswith("Algo de lo que describes puede ser señal de una emergencia")
    reply = await reply_of(conversation)
    assert reply.message.startswith(notice) and reply.disclaimer == done["disclaimer"]


async def test_without_a_profile_language_the_notice_is_in_the_messages(owner, settings):
    settings.NORA_EMERGENCY_NUMBER = "112"
    _, events = await send(owner, "tengo convulsiones y estoy embarazada de treinta semanas")
    assert events[1]["content"].startswith(
        "Esto podría ser una emergencia. Llama ahora a los servicios de emergencia al 112"
    )
    assert events[-1]["disclaimer"]["message"].startswith("Algo de lo que describes")


async def test_the_crisis_line_is_the_profile_countrys(owner, settings):
    settings.NORA_CRISIS_LINE = "988"
    owner.country = "GB"
    await owner.asave(update_fields=["country"])
    _, events = await send(owner, "I want to end my life, I can't do this anymore")
    notice = events[1]["content"]
    assert "emergency services on 999" in notice and "call 116 123 (Samaritans) now" in notice
    assert "988" not in notice
