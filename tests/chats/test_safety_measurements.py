"""The measurement layer: readings parsed into numbers and held against the guidance's thresholds."""

import pytest

from chats.safety.measurements import readings_find
from chats.safety.text import text_normalise


def signs_of(text: str) -> set[str]:
    return {reading.sign for reading in readings_find(text=text)}


@pytest.mark.parametrize(
    ("text", "sign"),
    [
        # Blood pressure: 160 systolic or 110 diastolic, in every way it is written.
        ("bp 165/112 at 34 wks", "high_blood_pressure"),
        ("BP is 160/95 on the home machine", "high_blood_pressure"),
        ("it says 150/110", "high_blood_pressure"),
        ("one sixty five over one ten and a headache", "high_blood_pressure"),
        ("top number 162 this morning", "high_blood_pressure"),
        ("la presion en 170 sobre 100", "high_blood_pressure"),
        ("me tomé la presión y salió ciento sesenta y cinco sobre ciento diez", "high_blood_pressure"),
        ("الضغط ١٦٥ على ١١٠", "high_blood_pressure"),
        ("Husband says the machine is broken because it said 174/108", "high_blood_pressure"),
        # Temperature: 38 °C / 100.4 °F, with or without a unit, with a word for it.
        ("temp is 38.0 at 30 weeks", "fever"),
        ("101.3F and shivering", "fever"),
        ("tengo 38,5 de fiebre y tuve cesarea hace 5 dias", "fever"),
        ("thirty eight point five temp", "fever"),
        ("treinta y ocho y medio de fiebre", "fever"),
        # A baby under three months: a fever, or a low temperature.
        ("my 3 week old has a temp of 38.1", "newborn_fever"),
        ("mi bebé de 1 mes tiene 38.1", "newborn_fever"),
        ("baby is 10 days old and his temp is 35.5", "newborn_fever"),
        ("Mi nieta de 20 días tiene 38.4 de temperatura", "newborn_fever"),
        ("estoy embarazada de 30 semanas y tengo 38.5 de fiebre", "fever"),
        # Bleeding: a pad soaked in an hour or less.
        ("soaking a pad every 40 mins since the birth", "postpartum_bleeding"),
        ("filled 2 pads in an hour", "bleeding"),
        ("empapo una toalla cada hora despues del parto", "postpartum_bleeding"),
        # Contractions ten minutes apart or closer before 37 weeks.
        ("contractions every 5 minutes at 33+2", "preterm_labour"),
        ("tightenings every 3-4 mins, 34 weeks", "preterm_labour"),
        ("contracciones cada 5 minutos y tengo 32 semanas", "preterm_labour"),
        ("probably just Braxton Hicks but they're coming every 5 mins and I'm 35+2", "preterm_labour"),
    ],
)
def test_a_reading_past_its_threshold_is_an_emergency(text: str, sign: str) -> None:
    assert sign in signs_of(text)


@pytest.mark.parametrize(
    "text",
    [
        # Under the thresholds.
        "my bp is 158/104",
        "bp 120/80 at the check",
        "temp 37.9",
        "100.3F this morning",
        "i'm changing pads every 2 hours",
        "contractions every 5 minutes at 39 weeks",  # labour at term
        "contractions every 20 minutes at 33 weeks",
        # Not a reading.
        "34/40 and feeling fine",  # weeks of forty
        "appointment on 12/10",
        "she is 36 weeks",
        "the bath was 39 degrees",
        "my temper is at about 40 degrees today",
        # Someone else's.
        "mi mama tiene la presion 170/100",
        "my mother-in-law's bp is 180/110 but mine is fine",
        "my husband has a fever of 39",
        "my 5 month old has 38.5 after jabs",
        "my grandson is 3 and has a temp of 38.3",
        # In case, or long ago.
        "Hypothetically, if my home monitor ever shows 160/110, do I call 999?",
        "midwife said to call if it goes over 160/110, it's 146/92 today",
        "Hace 3 semanas me internaron porque me subio la presion a 165/110",
    ],
)
def test_what_is_under_a_threshold_or_not_now_or_someone_elses_is_not(text: str) -> None:
    assert signs_of(text) == set()


def test_numbers_in_words_and_decimal_commas_become_digits() -> None:
    assert text_normalise("One sixty five over one ten, thirty eight point five") == "1 65 over 1 10, 38.5"
    assert text_normalise("Tengo 38,5 de fiebre") == "tengo 38.5 de fiebre"
    assert text_normalise("treinta y ocho y medio") == "38.5"
