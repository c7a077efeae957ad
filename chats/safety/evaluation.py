"""Measures the safety classifier against its labelled messages.

The labelled set was written and frozen before the classifier, in two parts: `tuning`,
which the rules were adjusted against, and `heldout`, which they never were, so that
held-out numbers estimate how the classifier does on messages nobody has tuned for.
Each line of `data/<part>.jsonl` is one message:
`{"text": ..., "emergency_sign": "<sign key>" or null, "categories": [...]}`. An emergency
is labelled with its main sign and the categories `emergency` (and `mental_health` for
self-harm) only, since nothing else changes what the person is told; other messages carry
every category a careful reader would give them.
"""

import json
from dataclasses import dataclass
from pathlib import Path

from chats.safety.classifier import CATEGORY_ORDER, EMERGENCY_SIGNS, message_classify

DATA_DIR = Path(__file__).resolve().parent / "data"
PARTS: tuple[str, ...] = ("tuning", "heldout")
# What the held-out part must show: missing an emergency is the costly mistake.
RECALL_TARGET = 0.98
FALSE_ALARM_TARGET = 0.05


@dataclass(frozen=True, slots=True)
class LabelledMessage:
    text: str
    emergency_sign: str | None
    categories: tuple[str, ...]

    @property
    def primary_category(self) -> str | None:
        return next((category for category in CATEGORY_ORDER if category in self.categories), None)


@dataclass(frozen=True, slots=True)
class SignRecall:
    sign: str
    detected: int
    total: int

    @property
    def recall(self) -> float:
        return self.detected / self.total if self.total else 1.0


@dataclass(frozen=True, slots=True)
class PartReport:
    part: str
    emergencies: int
    emergencies_detected: int
    non_emergencies: int
    false_alarms: int
    primary_agreements: int
    signs: tuple[SignRecall, ...]
    # Kept for looking at the tuning part only; held-out texts are not for tuning on.
    misses: tuple[LabelledMessage, ...]
    false_alarm_messages: tuple[LabelledMessage, ...]

    @property
    def recall(self) -> float:
        return self.emergencies_detected / self.emergencies if self.emergencies else 1.0

    @property
    def false_alarm_rate(self) -> float:
        return self.false_alarms / self.non_emergencies if self.non_emergencies else 0.0


def labelled_set_load(*, part: str) -> list[LabelledMessage]:
    if part not in PARTS:
        raise ValueError(f"Unknown part {part!r}; expected one of {', '.join(PARTS)}.")
    messages = []
    with (DATA_DIR / f"{part}.jsonl").open(encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                row = json.loads(line)
                messages.append(
                    LabelledMessage(
                        text=row["text"], emergency_sign=row["emergency_sign"], categories=tuple(row["categories"])
                    )
                )
    return messages


def part_evaluate(*, part: str) -> PartReport:
    detected_by_sign: dict[str, int] = {}
    total_by_sign: dict[str, int] = {}
    misses: list[LabelledMessage] = []
    false_alarms: list[LabelledMessage] = []
    non_emergencies = agreements = 0
    for message in labelled_set_load(part=part):
        classification = message_classify(text=message.text)
        agreements += classification.primary_category == message.primary_category
        if message.emergency_sign is None:
            non_emergencies += 1
            if classification.is_emergency:
                false_alarms.append(message)
            continue
        total_by_sign[message.emergency_sign] = total_by_sign.get(message.emergency_sign, 0) + 1
        if classification.is_emergency:
            detected_by_sign[message.emergency_sign] = detected_by_sign.get(message.emergency_sign, 0) + 1
        else:
            misses.append(message)
    signs = tuple(
        SignRecall(sign=sign, detected=detected_by_sign.get(sign, 0), total=total_by_sign[sign])
        for sign in EMERGENCY_SIGNS
        if sign in total_by_sign
    )
    return PartReport(
        part=part,
        emergencies=sum(total_by_sign.values()),
        emergencies_detected=sum(detected_by_sign.values()),
        non_emergencies=non_emergencies,
        false_alarms=len(false_alarms),
        primary_agreements=agreements,
        signs=signs,
        misses=tuple(misses),
        false_alarm_messages=tuple(false_alarms),
    )
