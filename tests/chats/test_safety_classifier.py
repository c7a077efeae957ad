"""The safety classifier on phrases written for these tests, none of them from the labelled set."""

import re

import pytest

from chats.safety import classifier
from chats.safety.classifier import (
    CATEGORY_ORDER,
    EMERGENCY_SIGNS,
    HAND_WRITTEN_LAYERS,
    Classification,
    message_classify,
)
from chats.safety.evaluation import PARTS, labelled_set_load

# The issue's own examples first, then each sign in the ways people type it: lower case,
# no punctuation, misspelt, third person, emoji, negation that describes the sign.
EMERGENCIES = [
    # Found by their readings; tests/chats/test_safety_measurements.py has the readings' own cases.
    ("bp 165/112 at 34 weeks and a headache", "high_blood_pressure"),
    ("my 3 week old has a temperature of 38.2", "newborn_fever"),
    ("contractions every 5 minutes and I'm only 33 weeks", "preterm_labour"),
    # Found by the lexicons; tests/chats/test_safety_lexicons.py has their own cases.
    ("I keep hearing voices telling me the baby is not mine, 10 days postpartum", "psychosis"),
    ("my 5 week old keeps jerking her arms in a rhythm", "newborn_seizure"),
    ("my 2 week old is grunting with every breath and her lips look grey", "newborn_breathing"),
    ("there is meconium in my waters", "waters_meconium"),
    ("I can feel the cord hanging down after my waters went", "cord_prolapse"),
    ("my 3 week old is floppy and we cannot wake her", "newborn_floppy"),
    ("my newborn has not fed since this morning and is so sleepy", "newborn_feeding"),
    ("my baby was born yesterday and his face is already yellow", "newborn_jaundice"),
    # Told as over, then said to be happening now.
    ("the bleeding was light yesterday but now it is pouring out, 30 weeks", "bleeding"),
    # Named by no rule or lexicon, but worded like the emergencies the statistical layer learnt.
    ("something is really wrong, I need help now, I am 30 weeks", "resembles_emergency"),
    ("is it normal to have a bad headache and blurry vision at 34 weeks?", "headache"),
    ("is it normal to have a bad headache and blurry vision at 34 weeks?", "vision"),
    ("the baby hasn't moved since this morning", "baby_movement"),
    ("I can't breathe properly", "breathing"),
    ("the bleeding won't stop", "bleeding"),
    ("i have the worst headache ever and im 33 weeks", "headache"),
    ("My head has been pounding since this morning. 36 weeks. Panadol isn't touching it", "headache"),
    ("headake wont go away", "headache"),
    ("my girlfriend collapsed at work, shes 30 wks", "dizziness"),
    ("i passed out on the bus today im 22 weeks", "dizziness"),
    ("so dizzy, everything is spinning", "dizziness"),
    ("blurry vission and headache", "vision"),
    ("spots in my vision since this afternoon", "vision"),
    ("my wife says her vision is blurry is that normal", "vision"),
    ("my temp is 38.1 and i have chills", "fever"),
    ("feaver 38.6", "fever"),
    ("100.6 fever pregnant", "fever"),
    ("her fever is 101.2 and she had the baby 5 days ago", "fever"),
    ("im running a temperature of 38.0", "fever"),
    ("face suddenly swollen 35 weeks", "swelling"),
    ("face n hands swollen like crazy today 36wks", "swelling"),
    ("cant breath properly", "breathing"),
    ("gf cant catch her breath", "breathing"),
    ("struggling for breath", "breathing"),
    ("I'm having chest pain", "chest_heart"),
    ("my heart is beating so fast", "chest_heart"),
    ("i feel like my heart is going to beat out of my chest", "chest_heart"),
    ("cant stop throwing up, 10 weeks, not even water stays down", "vomiting"),
    ("vommiting all day cant keep water down", "vomiting"),
    ("been vomiting for 2 days straight", "vomiting"),
    ("severe stomach pain 30 weeks", "belly_pain"),
    ("stomache pain severe", "belly_pain"),
    ("pain in my upper belly under my ribs on the right, 34 weeks", "belly_pain"),
    ("i havent felt my baby move today", "baby_movement"),
    ("baby movements reduced 31 weeks", "baby_movement"),
    ("cant feel baby", "baby_movement"),
    ("is it normal for the baby to move less at 36 weeks", "baby_movement"),
    ("Baby usually goes crazy at night but nothing tonight. Tried eating and lying down. 37 weeks.", "baby_movement"),
    ("im bleeding 28 weeks", "bleeding"),
    ("HELP my wife is bleeding a lot 24 weeks", "bleeding"),
    ("Is it normal to have bright red bleeding at 20 weeks?", "bleeding"),
    ("i passed a clot and im 7 weeks", "bleeding"),
    ("started bleeding at 10 weeks and it hasnt stopped", "bleeding"),
    ("my waters have broken at 30 weeks", "fluid_leak"),
    ("I think I'm leaking amniotic fluid", "fluid_leak"),
    ("there's a gush of fluid \U0001f97a", "fluid_leak"),
    ("6 days pp and soaking pads", "postpartum_bleeding"),
    ("bleeding really heavy 3 days after giving birth", "postpartum_bleeding"),
    ("big clots after birth", "postpartum_bleeding"),
    ("my discharge smells awful 10 days after birth", "postpartum_discharge"),
    ("smelly discharge since giving birth", "postpartum_discharge"),
    ("my calf is red, hot and swollen", "leg_clot"),
    ("swollen red leg after c-section", "leg_clot"),
    ("i am so exhausted i cant get out of bed", "exhaustion"),
    ("so weak i can't stand up and totally exhausted", "exhaustion"),
    ("she's having a seizure", "seizure"),
    ("my wife is fitting", "seizure"),
    ("think i had a siezure", "seizure"),
    ("i want to die", "self_harm"),
    ("i've been having thoughts of harming my baby", "self_harm"),
    ("my wife told me she thinks about killing herself", "self_harm"),
    ("i'm scared i'll hurt my daughter", "self_harm"),
    ("lately i think everyone would be better off if i wasnt here", "self_harm"),
]

# The issue's own examples first: negated signs, general questions, mild and normal
# symptoms, figures of speech, someone else's history.
NOT_EMERGENCIES = [
    # Over, as the lexicons' context reads a phrase rule's match.
    "my chest pain on Monday was checked at A&E and it was reflux, all fine since",
    "is light spotting normal at 6 weeks?",
    "I'm not bleeding, just cramps like a period",
    "what are the signs of preeclampsia?",
    "what does preeclampsia headache feel like",
    "is it normal to have headaches in pregnancy",
    "when should i worry about headaches in pregnancy",
    "what should i do if i get a fever while pregnant",
    "how do i know if im in labour",
    "what does reduced fetal movement mean",
    "what is considered reduced movement",
    "what fever is dangerous in pregnancy",
    "i have no fever",
    "temp 37.2",
    "my temperature is 36.9",
    "i had a fever last week but its gone",
    "is 38 degrees too hot for a bath while pregnant",
    "I was 38 weeks with my son",
    "my husband has a fever of 38.5",
    "slight headache today",
    "can i take paracetamol for a headache",
    "feeling a bit dizzy this morning when i got up too fast",
    "my ankles are swollen at the end of the day",
    "my hands are a bit puffy in the heat",
    "feeling a bit breathless when i walk fast 28 weeks",
    "lol i cant breathe this video \U0001f602",
    "is heartburn normal at 30 weeks",
    "the baby's heartbeat was racing on the monitor, nurse said thats normal",
    "i feel sick in the mornings",
    "bit of tummy ache",
    "my baby is kicking a lot today",
    "how many times a day should i feel kicks",
    "no movements yet at 17 weeks, is that normal",
    "my nose is bleeding a bit",
    "my gums bleed a lot",
    "bleeding stopped after a day and the scan was fine",
    "no blood, no pain, just a weird feeling",
    "is it normal to still bleed 4 weeks after birth",
    "my calf muscles ache after the gym",
    "what are the signs of a blood clot",
    "i'm tired of waiting for this baby to come \U0001f602",
    "is it normal to feel tired in the third trimester",
    "i dont have any swelling or headaches",
    "i am not depressed just tired",
    "i'm dying for a glass of wine lol",
    "lol i almost fainted when i saw the hospital bill",
    "my mum had a seizure when i was a kid",
    "I love my baby so much",
]


@pytest.mark.parametrize(("text", "sign"), EMERGENCIES)
def test_emergency_signs_are_found_however_they_are_written(text: str, sign: str) -> None:
    classification = message_classify(text=text)
    assert sign in classification.emergency_signs
    assert classification.primary_category == "emergency"
    assert classification.is_emergency


@pytest.mark.parametrize("text", NOT_EMERGENCIES)
def test_negated_general_mild_and_figurative_mentions_are_not_emergencies(text: str) -> None:
    classification = message_classify(text=text)
    assert not classification.is_emergency, classification.emergency_signs


def test_the_hand_written_layers_read_a_bottle_that_leaked_as_no_waters_breaking() -> None:
    # Only the hand-written layers: the statistical layer raises this message, since "water" with
    # "leaked" is how waters breaking is most often written in what it learnt from, and it reads
    # words, not bottles (a false alarm of the kind the README's figures count).
    assert not message_classify(text="my water bottle leaked in my bag", layers=HAND_WRITTEN_LAYERS).is_emergency


def test_every_sign_has_test_phrases() -> None:
    assert {sign for _, sign in EMERGENCIES} == set(EMERGENCY_SIGNS)


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("feeling really low since the baby came", "mental_health"),
        ("my anxiety is through the roof about the birth", "mental_health"),
        ("is ibuprofen ok while breastfeeding", "medication"),
        ("can i keep taking my sertraline", "medication"),
        ("I have a cold and a sore throat", "medical"),
        ("what is gestational diabetes", "medical"),
        ("how much caffeine can i have", "nutrition"),
        ("is feta cheese ok to eat", "nutrition"),
        ("what size is the baby at 22 weeks", "pregnancy"),
        ("how do i write a birth plan", "pregnancy"),
    ],
)
def test_each_category_is_detected(text: str, category: str) -> None:
    classification = message_classify(text=text)
    assert category in classification.detected_categories
    assert not classification.is_emergency


@pytest.mark.parametrize(
    ("text", "primary"),
    [
        ("is tylenol safe at 30 weeks pregnant", "medication"),
        ("can i eat sushi while pregnant", "nutrition"),
        ("when does the bump start showing", "pregnancy"),
        ("feeling anxious, should i stop my zoloft now im pregnant", "mental_health"),
        ("bad headache and blurry vision, took paracetamol, 35 weeks", "emergency"),
    ],
)
def test_the_primary_category_is_the_most_serious(text: str, primary: str) -> None:
    classification = message_classify(text=text)
    assert classification.primary_category == primary
    assert list(classification.detected_categories) == sorted(
        classification.detected_categories, key=CATEGORY_ORDER.index
    )


@pytest.mark.parametrize(
    "text", ["help me pick a name for a girl", "what's the weather tomorrow", "thanks nora \u2764\ufe0f", "", "   "]
)
def test_chat_that_is_not_about_health_has_no_category(text: str) -> None:
    classification = message_classify(text=text)
    assert classification == Classification()
    assert classification.primary_category is None


def test_thoughts_of_self_harm_are_an_emergency_and_a_mental_health_matter() -> None:
    classification = message_classify(text="i keep thinking about ending my life")
    assert classification.is_self_harm
    assert classification.detected_categories[:2] == ("emergency", "mental_health")


def test_a_physical_emergency_is_not_self_harm() -> None:
    classification = message_classify(text="my wife just had a seizure")
    assert classification.is_emergency
    assert not classification.is_self_harm
    assert "medical" in classification.detected_categories


def test_feeling_low_is_mental_health_not_an_emergency() -> None:
    classification = message_classify(text="im not suicidal or anything, just sad and tearful since the birth")
    assert classification.primary_category == "mental_health"


@pytest.mark.parametrize(
    ("text", "fever"),
    [
        ("temp 38.0", True),
        ("temp 37.9", False),
        ("temperature 100.4F", True),
        ("temperature 100.3 f", False),
        ("38,2 on the thermometer", True),
        ("im 38 weeks and feel hot", False),
        ("my temperature is thirty eight point five", True),
        ("temperature of a hundred and one", True),
        ("im thirty eight weeks and my temperature is normal", False),
    ],
)
def test_fever_starts_at_38_c_or_100_4_f(text: str, fever: bool) -> None:
    assert ("fever" in message_classify(text=text).emergency_signs) is fever


def test_the_same_text_always_gets_the_same_answer() -> None:
    text = "im 30 weeks, headache is getting worse and worse and my face is puffy"
    assert message_classify(text=text) == message_classify(text=text)


def _texts_under_test() -> list[str]:
    texts = [text for _, text in EMERGENCIES] + NOT_EMERGENCIES
    for part in PARTS:
        texts += [message.text for message in labelled_set_load(part=part)]
    return texts


def test_every_phrase_match_begins_where_the_classifier_looks() -> None:
    """Patterns are only tried at the words each phrase list can begin with; none may begin elsewhere."""
    for text in _texts_under_test():
        message = classifier._Message(text)
        for phrases in classifier._ALL_PHRASES:
            found = {match.start() for match in phrases.pattern.finditer(message.text)}
            anchored = {match.start() for match in message.matches(phrases)}
            assert found <= anchored, (phrases.pattern.pattern[:60], text)


def test_normalisation_keeps_decimals_and_marks_sentences() -> None:
    text = classifier._Message("Temp 38,4\u00b0C!! Can't   breathe \u2014 help").text
    assert re.search(r"temp 38\.4 degrees c \|\|", text)
    assert "cant breathe | help" in text


@pytest.mark.parametrize(
    ("text", "emergency"),
    [
        ("my husband has chest pain and says he can't breathe properly", False),
        ("my coworker fainted at lunch today", False),
        ("my toddler had a seizure last year, could the baby get them?", False),
        # The writer, or a baby, named after someone else: the sign is theirs.
        ("my mum is worried because I'm bleeding heavily at 30 weeks", True),
        ("my husband says I'm bleeding more than I should be and it's soaking through", True),
        ("my husband noticed the baby isn't breathing properly and her lips are blue", True),
    ],
)
def test_a_sign_that_is_someone_elses_is_not_an_emergency(text: str, emergency: bool) -> None:
    assert message_classify(text=text).is_emergency is emergency
