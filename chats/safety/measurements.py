"""The measurement layer: readings in a message, as numbers, against the guidance's thresholds.

A parent writes "bp 165/112", "one sixty five over one ten", "38,5 de fiebre", "soaking a pad
every 40 mins" or "contractions every 5 minutes at 33+2". Numbers written in words become digits
(`chats/safety/text.py`); each reading is parsed and compared with the thresholds in
`data/thresholds.toml`, which cite their sources. The words it reads readings by are in
`data/measurement_words.toml`.

A reading counts as the writer's, her pregnancy's or her baby's unless someone else is named
before it ("my mum's bp is 170/100"), it is asked about in case ("if it ever reaches 160/110")
or it was long ago; a fever counts for a baby only under three months.
"""

import functools
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from chats.safety.text import any_of, sentences_split, text_normalise

DATA_DIR = Path(__file__).resolve().parent / "data"
NUMBER = r"\d{1,3}(?:\.\d{1,2})?"


@dataclass(frozen=True, slots=True)
class Reading:
    """One reading that reached its threshold."""

    sign: str
    text: str


@dataclass(frozen=True)
class _Patterns:
    thresholds: dict
    temperature_cue: re.Pattern
    temperature_hint: re.Pattern
    temperature: re.Pattern
    not_body: re.Pattern
    blood_pressure: re.Pattern
    pressure_hint: re.Pattern
    systolic: re.Pattern
    diastolic: re.Pattern
    pad: re.Pattern
    pad_rate: re.Pattern
    pads_in_hours: re.Pattern
    postpartum: re.Pattern
    contraction: re.Pattern
    contractions: re.Pattern
    gestation: re.Pattern
    not_labour: re.Pattern
    others: re.Pattern
    says: re.Pattern
    self: re.Pattern
    not_now: re.Pattern
    long_ago: re.Pattern
    ages: tuple[tuple[int, re.Pattern], ...]
    baby: re.Pattern


def _word(pattern: str) -> str:
    return rf"(?<![\w/]){pattern}(?![\w])"


@functools.cache
def _patterns() -> _Patterns:
    with (DATA_DIR / "thresholds.toml").open("rb") as file:
        thresholds = tomllib.load(file)
    with (DATA_DIR / "measurement_words.toml").open("rb") as file:
        words = tomllib.load(file)
    temperature, pressure, bleeding, labour, people = (
        words[key] for key in ("temperature", "blood_pressure", "bleeding", "labour", "people")
    )
    unit = f"(?:{any_of(temperature['celsius'])}|{any_of(temperature['fahrenheit'])})"
    days_per = {"day": 1, "week": 7, "month": 30, "year": 365}
    after, before, not_before = (any_of(people[key]) for key in ("age_after", "age_before", "age_months_not_before"))
    ages = []
    for name, days in days_per.items():
        units = any_of(people["age_units"][name])
        pattern = (
            rf"(\d{{1,3}}(?:\.\d)?)[ -]?{units}[ -]?{after}"
            rf"|{before} (\d{{1,3}}) {units} {after}"
            # "mi bebé de 3 semanas", but not "embarazada de 30 semanas".
            rf"|(?<!embarazada )(?<!embarazo )(?<!gestacion )\bde (\d{{1,3}}) {units}\b"
        )
        if name in ("month", "year"):
            pattern += rf"|(\d{{1,2}}(?:\.\d)?) {units}\b(?! {not_before}\b)"
        ages.append((days, re.compile(pattern)))
    systolic = r"(?:1 \d{2}|\d{2,3})"
    # Each word list, as an expression, once.
    cues, baby = _word(any_of(temperature["cues"])), _word(any_of(people["baby"]))
    over, systolic_words, diastolic_words = (any_of(pressure[key]) for key in ("over", "systolic", "diastolic"))
    pads, pad_every, hours = (any_of(bleeding[key]) for key in ("pad", "every", "hour"))
    contraction_words, contraction_every = any_of(labour["contractions"]), any_of(labour["every"])
    return _Patterns(
        thresholds=thresholds,
        temperature_cue=re.compile(cues),
        # Anything a temperature needs around it: a word for one, a unit, or a baby (bare decimals).
        temperature_hint=re.compile(rf"{cues}|\d ?{unit}(?!\w)|degree|grado|{baby}"),
        temperature=re.compile(
            rf"(?<![\d./+])({NUMBER})(?: ?(?:degrees?|deg|grados))? ?(?:({unit})(?!\w))?"
            rf"(?! ?{any_of(temperature['not_after'])}\b)(?![\d/+])"
        ),
        not_body=re.compile(_word(any_of(temperature["not_body"]))),
        blood_pressure=re.compile(rf"(?<![\d.])({systolic}) ?{over} ?({systolic})(?![\d.])"),
        pressure_hint=re.compile(rf"\d ?{over} ?\d|{systolic_words}|{diastolic_words}"),
        systolic=re.compile(rf"{systolic_words}\D{{0,12}}(\d{{2,3}})"),
        diastolic=re.compile(rf"{diastolic_words}\D{{0,12}}(\d{{2,3}})"),
        pad=re.compile(pads),
        pad_rate=re.compile(
            rf"{_word(any_of(bleeding['soak']))}(?: \S+){{0,5}}? {pads}(?: \S+){{0,4}}? {pad_every}"
            rf" (?:(\d+(?:\.\d+)?|an?|1|una?|one|{any_of(bleeding['half'])}) )?"
            rf"(?:({hours})|({any_of(bleeding['minute'])}))\b"
        ),
        pads_in_hours=re.compile(rf"(\d+) {pads}(?: \S+){{0,3}}? {pad_every} (\d+|an?|una?|one) {hours}\b"),
        postpartum=re.compile(_word(any_of(bleeding["postpartum"]))),
        contraction=re.compile(contraction_words),
        contractions=re.compile(
            rf"{_word(contraction_words)}(?: \S+){{0,8}}? (?:{contraction_every} )?(\d+)(?: ?(?:-|to|a|or|o) ?(\d+))?"
            rf" ?{any_of(labour['minute'])}(?: {contraction_every})?\b"
        ),
        gestation=re.compile(
            rf"(?<![\d./])(\d{{2}})(?: ?\+ ?\d| ?w ?\d ?d?)?(?: ?{any_of(labour['weeks'])}\b| ?\+ ?\d\b)"
        ),
        not_labour=re.compile(_word(any_of(labour["not_labour"]))),
        others=re.compile(_word(any_of(people["others"]))),
        says=re.compile(any_of(people["says"])),
        self=re.compile(_word(any_of(people["self"]))),
        not_now=re.compile(_word(any_of(people["not_now"]))),
        long_ago=re.compile(r"\d+ (?:weeks?|months?|years?) ago|hace \d+ (?:semanas?|mes|meses|anos?)"),
        ages=tuple(ages),
        baby=re.compile(baby),
    )


def _someone_else(patterns: _Patterns, sentence: str, start: int) -> bool:
    """Whether the reading is not the writer's, her pregnancy's or her baby's now: someone else is
    named before it in its sentence (and the writer does not speak of herself after that), or it
    is asked about in case, or it was long ago."""
    before = sentence[:start]
    if patterns.not_now.search(before) or patterns.long_ago.search(before):
        return True
    others = [
        match.end() for match in patterns.others.finditer(before) if not patterns.says.match(before, match.end() + 1)
    ]
    if not others:
        return False
    return not any(match.start() >= others[-1] for match in patterns.self.finditer(before))


def _baby_age_days(patterns: _Patterns, text: str) -> float | None:
    ages = [
        float(next(group for group in match.groups() if group)) * days
        for days, pattern in patterns.ages
        for match in pattern.finditer(text)
    ]
    return min(ages) if ages else None


def _blood_pressure(patterns: _Patterns, sentence: str) -> Reading | None:
    limits = patterns.thresholds["blood_pressure"]
    (low_sys, high_sys), (low_dia, high_dia) = limits["systolic_range"], limits["diastolic_range"]
    for match in patterns.blood_pressure.finditer(sentence):
        systolic, diastolic = int(match.group(1).replace(" ", "")), int(match.group(2).replace(" ", ""))
        if not (low_sys <= systolic <= high_sys and low_dia <= diastolic <= high_dia and systolic > diastolic):
            continue
        if (systolic >= limits["systolic"] or diastolic >= limits["diastolic"]) and not _someone_else(
            patterns, sentence, match.start()
        ):
            return Reading("high_blood_pressure", match.group(0))
    for pattern, limit in ((patterns.systolic, limits["systolic"]), (patterns.diastolic, limits["diastolic"])):
        for match in pattern.finditer(sentence):
            if int(match.group(1)) >= limit and not _someone_else(patterns, sentence, match.start()):
                return Reading("high_blood_pressure", match.group(0))
    return None


def _temperature(patterns: _Patterns, sentence: str, *, age_days: Callable[[], float | None]) -> Reading | None:
    limits = patterns.thresholds["temperature"]
    matches = list(patterns.temperature.finditer(sentence))
    if not matches or patterns.not_body.search(sentence):
        return None
    cued = patterns.temperature_cue.search(sentence) is not None
    baby_named = patterns.baby.search(sentence) is not None
    for match in matches:
        value, unit = float(match.group(1)), (match.group(2) or "").strip("° ")[:1]
        unit = "c" if unit == "度" else unit
        # A bare number is a temperature with a word for one, or as a decimal said of a baby ("she has 38.1").
        if not unit and not cued and not ("." in match.group(1) and (baby_named or age_days() is not None)):
            continue
        if unit == "f" or (not unit and limits["fahrenheit_range"][0] <= value <= limits["fahrenheit_range"][1]):
            low, high = limits["fahrenheit_range"]
            fever, cold = value >= limits["fever_fahrenheit"], value < limits["newborn_low_fahrenheit"]
        elif unit == "c" or (not unit and limits["celsius_range"][0] <= value <= limits["celsius_range"][1]):
            low, high = limits["celsius_range"]
            fever, cold = value >= limits["fever_celsius"], value < limits["newborn_low_celsius"]
        else:
            continue
        if not (low <= value <= high) or not (fever or cold):
            continue
        # Only now the baby's age, which costs a read of the whole message.
        baby_days = age_days()
        baby = baby_named or baby_days is not None
        newborn = baby_days is not None and baby_days < limits["newborn_days"]
        # A baby named with an age under three months is whose it is, whoever writes.
        if not newborn and _someone_else(patterns, sentence, match.start()):
            continue
        if baby and baby_days is not None and not newborn:
            continue
        if fever:
            return Reading("newborn_fever" if baby else "fever", match.group(0))
        if cold and baby:
            return Reading("newborn_fever", match.group(0))
    return None


def _pad_minutes(match: re.Match) -> float:
    count, hours, minutes = match.group(1), match.group(2), match.group(3)
    if count is None or not count[0].isdigit():
        amount = 0.5 if count and count.startswith(("half", "media")) else 1.0
    else:
        amount = float(count)
    return amount * 60 if hours else amount if minutes else amount * 60


def _bleeding(patterns: _Patterns, sentence: str, *, text: str) -> Reading | None:
    limit = patterns.thresholds["bleeding"]["pad_minutes"]
    heavy = None
    for match in patterns.pad_rate.finditer(sentence):
        if _pad_minutes(match) <= limit and not _someone_else(patterns, sentence, match.start()):
            heavy = match
            break
    if heavy is None:
        for match in patterns.pads_in_hours.finditer(sentence):
            hours = float(match.group(2)) if match.group(2).isdigit() else 1.0
            if int(match.group(1)) and hours * 60 / int(match.group(1)) <= limit:
                heavy = match
                break
    if heavy is None:
        return None
    sign = "postpartum_bleeding" if patterns.postpartum.search(text) else "bleeding"
    return Reading(sign, heavy.group(0))


def gestation_weeks(*, text: str) -> list[int]:
    """The weeks of pregnancy a normalised message gives ("33 weeks", "33+2", "32 semanas")."""
    return [int(match.group(1)) for match in _patterns().gestation.finditer(text)]


def _preterm_labour(patterns: _Patterns, sentence: str, *, text: str) -> Reading | None:
    limits = patterns.thresholds["labour"]
    if patterns.not_labour.search(text):
        return None
    weeks = gestation_weeks(text=text)
    if not any(limits["viable_weeks"] <= week < limits["term_weeks"] for week in weeks):
        return None
    for match in patterns.contractions.finditer(sentence):
        interval = int(match.group(2) or match.group(1))
        if 0 < interval <= limits["contraction_minutes"]:
            return Reading("preterm_labour", match.group(0))
    return None


_DIGIT = re.compile(r"\d")


def readings_find(*, text: str) -> tuple[Reading, ...]:
    """Every reading in the message that reaches its threshold, at most one per sign.

    Each parser runs only on sentences that have what its readings need (a digit, a word for a
    pad or a contraction), so a message without any costs little more than its normalising.
    """
    patterns = _patterns()
    normalised = text_normalise(text)
    has_pads = patterns.pad.search(normalised) is not None
    has_contractions = patterns.contraction.search(normalised) is not None
    has_temperature = patterns.temperature_hint.search(normalised) is not None
    has_pressure = patterns.pressure_hint.search(normalised) is not None
    if not (has_pads or _DIGIT.search(normalised)):
        return ()
    # The baby's age, read once, and only for a message with a temperature in it.
    age_days = functools.cache(lambda: _baby_age_days(patterns, normalised))
    found: dict[str, Reading] = {}
    for sentence in sentences_split(normalised):
        digits = _DIGIT.search(sentence) is not None
        readings = (
            _blood_pressure(patterns, sentence) if digits and has_pressure else None,
            _temperature(patterns, sentence, age_days=age_days) if digits and has_temperature else None,
            _bleeding(patterns, sentence, text=normalised) if has_pads and patterns.pad.search(sentence) else None,
            _preterm_labour(patterns, sentence, text=normalised) if has_contractions and digits else None,
        )
        for reading in readings:
            if reading is not None:
                found.setdefault(reading.sign, reading)
    return tuple(found.values())
