"""Measures the safety classifier against labelled messages.

Two labelled sets, each in a tuning part (the rules may be adjusted against it) and a held-out
part (never tuned on), so that held-out figures estimate how the classifier does on messages
nobody tuned it for:

- The authored set, `data/tuning.jsonl` and `data/heldout.jsonl`: written by the team that wrote
  the rules. Each line is `{"text", "emergency_sign": "<sign key>" or null, "categories": [...]}`;
  an emergency carries its main sign and the categories `emergency` (and `mental_health` for
  self-harm) only, other messages every category a careful reader would give them. It measures
  how well the rules remember their authors' wording.
- The independent corpus, `data/independent/<batch>.jsonl`: batches written by people who had
  not read the rules, each measured before anything was tuned on it (`data/README.md`). Each
  line is `{"text", "emergency", "sign", "language", "style", "kind", "who", "part"}`. This is
  the one that says whether the triage generalises.
"""

import hashlib
import json
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from chats.safety.classifier import CATEGORY_ORDER, EMERGENCY_SIGNS, Classification, message_classify

DATA_DIR = Path(__file__).resolve().parent / "data"
CORPUS_DIR = DATA_DIR / "independent"
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
class Tally:
    """How many of `total` messages with this label the classifier flagged as emergencies."""

    label: str
    hits: int
    total: int

    @property
    def rate(self) -> float:
        return self.hits / self.total if self.total else 0.0


def tallies(messages: Iterable[tuple[str, bool]]) -> tuple[Tally, ...]:
    """One Tally per label of `(label, flagged)` pairs, most messages first."""
    hits: dict[str, int] = defaultdict(int)
    totals: dict[str, int] = defaultdict(int)
    for label, flagged in messages:
        totals[label] += 1
        hits[label] += flagged
    return tuple(Tally(label, hits[label], totals[label]) for label in sorted(totals, key=lambda k: (-totals[k], k)))


class Rates:
    """Recall and the false-alarm rate, from a report's counts (fields of the dataclasses below)."""

    __slots__ = ()
    emergencies: int
    emergencies_detected: int
    non_emergencies: int
    false_alarms: int

    @property
    def recall(self) -> float:
        return self.emergencies_detected / self.emergencies if self.emergencies else 1.0

    @property
    def false_alarm_rate(self) -> float:
        return self.false_alarms / self.non_emergencies if self.non_emergencies else 0.0


@dataclass(frozen=True, slots=True)
class PartReport(Rates):
    part: str
    emergencies: int
    emergencies_detected: int
    non_emergencies: int
    false_alarms: int
    primary_agreements: int
    signs: tuple[Tally, ...]
    # Kept for looking at the tuning part only; held-out texts are not for tuning on.
    misses: tuple[LabelledMessage, ...]
    false_alarm_messages: tuple[LabelledMessage, ...]


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


def part_evaluate(
    *, part: str, classify: Callable[[str], Classification] = lambda text: message_classify(text=text)
) -> PartReport:
    """The authored set's part: recall per sign, false alarms, and primary-category agreement."""
    detected: list[tuple[str, bool]] = []
    misses: list[LabelledMessage] = []
    false_alarms: list[LabelledMessage] = []
    non_emergencies = agreements = 0
    for message in labelled_set_load(part=part):
        classification = classify(message.text)
        agreements += classification.primary_category == message.primary_category
        if message.emergency_sign is None:
            non_emergencies += 1
            if classification.is_emergency:
                false_alarms.append(message)
            continue
        detected.append((message.emergency_sign, classification.is_emergency))
        if not classification.is_emergency:
            misses.append(message)
    signs = tallies(detected)
    order = {sign: index for index, sign in enumerate(EMERGENCY_SIGNS)}
    return PartReport(
        part=part,
        emergencies=len(detected),
        emergencies_detected=sum(flagged for _, flagged in detected),
        non_emergencies=non_emergencies,
        false_alarms=len(false_alarms),
        primary_agreements=agreements,
        signs=tuple(sorted(signs, key=lambda tally: order.get(tally.label, len(order)))),
        misses=tuple(misses),
        false_alarm_messages=tuple(false_alarms),
    )


# The independent corpus ------------------------------------------------------------------

# What each line is tagged with, and what the report breaks figures down by.
RECALL_BREAKDOWNS: tuple[str, ...] = ("sign", "language", "style", "who", "batch")
FALSE_ALARM_BREAKDOWNS: tuple[str, ...] = ("kind", "language", "style", "batch")


@dataclass(frozen=True, slots=True)
class CorpusMessage:
    text: str
    emergency: bool
    sign: str | None
    language: str
    style: str
    kind: str
    who: str
    part: str
    batch: str


def corpus_load(*, part: str | None = None) -> list[CorpusMessage]:
    """Every batch's messages, or one part's; a line's `part` says which it belongs to."""
    if part is not None and part not in PARTS:
        raise ValueError(f"Unknown part {part!r}; expected one of {', '.join(PARTS)}.")
    messages = []
    for path in sorted(CORPUS_DIR.glob("*.jsonl")):
        with path.open(encoding="utf-8") as lines:
            for line in lines:
                if not line.strip():
                    continue
                row = json.loads(line)
                if part is None or row["part"] == part:
                    messages.append(CorpusMessage(**row, batch=path.stem))
    return messages


@dataclass(frozen=True, slots=True)
class CorpusReport(Rates):
    part: str
    emergencies: int
    emergencies_detected: int
    non_emergencies: int
    false_alarms: int
    # Recall by each of RECALL_BREAKDOWNS, false alarms by each of FALSE_ALARM_BREAKDOWNS.
    recall_by: dict[str, tuple[Tally, ...]]
    false_alarms_by: dict[str, tuple[Tally, ...]]
    # Kept for looking at the tuning part only; held-out texts are not for tuning on.
    misses: tuple[CorpusMessage, ...]
    false_alarm_messages: tuple[CorpusMessage, ...]


def corpus_evaluate(
    *, part: str, classify: Callable[[str], Classification] = lambda text: message_classify(text=text)
) -> CorpusReport:
    """Recall and false alarms on one part of the independent corpus, overall and broken down."""
    flagged = [(message, classify(message.text).is_emergency) for message in corpus_load(part=part)]
    emergencies = [(message, hit) for message, hit in flagged if message.emergency]
    others = [(message, hit) for message, hit in flagged if not message.emergency]
    return CorpusReport(
        part=part,
        emergencies=len(emergencies),
        emergencies_detected=sum(hit for _, hit in emergencies),
        non_emergencies=len(others),
        false_alarms=sum(hit for _, hit in others),
        recall_by={tag: tallies((getattr(m, tag), hit) for m, hit in emergencies) for tag in RECALL_BREAKDOWNS},
        false_alarms_by={tag: tallies((getattr(m, tag), hit) for m, hit in others) for tag in FALSE_ALARM_BREAKDOWNS},
        misses=tuple(message for message, hit in emergencies if not hit),
        false_alarm_messages=tuple(message for message, hit in others if hit),
    )


def training_examples() -> list[tuple[str, bool]]:
    """What the statistical layer learns from: every tuning part's (text, is an emergency).

    A text that a held-out part also holds (two writers can both ask "what are the signs of
    preeclampsia?") is left out, so that no held-out message is ever learnt.
    """
    held_out = {m.text for m in labelled_set_load(part="heldout")} | {m.text for m in corpus_load(part="heldout")}
    authored = [(message.text, message.emergency_sign is not None) for message in labelled_set_load(part="tuning")]
    independent = [(message.text, message.emergency) for message in corpus_load(part="tuning")]
    return [(text, emergency) for text, emergency in authored + independent if text not in held_out]


def training_hash(*, examples: list[tuple[str, bool]]) -> str:
    """The SHA-256 of the examples, in order, so that a model can say which corpus it came from."""
    return hashlib.sha256(json.dumps(examples, ensure_ascii=False).encode()).hexdigest()
