"""What a person is told, and what the model is told, once a message has been classified.

What the person is told is data: `data/notices.toml` has the notice and the disclaimers in each
language, and `data/countries.toml` each country's emergency number and crisis line, with sources.
"""

import functools
import tomllib
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from chats.safety.classifier import Classification
from chats.safety.language import language_detect

DATA_DIR = Path(__file__).resolve().parent / "data"
DEFAULT_LANGUAGE = "en"


@functools.cache
def _notices() -> dict[str, dict]:
    with (DATA_DIR / "notices.toml").open("rb") as file:
        return tomllib.load(file)


@functools.cache
def countries() -> dict[str, dict]:
    """Each country's emergency numbers and crisis line, by ISO 3166-1 alpha-2 code."""
    with (DATA_DIR / "countries.toml").open("rb") as file:
        return tomllib.load(file)


def notice_languages() -> tuple[str, ...]:
    """The languages a notice is written in (ISO 639-1)."""
    return tuple(_notices())


def notice_language(*, preferred: str | None, text: str) -> str:
    """The language to tell the person in: their profile's, else their message's, else English."""
    if preferred in _notices():
        return preferred
    detected = language_detect(text=text)
    return detected if detected in _notices() else DEFAULT_LANGUAGE


def disclaimer_message(*, category: str, language: str) -> str:
    """The disclaimer for a primary category, in `language` where it is written, else in English."""
    written = _notices().get(language, {}).get("disclaimers", {})
    return written.get(category) or _notices()[DEFAULT_LANGUAGE]["disclaimers"][category]


# How the model is told what was found, in words rather than keys.
SIGN_DESCRIPTIONS: dict[str, str] = {
    "self_harm": "thoughts of harming themselves or their baby",
    "psychosis": "seeing or hearing things, or beliefs about the baby that are not true, after birth",
    "seizure": "a seizure",
    "newborn_seizure": "a fit in a young baby",
    "breathing": "trouble breathing",
    "newborn_breathing": "a young baby breathing very fast, grunting, pausing, or with blue or grey lips",
    "chest_heart": "chest pain or a racing heart",
    "bleeding": "vaginal bleeding in pregnancy",
    "postpartum_bleeding": "heavy bleeding after birth",
    "fluid_leak": "fluid leaking or waters breaking",
    "waters_meconium": "waters that are green or brown",
    "cord_prolapse": "the umbilical cord felt or seen before the baby",
    "baby_movement": "the baby moving less or not at all",
    "headache": "a severe or worsening headache",
    "vision": "changes in vision",
    "dizziness": "dizziness or fainting",
    "fever": "a fever of 38 \u00b0C / 100.4 \u00b0F or more",
    "swelling": "sudden or severe swelling of the face or hands",
    "leg_clot": "a painful, swollen or red leg",
    "belly_pain": "severe belly pain",
    "vomiting": "severe nausea and vomiting",
    "postpartum_discharge": "foul-smelling discharge after birth",
    "exhaustion": "overwhelming tiredness",
    "newborn_floppy": "a young baby who is floppy or cannot be woken",
    "newborn_feeding": "a young baby who is not feeding and very sleepy",
    "newborn_jaundice": "yellow skin on a baby's first day, or jaundice that is spreading",
    "high_blood_pressure": "a severe blood pressure reading (160/110 or more)",
    "newborn_fever": "a fever (38 \u00b0C / 100.4 \u00b0F or more) or a low temperature in a baby under three months",
    "preterm_labour": "regular contractions before 37 weeks",
    "resembles_emergency": "wording like that of messages that needed urgent care, though no single sign was named",
}

_CATEGORY_INSTRUCTIONS: dict[str, str] = {
    "mental_health": (
        "The person may be struggling emotionally. Respond with warmth and without judgement, acknowledge how "
        "they feel, and gently encourage them to talk to their doctor, midwife or health visitor."
    ),
    "medication": (
        "The person is asking about medicines. Give general information only; never tell them to start, stop or "
        "change a medicine or a dose, and tell them to check with their doctor, midwife or pharmacist."
    ),
    "medical": (
        "The person is describing symptoms or a condition. Give general information only, do not diagnose, and "
        "suggest they contact their doctor or midwife if it worries them or gets worse."
    ),
}


def disclaimer_build(*, classification: Classification, language: str = DEFAULT_LANGUAGE) -> dict | None:
    """The `disclaimer` of the reply's `done` event, or None when nothing was detected.

    One message per primary category: the most serious thing found decides what the person
    reads under the reply.
    """
    primary = classification.primary_category
    if primary is None:
        return None
    return {
        "primary_category": primary,
        "detected_categories": list(classification.detected_categories),
        "message": disclaimer_message(category=primary, language=language),
    }


def _emergency_numbers(*, country: str | None) -> list[str]:
    """Whom to call: the profile country's numbers, or the deployment's when the profile has none."""
    if country is None:
        number = settings.NORA_EMERGENCY_NUMBER.strip()
        return [number] if number else []
    return list(countries().get(country, {}).get("emergency", []))


def _crisis_line(*, country: str | None) -> str:
    if country is None:
        return settings.NORA_CRISIS_LINE.strip()
    line = countries().get(country, {}).get("crisis_line")
    if line is None:
        return ""
    return line["number"] if line["name"] == line["number"] else f"{line['number']} ({line['name']})"


def emergency_notice_build(
    *, classification: Classification, language: str = DEFAULT_LANGUAGE, country: str | None = None
) -> str | None:
    """The fixed notice sent before any model text on an emergency, or None otherwise.

    In `language` (English where no notice is written in it), naming the emergency number and
    crisis line of `country` (ISO 3166-1 alpha-2): the table's, or none for a country it lacks, so
    that no one is given another country's number. With no country, NORA_EMERGENCY_NUMBER and
    NORA_CRISIS_LINE, read on every call so that a deployment (or a test) can change them without
    a restart.
    """
    if not classification.is_emergency:
        return None
    texts = _notices().get(language) or _notices()[DEFAULT_LANGUAGE]
    numbers = _emergency_numbers(country=country)
    services = (
        texts["services_named"].format(number=f" {texts['or']} ".join(numbers))
        if numbers
        else texts["services_generic"]
    )
    notice = texts["notice"].format(services=services)
    if classification.is_self_harm:
        line = _crisis_line(country=country)
        support = texts["support_named"].format(line=line) if line else texts["support_generic"]
        notice += " " + texts["self_harm"].format(support=support)
    return notice


@dataclass(frozen=True, slots=True)
class SafetyDecision:
    """What a turn does about what the classifier found: the one answer every part of it reads.

    Whether it is an emergency decides that the reply opens with the fixed notice, that the turn
    is answered even over the user's limits, and that the conversation is flagged for support.
    """

    classification: Classification
    # The emergency notice and a blank line: the reply's first text, saved with it. Empty otherwise.
    first_text: str
    disclaimer: dict | None
    # What the model's system prompt adds so that its reply puts safety first.
    instructions: str

    @property
    def is_emergency(self) -> bool:
        return self.classification.is_emergency

    @property
    def categories(self) -> list[str]:
        return list(self.classification.detected_categories)


def safety_decide(
    *, classification: Classification, text: str, preferred_language: str | None, country: str | None
) -> SafetyDecision:
    """The decision for a classified message, told in the person's language, with their country's numbers.

    The language is the profile's, else the message's, else English.
    """
    # A message with nothing to say about it needs no language told.
    language = (
        notice_language(preferred=preferred_language, text=text)
        if classification.detected_categories
        else DEFAULT_LANGUAGE
    )
    notice = emergency_notice_build(classification=classification, language=language, country=country)
    return SafetyDecision(
        classification=classification,
        first_text=f"{notice}\n\n" if notice else "",
        disclaimer=disclaimer_build(classification=classification, language=language),
        instructions=safety_instructions_build(classification=classification),
    )


def safety_instructions_build(*, classification: Classification) -> str:
    """Extra system-prompt text that puts safety first; empty when nothing needs it."""
    if classification.is_emergency:
        signs = "; ".join(SIGN_DESCRIPTIONS[sign] for sign in classification.emergency_signs)
        instructions = (
            f"SAFETY FIRST. The person's message mentions possible emergency warning signs ({signs}). "
            "They have already been shown a notice telling them to contact emergency services or their maternity "
            "unit now. Urge them to get care immediately. Do not diagnose, do not reassure them that it is "
            "probably nothing, and do not suggest waiting to see. Keep the reply short, calm and kind."
        )
        if classification.is_self_harm:
            instructions += (
                " They may be having thoughts of harming themselves or their baby: respond with warmth and without "
                "judgement, encourage them to call a crisis line or emergency services now and to tell someone "
                "they trust, and never discuss ways of causing harm."
            )
        return instructions
    return " ".join(
        _CATEGORY_INSTRUCTIONS[category]
        for category in classification.detected_categories
        if category in _CATEGORY_INSTRUCTIONS
    )
