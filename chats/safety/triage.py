"""The model-assisted triage: what a model is asked about a message, and what its answer may change.

A second opinion on messages the offline layers let pass. It may raise a turn to an emergency,
never lower one: a message the offline layers call an emergency is never sent to it. What the
model is asked is data (`data/triage.toml`, with its sources).
"""

import functools
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chats.safety.classifier import EMERGENCY_SIGNS, RESEMBLES_EMERGENCY, Classification

DATA_PATH = Path(__file__).resolve().parent / "data" / "triage.toml"
# What the model may answer for `sign`: a warning sign by name (the statistical layer's
# "resembles an emergency" names none), or one of these two.
NAMED_SIGNS = tuple(sign for sign in EMERGENCY_SIGNS if sign != RESEMBLES_EMERGENCY)
OTHER_SIGN = "other"
NO_SIGN = "none"


@dataclass(frozen=True, slots=True)
class TriageBrief:
    system: str
    tool: dict[str, Any]

    @property
    def tool_name(self) -> str:
        return self.tool["name"]


@functools.cache
def triage_brief() -> TriageBrief:
    """The system prompt and the one tool the model must answer with."""
    with DATA_PATH.open("rb") as file:
        data = tomllib.load(file)
    tool = {
        "name": data["tool_name"],
        "description": data["tool_description"],
        "input_schema": {
            "type": "object",
            "properties": {
                "emergency": {"type": "boolean"},
                "sign": {"type": "string", "enum": [*NAMED_SIGNS, OTHER_SIGN, NO_SIGN]},
            },
            "required": ["emergency", "sign"],
            "additionalProperties": False,
        },
    }
    return TriageBrief(system=data["system"].strip(), tool=tool)


def triage_answer_read(*, answer: object) -> tuple[bool, str | None] | None:
    """The tool input's (emergency, sign), or None when it is not the shape asked for."""
    if not isinstance(answer, dict) or not isinstance(answer.get("emergency"), bool):
        return None
    sign = answer.get("sign")
    if not answer["emergency"]:
        return False, None
    return True, sign if sign in NAMED_SIGNS else None


def classification_raise(*, classification: Classification, sign: str | None) -> Classification:
    """The offline classification raised to an emergency on the model's word, keeping what else it found."""
    others = tuple(category for category in classification.detected_categories if category != "emergency")
    signs = classification.emergency_signs + ((sign,) if sign and sign not in classification.emergency_signs else ())
    return Classification(detected_categories=("emergency", *others), emergency_signs=signs)
