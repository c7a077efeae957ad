"""Replies from a small built-in guide, so Nora runs with no API key and no network."""

import asyncio
import re
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

from django.conf import settings

from chats.engine.providers.base import ReplyEvent, ReplyOpened, ReplyUsage, TextDelta, Turn

OFFLINE_NOTICE = "(Offline mode: Nora is answering from a small built-in guide, not the AI model.)"


@dataclass(frozen=True, slots=True)
class Topic:
    title: str
    # Matched at the start of a word, so "vomit" also finds "vomiting".
    keywords: tuple[str, ...]
    text: str


# Warning signs come first: a message that mentions bleeding and back pain should get
# the advice to call someone, not tips on posture.
TOPICS = (
    Topic(
        title="Warning Signs to Know",
        keywords=(
            "bleed",
            "blood",
            "spotting",
            "severe",
            "headache",
            "blurred",
            "blurry",
            "vision",
            "flashing",
            "swollen",
            "swelling",
            "fever",
            "temperature",
            "itch",
            "waters",
            "leaking",
            "contraction",
            "moving less",
            "not moving",
            "baby's movements",
            "baby movements",
            "reduced movements",
            "kicks",
            "faint",
            "chest pain",
            "breath",
            "emergency",
            "urgent",
        ),
        text=(
            "Some symptoms need a professional to look at them the same day, not a wait for your next appointment. "
            "Call your midwife, maternity unit or doctor straight away if you have any bleeding from the vagina, "
            "fluid leaking, a severe or lasting headache, problems with your sight such as blurring or flashing "
            "lights, sudden swelling of your face, hands or feet, strong tummy pain, a fever, or intense itching, "
            "especially on your hands and feet. Later in pregnancy, if your baby's movements slow down, change or "
            "stop, call the maternity unit that day rather than waiting until tomorrow.\n\n"
            "If you have chest pain, trouble breathing, or you feel very unwell, call your local emergency number "
            "now. Trust your instincts: maternity teams would always rather check and reassure you than have you "
            "wait at home."
        ),
    ),
    Topic(
        title="Nausea and Morning Sickness",
        keywords=("nause", "sick", "vomit", "throw up", "throwing up", "queasy"),
        text=(
            "Feeling sick is one of the most common parts of early pregnancy, and despite the name it can happen at "
            "any time of day. For many people it eases somewhere between 12 and 20 weeks.\n\n"
            "Small meals or snacks every couple of hours often help more than three big meals, as does nibbling "
            "something plain like crackers or dry toast before you get up. Sip drinks little and often, rest when "
            "you can, and some people find ginger or cold foods easier than hot ones.\n\n"
            "Please contact your midwife or doctor if you can't keep food or drink down for a day, your pee is dark "
            "or you are hardly peeing, you feel dizzy or faint, or you are losing weight. That can be a more severe "
            "form called hyperemesis gravidarum, and there are safe treatments that help."
        ),
    ),
    Topic(
        title="Heartburn Relief",
        keywords=("heartburn", "reflux", "indigestion", "acid", "burning"),
        text=(
            "Heartburn is very common in pregnancy: hormones relax the valve at the top of your stomach, and later "
            "your growing bump presses upwards.\n\n"
            "Smaller, more frequent meals, sitting upright for a while after eating, and leaving two or three hours "
            "between your last meal and bed can all help. Raising the head of your bed a little and noticing your "
            "own triggers, often spicy or fatty food, coffee or fizzy drinks, makes a difference for many people. "
            "Some antacids are fine in pregnancy; ask your pharmacist, midwife or doctor which one suits you.\n\n"
            "If you get strong pain just below your ribs, especially with a headache, changes in your vision or "
            "swelling, contact your maternity unit straight away, as that is different from ordinary heartburn."
        ),
    ),
    Topic(
        title="Back Pain in Pregnancy",
        keywords=("back pain", "backache", "my back", "lower back", "sciatica", "hip", "pelvi", "posture"),
        text=(
            "Back pain is common as pregnancy goes on: hormones soften the ligaments that support your joints, and "
            "the weight of your bump changes your posture.\n\n"
            "Bending your knees and keeping your back straight when you lift, wearing flat supportive shoes, and "
            "sleeping on your side with a pillow between your knees can ease the strain. Gentle activity such as "
            "swimming, walking or pregnancy yoga often helps, and so can a warm bath. If it is getting in the way of "
            "daily life, ask your midwife or doctor about seeing a physiotherapist.\n\n"
            "Get in touch with them promptly if the pain is severe, comes with a fever, bleeding or pain when you "
            "pee, comes in regular waves, or if you have numbness in your legs or bottom."
        ),
    ),
    Topic(
        title="Sleep and Rest",
        keywords=("sleep", "insomnia", "tired", "exhaust", "fatigue", "nap", "awake", "night", "pillow"),
        text=(
            "Tiredness is real in pregnancy, especially in the first and last few months, and broken sleep is very "
            "common. Rest when you can, even a short nap or simply putting your feet up.\n\n"
            "A calm routine before bed, drinking more earlier in the day and less in the evening, and keeping "
            "caffeine to the morning can help. From about 28 weeks it is recommended to go to sleep on your side "
            "rather than your back; if you wake up on your back, just turn over. Pillows behind you, between your "
            "knees or under your bump can make side-sleeping more comfortable.\n\n"
            "If worry or low mood is keeping you awake, or you feel exhausted all the time, tell your midwife or "
            "doctor. That is common and there is support for it."
        ),
    ),
    Topic(
        title="Eating Well in Pregnancy",
        keywords=(
            "eat",
            "food",
            "diet",
            "nutrition",
            "vitamin",
            "folic",
            "supplement",
            "caffeine",
            "coffee",
            "fish",
            "cheese",
            "meat",
            "egg",
            "alcohol",
            "drink",
            "iron",
            "hungry",
            "craving",
        ),
        text=(
            "There is no need to eat for two: a varied diet with plenty of fruit and vegetables, starchy foods, "
            "protein such as beans, eggs, fish or meat, and some dairy gives you and your baby what you need. Extra "
            "calories are usually only needed later in pregnancy, and only a little.\n\n"
            "A folic acid supplement (400 micrograms a day) is recommended from before conception until 12 weeks, "
            "and vitamin D is often advised throughout. It is usually suggested to keep caffeine under about 200 mg "
            "a day, to avoid alcohol, to make sure meat and eggs are cooked through, and to skip unpasteurised milk "
            "and soft mould-ripened or blue cheeses unless they are cooked until steaming. Limit oily fish to two "
            "portions a week and avoid shark, swordfish and marlin, as well as liver and supplements containing "
            "vitamin A.\n\n"
            "Advice differs a little between countries, so your midwife or doctor can tell you what applies to you, "
            "and whether you need anything extra such as iron."
        ),
    ),
    Topic(
        title="First Trimester Questions",
        keywords=(
            "first trimester",
            "1st trimester",
            "early pregnancy",
            "just found out",
            "positive test",
            "pregnancy test",
            "first appointment",
            "booking appointment",
            "newly pregnant",
            "early weeks",
        ),
        text=(
            "The first trimester runs to about week 12 or 13, and a lot is happening even before you have a bump. "
            "Tiredness, feeling sick, sore breasts, needing to pee more often and changing moods are all common.\n\n"
            "If you haven't yet, it's a good time to contact a midwife or doctor so your care can start; many "
            "services like to see you before about 10 weeks. Taking folic acid, stopping smoking and alcohol, and "
            "checking any regular medicines with a pharmacist or doctor are helpful early steps.\n\n"
            "Light spotting can happen, but always mention bleeding or tummy pain to your midwife or doctor, and get "
            "help the same day if it is heavy or painful. It is also completely normal to have mixed feelings; you "
            "can talk about those with your midwife too."
        ),
    ),
)

FALLBACK_TEXT = (
    "I can share general guidance on the first trimester, eating well, nausea, back pain, heartburn, sleep, and "
    'warning signs to look out for. Try asking about one of those, for example "What helps with morning '
    'sickness?"\n\n'
    "For anything specific to you or your baby, your midwife, doctor or health visitor is the best person to ask, "
    "and if something feels wrong, please contact them or your local emergency number without waiting."
)
FALLBACK_TITLE_WORDS = 4
STOPWORDS = frozenset(
    "a an and are about any am be but can could do does for from have how i i'm im if in is it it's its me my "
    "of on or should so that the there this to was we what when where which who why will with would you your "
    "hi hello hey please thanks thank".split()
)


def topic_pick(*, text: str) -> Topic | None:
    lowered = text.lower()
    for topic in TOPICS:
        if any(re.search(rf"\b{re.escape(keyword)}", lowered) for keyword in topic.keywords):
            return topic
    return None


def _words_count(*, text: str) -> int:
    return len(text.split())


class OfflineReplyProvider:
    """Answers from TOPICS by the keywords of the person's last message, word by word."""

    async def aclose(self) -> None:
        """It holds no connections."""

    async def reply_stream(self, *, system: str, history: Sequence[Turn]) -> AsyncIterator[ReplyEvent]:
        last_user_text = next((turn.text for turn in reversed(history) if turn.role == "user"), "")
        topic = topic_pick(text=last_user_text)
        reply = f"{OFFLINE_NOTICE}\n\n{topic.text if topic else FALLBACK_TEXT}"
        delay = settings.NORA_OFFLINE_WORD_DELAY_SECONDS
        words = re.findall(r"\S+\s*", reply)
        yield ReplyOpened()
        for index, word in enumerate(words):
            if index:
                await asyncio.sleep(delay)
            yield TextDelta(word)
        yield ReplyUsage(
            model="offline",
            input_tokens=_words_count(text=system) + sum(_words_count(text=turn.text) for turn in history),
            output_tokens=len(words),
        )

    async def title_generate(self, *, message: str) -> str:
        topic = topic_pick(text=message)
        if topic is not None:
            return topic.title
        words = [word for word in re.findall(r"[^\W\d_][\w'-]*", message.lower()) if word not in STOPWORDS]
        return " ".join(word.capitalize() for word in words[:FALLBACK_TITLE_WORDS]) or "New Conversation"
