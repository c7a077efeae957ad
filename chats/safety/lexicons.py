"""The lexicon layer: warning signs named in words, each mention read in its context.

Each language's lexicon (`data/lexicons/<language>.toml`) lists the phrases that name each sign,
and the triggers that put a mention out of scope, in the manner of the ConText algorithm
(Harkema et al., J Biomed Inform 2009): a trigger before a mention (or, for `over_after` and
`idiom`, after it) says it is denied, over, asked about in case or for knowledge, someone
else's, or a figure of speech, unless a terminator ("pero", "but") comes between. Triggers
before a mention stop at a comma: negation reaches five words of that clause (`negated_near`,
two), the others all of it; those after a mention reach five words.

Spanish has every sign; French, Portuguese, Polish, German, Italian, Arabic and Chinese the
strongest (heavy bleeding, a baby not breathing or blue, a fit, a baby not moving, suicidal
thoughts); English the signs the phrase rules (`classifier.py`) lack.

Every lexicon is read, whatever language the message seems to be in, and the triggers of all of
them together: messages mix languages ("I'm 33 weeks y estoy sangrando").
"""

import functools
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from chats.safety.measurements import gestation_weeks
from chats.safety.text import is_cjk, phrase_body, phrase_pattern, sentences_split, text_normalise

LEXICON_DIR = Path(__file__).resolve().parent / "data" / "lexicons"
# How many words on either side of a mention a trigger reaches.
TRIGGER_WORDS = 5
NEAR_WORDS = 2
# Triggers that reach back over the whole clause, and those that reach a few words only.
CLAUSE_TRIGGERS = ("over", "hypothetical", "knowledge", "other")
TERM_WEEKS = 37
# Before about this week a first baby's movements are not yet felt every day (NHS, "Your baby's movements").
MOVEMENTS_WEEKS = 24


def _alternatives(phrases: list[str]) -> re.Pattern | None:
    """Any of `phrases`, the word boundaries checked once a position rather than once a phrase:
    the triggers are searched for over whole clauses."""
    if not phrases:
        return None
    ordered = sorted(set(phrases), key=len, reverse=True)
    spaced = [p for p in ordered if not is_cjk(p[:1]) and not is_cjk(p[-1:])]
    parts = []
    if spaced:
        # A prefix ("sangr*") may end inside a word: only the start is bounded for those.
        whole = "|".join(phrase_body(p) for p in spaced if not p.endswith("*"))
        prefixes = "|".join(phrase_body(p) for p in spaced if p.endswith("*"))
        body = "|".join(part for part in (f"(?:{whole})(?!\\w)" if whole else "", prefixes) if part)
        parts.append(rf"(?<!\w)(?:{body})")
    parts += [f"(?:{phrase_pattern(p)})" for p in ordered if p not in spaced]
    return re.compile("|".join(parts))


@dataclass(frozen=True)
class Phrase:
    sign: str
    pattern: re.Pattern


@dataclass(frozen=True)
class Lexicon:
    """Every language's phrases, indexed by how they begin, so that a message is read once: each
    phrase is tried only where a word it can begin with stands."""

    by_word: dict[str, tuple[Phrase, ...]]
    # Phrases whose first word is a prefix ("sangr*"), by the prefix's first three letters.
    by_prefix: dict[str, tuple[tuple[str, Phrase], ...]]
    # Phrases in a script without spaces (Chinese), searched for anywhere.
    anywhere: tuple[Phrase, ...]


@dataclass(frozen=True)
class Context:
    """The triggers of every lexicon together: a message may deny in one language what it says in another."""

    negated: re.Pattern | None
    negated_near: re.Pattern | None
    clause: dict[str, re.Pattern | None]
    says: re.Pattern | None
    # The writer or a baby: named after someone else, they are whose the sign is.
    owner: re.Pattern | None
    over_after: re.Pattern | None
    idiom: re.Pattern | None
    terminators: re.Pattern | None
    mild: re.Pattern | None


def _lexicon_data() -> dict[str, dict]:
    data = {}
    for path in sorted(LEXICON_DIR.glob("*.toml")):
        with path.open("rb") as file:
            data[path.stem] = tomllib.load(file)
    return data


PREFIX_INDEX = 3


@functools.cache
def lexicon() -> Lexicon:
    by_word: dict[str, list[Phrase]] = {}
    by_prefix: dict[str, list[tuple[str, Phrase]]] = {}
    anywhere: list[Phrase] = []
    for data in _lexicon_data().values():
        for sign, phrases in data["signs"].items():
            for text in phrases:
                phrase = Phrase(sign=sign, pattern=re.compile(phrase_pattern(text)))
                first = text_normalise(text).split(" ")[0]
                if is_cjk(first[:1]):
                    anywhere.append(phrase)
                elif first.endswith("*"):
                    by_prefix.setdefault(first[:PREFIX_INDEX], []).append((first[:-1], phrase))
                else:
                    by_word.setdefault(first, []).append(phrase)
    return Lexicon(
        by_word={word: tuple(phrases) for word, phrases in by_word.items()},
        by_prefix={key: tuple(phrases) for key, phrases in by_prefix.items()},
        anywhere=tuple(anywhere),
    )


_WORD = re.compile(r"\S+")


def _mentions(index: Lexicon, sentence: str):
    """Each phrase that the sentence holds, as (sign, match)."""
    by_word, by_prefix = index.by_word, index.by_prefix
    for word in _WORD.finditer(sentence):
        token = word.group()
        exact, prefixed = by_word.get(token), by_prefix.get(token[:PREFIX_INDEX])
        if exact is None and prefixed is None:
            continue
        for phrase in exact or ():
            if (match := phrase.pattern.match(sentence, word.start())) is not None:
                yield phrase.sign, match
        for prefix, phrase in prefixed or ():
            if token.startswith(prefix) and (match := phrase.pattern.match(sentence, word.start())) is not None:
                yield phrase.sign, match
    if not sentence.isascii():
        for phrase in index.anywhere:
            if (match := phrase.pattern.search(sentence)) is not None:
                yield phrase.sign, match


@functools.cache
def context() -> Context:
    lists: dict[str, list[str]] = {}
    for data in _lexicon_data().values():
        for name, words in data["context"].items():
            lists.setdefault(name, []).extend(words)
    return Context(
        negated=_alternatives(lists.get("negated", [])),
        negated_near=_alternatives(lists.get("negated_near", [])),
        clause={name: _alternatives(lists.get(name, [])) for name in CLAUSE_TRIGGERS},
        says=_alternatives(lists.get("says", [])),
        owner=_alternatives(lists.get("owner", [])),
        over_after=_alternatives(lists.get("over_after", [])),
        idiom=_alternatives(lists.get("idiom", [])),
        terminators=_alternatives(lists.get("terminators", [])),
        mild=_alternatives(lists.get("mild", [])),
    )


def _clause_before(sentence: str, start: int) -> str:
    """The sentence before a mention, back to the last comma."""
    return sentence[:start].rsplit(",", 1)[-1]


def _reached(trigger: re.Pattern | None, terminators: re.Pattern | None, window: str, *, before: bool) -> bool:
    """Whether a trigger in the window reaches the mention, no terminator standing between."""
    if trigger is None:
        return False
    for match in trigger.finditer(window):
        between = window[match.end() :] if before else window[: match.start()]
        if terminators is None or terminators.search(between) is None:
            return True
    return False


def _someone_else(triggers: Context, before: str) -> bool:
    """Someone out of scope is named before the mention, and not only as saying something, and
    neither the writer nor a baby is named between them ("my mum is worried because I'm bleeding")."""
    if triggers.clause["other"] is None:
        return False
    for match in triggers.clause["other"].finditer(before):
        if triggers.says is None or not triggers.says.match(before, match.end() + 1):
            between = before[match.end() :]
            if not any(
                pattern is not None and pattern.search(between) for pattern in (triggers.terminators, triggers.owner)
            ):
                return True
    return False


def someone_else_named(*, before: str) -> bool:
    """Whether the words before a sign, in its clause, make it someone else's: for the phrase rules'
    matches, read with the lexicons' triggers."""
    return _someone_else(context(), re.split(r"[,|]", before)[-1])


def mention_in_scope(*, sentence: str, start: int, end: int, sign: str) -> bool:
    """Whether a mention of a sign at sentence[start:end] is the writer's or a baby's, happening now:
    for the phrase rules' matches, read with the lexicons' triggers."""
    return _in_scope(context(), sentence, start, end, sign)


def _in_scope(triggers: Context, sentence: str, start: int, end: int, sign: str) -> bool:
    clause = _clause_before(sentence, start)
    words = clause.split()
    before, near = " ".join(words[-TRIGGER_WORDS:]), " ".join(words[-NEAR_WORDS:])
    # After a mention, across commas: "se puso morado, lo revisaron y dijeron que fue reflujo".
    after = " ".join(sentence[end:].split()[:TRIGGER_WORDS])
    terminators = triggers.terminators
    if _reached(triggers.negated, terminators, before, before=True):
        return False
    if _reached(triggers.negated_near, terminators, near, before=True):
        return False
    if any(
        _reached(triggers.clause[name], terminators, clause, before=True)
        for name in ("over", "hypothetical", "knowledge")
    ):
        return False
    if _someone_else(triggers, clause):
        return False
    if _reached(triggers.over_after, terminators, after, before=False):
        return False
    if triggers.idiom is not None and triggers.idiom.search(f"{before} {sentence[start:end]} {after}"):
        return False
    if sign == "bleeding" and triggers.mild is not None and triggers.mild.search(f"{before} {after}"):
        return False
    return True


@dataclass(frozen=True, slots=True)
class LexiconReading:
    signs: frozenset[str]
    # Whether a mention of a sign was read and set aside as out of scope.
    set_aside: bool


def lexicon_read(*, text: str) -> LexiconReading:
    """The warning signs the lexicons find in scope in the message, and whether any were set aside."""
    normalised = text_normalise(text)
    triggers = context()
    found: set[str] = set()
    set_aside = False
    index = lexicon()
    for sentence in sentences_split(normalised):
        for sign, match in _mentions(index, sentence):
            if sign in found:
                continue
            if _in_scope(triggers, sentence, match.start(), match.end(), sign):
                found.add(sign)
            else:
                set_aside = True
    # Waters breaking at term are labour, not a warning sign (unless they are green or brown).
    weeks = gestation_weeks(text=normalised)
    if "fluid_leak" in found and any(week >= TERM_WEEKS for week in weeks):
        found.discard("fluid_leak")
    # Movements not felt yet are not movements that stopped.
    if "baby_movement" in found and weeks and all(week < MOVEMENTS_WEEKS for week in weeks):
        found.discard("baby_movement")
    return LexiconReading(signs=frozenset(found), set_aside=set_aside)
