"""What a person is told, and what the model is told, once a message has been classified."""

from django.conf import settings

from chats.safety.classifier import Classification

# One message per primary category: the most serious thing found decides what the
# person reads under the reply.
DISCLAIMER_MESSAGES: dict[str, str] = {
    "emergency": (
        "Some of what you describe can be a sign of an emergency. Nora cannot examine you or give medical advice: "
        "please contact emergency services or your maternity unit now."
    ),
    "mental_health": (
        "Nora is not a substitute for professional support. Please talk to your doctor, midwife or health visitor "
        "about how you are feeling; you do not have to manage this alone."
    ),
    "medication": (
        "This is not medical advice. Talk to your doctor, midwife or pharmacist before starting, stopping or "
        "changing any medicine, including ones you can buy without a prescription."
    ),
    "medical": (
        "This information is for educational purposes only and is not a diagnosis. If a symptom worries you or "
        "gets worse, contact your doctor or midwife."
    ),
    "nutrition": (
        "This information is for educational purposes only. Your doctor, midwife or a dietitian can tell you "
        "what is right for you."
    ),
    "pregnancy": (
        "This information is for educational purposes only and is not a substitute for advice from your doctor "
        "or midwife."
    ),
}

# How the model is told what was found, in words rather than keys.
SIGN_DESCRIPTIONS: dict[str, str] = {
    "self_harm": "thoughts of harming themselves or their baby",
    "seizure": "a seizure",
    "breathing": "trouble breathing",
    "chest_heart": "chest pain or a racing heart",
    "bleeding": "vaginal bleeding in pregnancy",
    "postpartum_bleeding": "heavy bleeding after birth",
    "fluid_leak": "fluid leaking or waters breaking",
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


def disclaimer_build(*, classification: Classification) -> dict | None:
    """The `disclaimer` of the reply's `done` event, or None when nothing was detected."""
    primary = classification.primary_category
    if primary is None:
        return None
    return {
        "primary_category": primary,
        "detected_categories": list(classification.detected_categories),
        "message": DISCLAIMER_MESSAGES[primary],
    }


def emergency_notice_build(*, classification: Classification) -> str | None:
    """The fixed notice sent before any model text on an emergency, or None otherwise.

    Settings are read on every call so that a deployment (or a test) can change the
    numbers without a restart.
    """
    if not classification.is_emergency:
        return None
    number = settings.NORA_EMERGENCY_NUMBER.strip()
    services = f"emergency services on {number}" if number else "your local emergency number"
    notice = (
        f"This could be an emergency. Please call {services} or your maternity unit now, "
        "without waiting for the rest of this reply."
    )
    if classification.is_self_harm:
        line = settings.NORA_CRISIS_LINE.strip()
        support = f"call {line}" if line else "call a crisis line"
        notice += (
            f" If you are having thoughts of harming yourself or your baby, you are not alone: {support} now, "
            "day or night."
        )
    return notice


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
