"""Deterministic safety classification of a message, run before the model sees it.

Missing an emergency costs far more than a needless notice, so the rules lean towards
firing: a warning sign counts unless the message clearly negates it, asks about it in
general, places it in the past, or (for signs that are normal when mild) calls it mild.
People type into phones, so matching happens on text normalised for case, apostrophes,
punctuation, stretched letters and common misspellings.

Every phrase list knows the words its matches can begin with, worked out from its own
patterns when the module loads; a message is read once to find where those words are,
and each pattern is tried only there. That keeps a long message well under a millisecond.
"""

import functools
import re
import unicodedata
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field

from chats.safety.lexicons import lexicon_read, mention_in_scope, someone_else_named
from chats.safety.measurements import readings_find
from chats.safety.statistical import statistical_emergency

CATEGORY_ORDER: tuple[str, ...] = ("emergency", "mental_health", "medication", "medical", "nutrition", "pregnancy")

RESEMBLES_EMERGENCY = "resembles_emergency"
# The urgent warning signs (CDC Hear Her for the mother; the NHS's for labour and the newborn;
# the Royal College of Psychiatrists' for postpartum psychosis), as stable keys for logs,
# evaluation and the model's instructions, most serious first.
EMERGENCY_SIGNS: tuple[str, ...] = (
    "self_harm",
    "psychosis",
    "seizure",
    "newborn_seizure",
    "breathing",
    "newborn_breathing",
    "chest_heart",
    "bleeding",
    "postpartum_bleeding",
    "fluid_leak",
    "waters_meconium",
    "cord_prolapse",
    "baby_movement",
    "headache",
    "vision",
    "dizziness",
    "fever",
    "swelling",
    "leg_clot",
    "belly_pain",
    "vomiting",
    "postpartum_discharge",
    "exhaustion",
    "newborn_floppy",
    "newborn_feeding",
    "newborn_jaundice",
    # Found by their readings (chats/safety/measurements.py).
    "high_blood_pressure",
    "newborn_fever",
    "preterm_labour",
    # Found by the statistical layer (chats/safety/statistical.py), which knows that a message
    # reads like the emergencies it learnt from, not which sign it names.
    RESEMBLES_EMERGENCY,
)

MENTAL_HEALTH_SIGNS = frozenset({"self_harm", "psychosis"})


@dataclass(frozen=True, slots=True)
class Classification:
    detected_categories: tuple[str, ...] = ()
    emergency_signs: tuple[str, ...] = ()
    # Whether the statistical layer was, or with every layer would have been, asked: how the
    # classification was reached, not part of what it says.
    statistical_consulted: bool = field(default=False, compare=False)

    @property
    def primary_category(self) -> str | None:
        return self.detected_categories[0] if self.detected_categories else None

    @property
    def is_emergency(self) -> bool:
        return "emergency" in self.detected_categories

    @property
    def is_self_harm(self) -> bool:
        return "self_harm" in self.emergency_signs


# --- Phrase lists --------------------------------------------------------------------------


def _structure(source: str, start: int = 0) -> Iterator[tuple[int, str, int]]:
    """Each character of a pattern outside escapes and classes, with the group depth after it."""
    depth = 0
    index = start
    while index < len(source):
        char = source[index]
        if char == "\\":
            index += 2
            continue
        if char == "[":
            index = source.index("]", index + 1) + 1
            continue
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        yield index, char, depth
        index += 1


def _group_end(source: str, start: int) -> int:
    """Index just past the parenthesised group opening at `start`."""
    for index, char, depth in _structure(source, start):
        if char == ")" and depth == 0:
            return index + 1
    raise ValueError(f"Unbalanced group in {source!r}")


def _branches(source: str) -> list[str]:
    """The top-level alternatives of a pattern."""
    branches, begin = [], 0
    for index, char, depth in _structure(source):
        if char == "|" and depth == 0:
            branches.append(source[begin:index])
            begin = index + 1
    branches.append(source[begin:])
    return branches


def _first_words(source: str) -> set[str]:
    """How a match of `source` can begin: a whole first word (ending in a space), or its first letters."""
    position = 0
    while source.startswith((r"\b", "(?<"), position):
        position = position + 2 if source.startswith(r"\b", position) else _group_end(source, position)
    if source.startswith("(?:", position):
        end = _group_end(source, position)
        quantifier = source[end : end + 1]
        rest = source[end + 1 :] if quantifier in ("?", "*", "+") else source[end:]
        words = set()
        for branch in _branches(source[position + 3 : end - 1]):
            words |= _first_words(branch + rest)
        if quantifier in ("?", "*"):
            words |= _first_words(rest)
        return words
    if source.startswith(r"\d", position):
        return set("0123456789")
    literal = ""
    index = position
    while index < len(source) and (source[index].isalnum() or source[index] == " "):
        literal += source[index]
        index += 1
    if index < len(source) and source[index] in "?*":
        literal = literal[:-1]
    elif index == len(source):
        literal += " "
    word, space, _ = literal.partition(" ")
    if not word:
        raise ValueError(f"Cannot tell which words start {source!r}")
    return {word + space}


@dataclass(frozen=True, slots=True)
class _Phrases:
    pattern: re.Pattern[str]
    first_words: tuple[str, ...]
    index: int


_ALL_PHRASES: list[_Phrases] = []


def _phrases(*alternatives: str) -> _Phrases:
    """Whole-word alternatives, registered so that messages are searched only where they can start."""
    first_words: set[str] = set()
    for alternative in alternatives:
        first_words |= _first_words(alternative)
    phrases = _Phrases(
        pattern=re.compile(r"\b(?:" + "|".join(alternatives) + r")\b"),
        first_words=tuple(sorted(first_words)),
        index=len(_ALL_PHRASES),
    )
    _ALL_PHRASES.append(phrases)
    return phrases


# --- Normalisation -------------------------------------------------------------------------

# Sentence ends become "||" and clause breaks "|", so that negation, severity and question
# context can be scoped by plain string search. A full stop or comma between digits is a
# decimal point ("38.5", "38,4").
_DECIMAL = re.compile(r"(\d)[.,](?=\d)")
_DECIMAL_MARK = "\x01"
_PUNCTUATION = str.maketrans(
    {
        **{chr(code): " " for code in range(128) if not chr(code).isalnum()},
        **dict.fromkeys(".!?", " || "),
        **dict.fromkeys(",;:()[]{}", " | "),
        "|": " | ",
        "+": "+",
        "/": "/",
        _DECIMAL_MARK: _DECIMAL_MARK,
    }
)
_APOSTROPHES = str.maketrans(dict.fromkeys("'\u2019\u2018`\u00b4", ""))
_LAUGHTER = re.compile("[\U0001f602\U0001f923\U0001f606\U0001f605]")
_STRETCHED = re.compile(r"([a-z])\1{2,}")
_WEEKS_SHORT = re.compile(r"(?<=\d)(?:wks?|w)\b")

_TYPOS = {
    "hedache": "headache",
    "headach": "headache",
    "headahce": "headache",
    "headake": "headache",
    "hedake": "headache",
    "hedaches": "headaches",
    "migrane": "migraine",
    "migrain": "migraine",
    "migranes": "migraines",
    "vission": "vision",
    "vison": "vision",
    "visoin": "vision",
    "vsion": "vision",
    "blury": "blurry",
    "blurr": "blurry",
    "blurrey": "blurry",
    "bluury": "blurry",
    "blurred": "blurry",
    "breth": "breath",
    "brethe": "breathe",
    "breathin": "breathing",
    "breating": "breathing",
    "brething": "breathing",
    "breahting": "breathing",
    "sezure": "seizure",
    "siezure": "seizure",
    "seizur": "seizure",
    "seazure": "seizure",
    "seisure": "seizure",
    "ceasure": "seizure",
    "seizuer": "seizure",
    "sezures": "seizures",
    "siezures": "seizures",
    "feaver": "fever",
    "fevor": "fever",
    "fevar": "fever",
    "temprature": "temperature",
    "temperture": "temperature",
    "tempreture": "temperature",
    "tempature": "temperature",
    "tempurature": "temperature",
    "temperatur": "temperature",
    "tempreature": "temperature",
    "swolen": "swollen",
    "swollon": "swollen",
    "swolled": "swollen",
    "sweling": "swelling",
    "vommiting": "vomiting",
    "vomitting": "vomiting",
    "vomting": "vomiting",
    "vommitting": "vomiting",
    "vommit": "vomit",
    "vomitted": "vomited",
    "vommited": "vomited",
    "stomache": "stomach",
    "stomch": "stomach",
    "stomack": "stomach",
    "stomac": "stomach",
    "tummie": "tummy",
    "abdo": "abdomen",
    "bleedin": "bleeding",
    "bleading": "bleeding",
    "bleeing": "bleeding",
    "bledding": "bleeding",
    "bleding": "bleeding",
    "preganant": "pregnant",
    "pregant": "pregnant",
    "pregnat": "pregnant",
    "pregnent": "pregnant",
    "prego": "pregnant",
    "preggo": "pregnant",
    "preggers": "pregnant",
    "pregnet": "pregnant",
    "dizy": "dizzy",
    "dizzi": "dizzy",
    "dissy": "dizzy",
    "dizzyness": "dizziness",
    "diziness": "dizziness",
    "dizzines": "dizziness",
    "fanted": "fainted",
    "feinted": "fainted",
    "exausted": "exhausted",
    "exhuasted": "exhausted",
    "exhasted": "exhausted",
    "movment": "movement",
    "movments": "movements",
    "movemnts": "movements",
    "moveing": "moving",
    "dischage": "discharge",
    "discharg": "discharge",
    "smels": "smells",
    "palpatations": "palpitations",
    "palps": "palpitations",
    "caesarean": "csection",
    "cesarean": "csection",
    "ceaserean": "csection",
    "pp": "postpartum",
    "postnatal": "postpartum",
    "wks": "weeks",
    "wk": "weeks",
    "bub": "baby",
    "bubba": "baby",
    "babys": "baby",
    "bby": "baby",
    "gf": "girlfriend",
    "hubby": "husband",
    "rn": "right now",
    "n": "and",
    "pls": "please",
    "plz": "please",
    "cannot": "cant",
    "couldnt": "cant",
    "havnt": "havent",
    "hasent": "hasnt",
    "thru": "through",
    "hrs": "hours",
    "hr": "hours",
}
_PAIR_TYPOS = {
    ("head", "ache"): "headache",
    ("head", "aches"): "headaches",
    ("c", "section"): "csection",
    ("c", "sections"): "csection",
    ("post", "partum"): "postpartum",
    ("heart", "burn"): "heartburn",
    ("light", "headed"): "lightheaded",
    ("can", "not"): "cant",
}
_PAIR_SECONDS = frozenset(second for _, second in _PAIR_TYPOS) | {"w"}


def _word_normalise(word: str) -> str:
    """One whitespace-separated piece of lower-cased text in normal form; it may become several words."""
    if word.isalpha() and word.isascii():
        if _STRETCHED.search(word):
            word = _STRETCHED.sub(r"\1", word)
        return _TYPOS.get(word, word)
    if word.isascii():
        word = word.translate(_APOSTROPHES)
    else:
        word = _LAUGHTER.sub(" lol ", word).replace("\u00b0", " degrees ").translate(_APOSTROPHES)
        word = word.replace("\u2013", " | ").replace("\u2014", " | ")
        # Accents go with the decomposition; emoji carry nothing the rules read.
        word = unicodedata.normalize("NFKD", word).encode("ascii", "ignore").decode("ascii")
    if word == "-":
        return "|"
    word = _DECIMAL.sub(r"\1" + _DECIMAL_MARK, word).translate(_PUNCTUATION).replace(_DECIMAL_MARK, ".")
    word = _WEEKS_SHORT.sub(" weeks", _STRETCHED.sub(r"\1", word))
    return " ".join(_TYPOS.get(part, part) for part in word.split())


@functools.lru_cache(maxsize=1 << 16)
def _word_read(word: str) -> tuple[tuple[str, tuple[int, ...]], ...]:
    """One whitespace-separated piece of text as normal words, each with the phrase lists that can start at it."""
    return tuple((part, _word_phrases(part)) for part in _word_normalise(word).split())


@functools.lru_cache(maxsize=1 << 16)
def _word_phrases(word: str) -> tuple[int, ...]:
    """Indexes of the phrase lists that can start at this word: by the whole word, or by its first letters."""
    found = _FIRST_WORD_INDEX.get(word + " ", ())
    for length in range(1, len(word) + 1):
        found += _FIRST_WORD_INDEX.get(word[:length], ())
    return tuple(sorted(set(found)))


# --- The message as the rules see it ------------------------------------------------------

_NEGATORS = frozenset(
    "no not never without isnt arent wasnt werent dont doesnt didnt havent hasnt hadnt nor neither none zero".split()
)
# "not sure if", "dont know whether": doubt, not denial.
_DOUBT_WORDS = frozenset("sure know idea clue certain".split())
_WINDOW_STOPS = frozenset("| || but just only though although however except and then because cos".split())
_MILD_WORDS = frozenset(
    "bit little slight slightly mild mildly light lightly tiny small minor occasional occasionally sometimes "
    "once".split()
)


class _Message:
    """Normalised text, where each phrase list can start in it, and facts worked out on demand."""

    __slots__ = ("text", "_offsets", "_searched", "_postpartum", "_weeks")

    def __init__(self, text: str) -> None:
        self._offsets: defaultdict[int, list[int]] = defaultdict(list)
        self._searched: dict[tuple[int, int, int | None], re.Match[str] | None] = {}
        self._postpartum: bool | None = None
        self._weeks: int | None = -1
        # Lines end sentences; the text begins and ends with a sentence break so that
        # every match has one on each side.
        words = ["", "||"]
        offsets = self._offsets
        offset = 4
        for line in text.lower().splitlines():
            for piece in line.split():
                for word, indexes in _word_read(piece):
                    if word in _PAIR_SECONDS:
                        word, indexes, offset = self._pair_join(words, word, indexes, offset)
                    words.append(word)
                    for index in indexes:
                        offsets[index].append(offset)
                    offset += len(word) + 1
            words.append("||")
            offset += 3
        words.append("")
        self.text = " ".join(words)

    def _pair_join(
        self, words: list[str], word: str, indexes: tuple[int, ...], offset: int
    ) -> tuple[str, tuple[int, ...], int]:
        """A word that joins the one before it ("head ache"), or a bare "w" after a number of weeks."""
        previous = words[-1]
        if word == "w":
            return ("weeks", _word_phrases("weeks"), offset) if previous[-1:].isdigit() else (word, indexes, offset)
        joined = _PAIR_TYPOS.get((previous, word))
        if joined is None:
            return word, indexes, offset
        words.pop()
        for index in _word_phrases(previous):
            self._offsets[index].pop()
        return joined, _word_phrases(joined), offset - len(previous) - 1

    def matches(self, phrases: _Phrases, start: int = 0, end: int | None = None) -> Iterator[re.Match[str]]:
        """Matches beginning in [start, end), one per word they begin at."""
        offsets = self._offsets.get(phrases.index)
        if not offsets:
            return
        end = len(self.text) if end is None else end
        for offset in offsets[bisect_left(offsets, start) :]:
            if offset >= end:
                return
            match = phrases.pattern.match(self.text, offset)
            if match is not None:
                yield match

    def search(self, phrases: _Phrases, start: int = 0, end: int | None = None) -> re.Match[str] | None:
        """The first match beginning in [start, end), remembered: the rules ask the same of a sentence often."""
        key = (phrases.index, start, end)
        if key not in self._searched:
            self._searched[key] = next(self.matches(phrases, start, end), None)
        return self._searched[key]

    @property
    def postpartum(self) -> bool:
        if self._postpartum is None:
            self._postpartum = self.search(_POSTPARTUM) is not None
        return self._postpartum

    @property
    def weeks(self) -> int | None:
        """Weeks of pregnancy the message states, if any."""
        if self._weeks == -1:
            match = _GESTATION.search(self.text)
            if match is None:
                self._weeks = None
            elif match.group(1):
                self._weeks = int(match.group(1))
            else:
                self._weeks = int(match.group(2)) * 4 + 2
        return self._weeks

    def sentence(self, start: int, end: int) -> tuple[int, int]:
        return self.text.rfind("||", 0, start) + 2, self.text.find("||", end)

    def words_before(self, start: int, count: int) -> list[str]:
        """Up to `count` words before `start`, nearest first, stopping at a clause break or a contrast."""
        kept: list[str] = []
        for word in reversed(self.text[max(0, start - 60) : start].split()):
            if word in _WINDOW_STOPS or len(kept) == count:
                break
            kept.append(word)
        return kept

    def words_after(self, end: int, count: int) -> list[str]:
        kept: list[str] = []
        for word in self.text[end : end + 40].split():
            if word in _WINDOW_STOPS or len(kept) == count:
                break
            kept.append(word)
        return kept

    def negated(self, start: int) -> bool:
        before = self.words_before(start, 4)
        for index, word in enumerate(before):
            if word in _NEGATORS and (before[index - 1] if index else "") not in _DOUBT_WORDS:
                return True
        return False

    def mild(self, start: int, end: int) -> bool:
        return not _MILD_WORDS.isdisjoint(self.words_before(start, 3)) or not _MILD_WORDS.isdisjoint(
            self.words_after(end, 2)
        )


# --- Context ------------------------------------------------------------------------------

_SEVERE = _phrases(
    r"severe(?:ly)?",
    "bad",
    "badly",
    "worst",
    "worse",
    "worsening",
    "terrible",
    "awful",
    "horrible",
    "horrendous",
    "unbearable",
    "excruciating",
    r"agoni[sz]ing",
    "intense",
    r"extreme(?:ly)?",
    "overwhelming",
    r"sudden(?:ly)?",
    "out of nowhere",
    r"getting (?:much |way |a lot )?(?:worse|stronger|heavier)",
    r"wont (?:go away|stop|ease|settle)",
    r"not (?:going away|stopping|easing|getting better)",
    r"doesnt (?:go away|stop|ease)",
    r"cant (?:stop|stand|walk|move|function|cope|get up|think|do anything|finish|talk|speak|look at)",
    r"non ?stop",
    r"constant(?:ly)?",
    r"all (?:day|night|evening)",
    r"for (?:\d+|two|three|four|five|a few|few|several) (?:days|hours)",
    "days straight",
    r"since (?:yesterday|last night|this morning)",
    r"nothing (?:helps|is helping|works|helped|worked)",
    "did nothing",
    "didnt help",
    "not helping",
    "doesnt help",
    "doubled over",
    "so much",
    "barely",
    "hardly",
    r"even (?:lying|sitting|resting|at rest|when resting|doing nothing)",
    "at rest",
)

# The sign after one of these is the topic of a question, not something happening now.
_GENERAL_QUESTION = _phrases(
    r"what (?:are|r|is|re) (?:the |some )?(?:common |main |usual )?"
    r"(?:signs?|symptoms?|warning signs?|red flags?|causes?)",
    r"how (?:do|can|would|will|should|does) (?:i|you|we|one|u|someone|she|a person) "
    r"(?:know|tell|recogni[sz]e|spot|check)",
    r"what (?:does|do|would|should) (?:[^|\s]+ ){0,6}?(?:feel|look) like",
    r"what (?:causes|can cause|could cause)",
    r"what (?:does|do|is) (?:[^|\s]+ ){0,5}?mean",
    r"what (?:is|counts as) considered",
    r"what (?:[^|\s]+ ){0,2}?(?:is|are|counts as) (?:dangerous|too high|normal|safe|worrying|concerning)",
    r"whats? (?:is )?(?:a |the )?normal",
    r"what (?:temperature|temp|number) (?:counts|is|should)",
    "counts as",
    r"when (?:should|do|would) (?:i|you|we) (?:call|worry|go|see|phone|ring|seek|get|contact|be worried)",
    r"what should (?:i|we) (?:look out|watch out|watch|look) for",
    r"(?<=out of )curiosity",
    r"(?<=just )curious",
    r"hypothetical\w*",
    r"what (?:should|do|would|can) (?:i|we|you|she) do if",
    "what happens if",
    r"(?<=in )case",
    r"(?<=when the )time comes",
    "how often should",
    r"(?:worried|scared|anxious|nervous|afraid|concerned|paranoid) (?:about|of) (?!the |my |her |this |it )(?=\w)",
)
# A first-person report after a general question is about the person, not the topic.
_CURRENT = _phrases(
    "i have",
    "ive got",
    "ive had",
    "im having",
    "i keep",
    "ive been",
    "right now",
    "currently",
    "at the moment",
    "today",
    "tonight",
    r"this (?:morning|evening|afternoon)",
    "since",
)
_HISTORY = _phrases(
    r"last (?:pregnancy|time i was pregnant|month|year)",
    r"previous (?:pregnancy|pregnancies|birth|labou?r|delivery)",
    r"(?:first|last|older|eldest|other) (?:birth|labou?r|delivery|son|daughter)",
    r"(?<=with my )(?:first|eldest|older|son|daughter)",
    r"(?<=with her )(?:first|eldest|older|son|daughter)",
    "years ago",
    "months ago",
    r"(?<=in the )past",
    "happen again",
    r"(?:fine|good|ok|okay|better) now",
    "gone now",
    "went after",
    r"(?:friend|sister|cousin|mum|mom|mother|aunt|colleague|coworker|neighbou?r)s? (?:had|got|used to)",
    "used to get",
    r"(?<=as a )(?:kid|child|teenager)",
    r"(?<=its )(?:gone|cleared|passed|settled)",
    r"(?<=it has )(?:gone|cleared|passed|settled)",
    r"(?<=it had )(?:gone|cleared|passed|settled)",
    r"(?<=has since )(?:gone|cleared|passed|settled)",
    "went away",
    "cleared up",
)
_HISTORY_RESET = _phrases(
    "right now",
    "currently",
    "at the moment",
    "today",
    "tonight",
    r"this (?:morning|evening|afternoon)",
    r"since (?:yesterday|last night|this morning)",
    r"now (?:im|i am|its|it is|shes|i have|ive)",
    r"keeps?",
    "still",
)
_POSTPARTUM = _phrases(
    "postpartum",
    r"after (?:the |my |her |giving |having )?(?:birth|delivery|labou?r|csection)",
    r"after (?:giving birth|having (?:the |my |her |our |a )?baby|delivering|i gave birth|she gave birth)",
    r"since (?:the |my |her )?(?:birth|delivery|giving birth|csection)",
    r"since having (?:the |my |her |our )?baby",
    r"since the baby (?:came|arrived|was born)",
    "gave birth",
    "given birth",
    r"had (?:my |the |her |our )?baby",
    r"(?:days?|weeks?|months?) old",
    r"(?:days?|weeks?|months?) (?:after|since|postpartum|post)",
    "newborn",
    "lochia",
    "delivered",
    "after delivery",
    "since delivery",
)
_GESTATION = re.compile(
    r"\b(\d{1,2})(?:\+\d)? weeks?\b(?! (?:after|ago|postpartum|post|old|since))|\b(\d) months pregnant\b"
)


# --- Rules ----------------------------------------------------------------------------------

_STRONG, _MILDABLE, _WEAK = "strong", "mildable", "weak"

_Check = Callable[[_Message, re.Match[str], int, int], bool]


@dataclass(frozen=True, slots=True)
class _Rule:
    sign: str
    phrases: _Phrases
    # _STRONG fires unless negated or out of context; _MILDABLE also yields to "a bit",
    # "mild" next to it; _WEAK needs a severity marker in the same sentence.
    strength: str
    severity: tuple[_Phrases, ...] = (_SEVERE,)
    # Searched in the sentence; a hit means the words are about something else
    # (gums, not pregnancy; a laughing "can't breathe").
    exclusion: _Phrases | None = None
    # Further conditions, given the match and its sentence's bounds.
    check: _Check | None = None


_GAP = r"(?:[^|\s]+ ){0,3}?"
_GAP2 = r"(?:[^|\s]+ ){0,2}?"


def _not_postpartum(message: _Message, match: re.Match[str], start: int, end: int) -> bool:
    return not message.postpartum


def _postpartum_only(message: _Message, match: re.Match[str], start: int, end: int) -> bool:
    return message.postpartum


_TEMPERATURE_WORDS = _phrases(
    r"temp\w*",
    r"fever\w*",
    "thermometer",
    "degrees?",
    "celsius",
    "fahrenheit",
    "hot",
    "chills",
    r"shiver\w*",
    "burning up",
    "febrile",
    r"\d+(?:\.\d+)? ?(?:c|f)",
)
_READING = re.compile(
    r"(?<![\d./+])(\d{2,3}(?:\.\d{1,2})?)(?: ?(?:degrees?|deg))? ?(c|f|celsius|fahrenheit)?(?![\w/+])"
    r"(?! ?(?:weeks?|days?|hours?|minutes?|mins?|kgs?|lbs?|pounds|times|pads?|percent|bpm|years?|months?|am|pm|ml|oz"
    r"|cm|mm|mg)\b)"
)


def _temperature_high(message: _Message, start: int, end: int) -> bool | None:
    """Whether the readings in a sentence reach 38 C / 100.4 F; None when it has no reading."""
    if message.search(_TEMPERATURE_WORDS, start, end) is None:
        return None
    found = None
    for match in _READING.finditer(message.text, start, end):
        value, unit = float(match.group(1)), (match.group(2) or "")[:1]
        if unit == "c" or (not unit and 34 <= value <= 43.5):
            found = found or value >= 38.0
        elif unit == "f" or (not unit and 95 <= value <= 110):
            found = found or value >= 100.4
    return found


# Someone else's fever is not a maternal warning sign; a baby's is kept, being urgent too.
_OTHER_PERSON = frozenset("toddler son daughter kid kids child children husband boyfriend dad dog cat eldest".split())
# A hot bath or a hot day measured in degrees.
_NOT_BODY_HEAT = _phrases(
    "bath", "shower", "hot tub", "jacuzzi", "sauna", "room", "outside", "weather", r"heat ?wave", "oven", "pool"
)


def _fever_reading(message: _Message, match: re.Match[str], start: int, end: int) -> bool:
    if not _OTHER_PERSON.isdisjoint(message.words_before(match.start(), 4)):
        return False
    return _temperature_high(message, start, end) is not False


def _fever_number(message: _Message, match: re.Match[str], start: int, end: int) -> bool:
    if message.search(_NOT_BODY_HEAT, start, end) or not _OTHER_PERSON.isdisjoint(
        message.words_before(match.start(), 6)
    ):
        return False
    return bool(_temperature_high(message, start, end))


def _fever_spoken(message: _Message, match: re.Match[str], start: int, end: int) -> bool:
    if message.search(_NOT_BODY_HEAT, start, end) or not _OTHER_PERSON.isdisjoint(
        message.words_before(match.start(), 6)
    ):
        return False
    return message.search(_TEMPERATURE_WORDS, start, end) is not None


_LEG_PAIN = _phrases(r"pain\w*", "hurts?", "hurting", "sore", "tender", "aches?", "aching", "throbbing", "stiff")
_LEG_RED = _phrases("red", "redness", "hot", "warm", "purple", r"discolou?red", "reddish")
_LEG_SWOLLEN = _phrases("swollen", "swelling", "swelled", "puffy", "bigger", "larger", "fatter", "huge", "hard")
_ONE_SIDED = _phrases(
    "one side",
    "one leg",
    "just one",
    "only one",
    "than the other",
    r"compared to the (?:other|left|right)",
    "clots?",
    "dvt",
    "thrombosis",
)


def _leg_clot_features(message: _Message, match: re.Match[str], start: int, end: int) -> bool:
    # A calf that aches is common; pain with swelling or redness, or on one side only,
    # is how a clot shows.
    features = sum(1 for phrases in (_LEG_PAIN, _LEG_RED, _LEG_SWOLLEN) if message.search(phrases, start, end))
    return features >= 2 or (features == 1 and message.search(_ONE_SIDED, start, end) is not None)


_BABY_WORDS = _phrases(
    "baby", "little one", r"kick\w*", "bump", "movements?", "fetal", "foetal", "he", "she", "hes", "shes", "him", "her"
)
_MOVEMENT_CHANGE = _phrases(
    "less", "stopped", "usual", "usually", "normally", "anymore", "reduced", "quieter", "calmer", "fewer"
)
_STILL_PREGNANT = _phrases(r"kick\w*", r"pregnan\w*", r"(?<=\d )weeks")


def _movement_timing(message: _Message, match: re.Match[str], start: int, end: int) -> bool:
    # Before about 24 weeks many never feel movement at all, so only a change counts.
    weeks = message.weeks
    return weeks is None or weeks >= 24 or message.search(_MOVEMENT_CHANGE, start, end) is not None


def _movement_context(message: _Message, match: re.Match[str], start: int, end: int) -> bool:
    return message.search(_BABY_WORDS, start, end) is not None and _movement_timing(message, match, start, end)


def _movement_quiet(message: _Message, match: re.Match[str], start: int, end: int) -> bool:
    return (
        message.search(_BABY_WORDS, start, end) is not None
        and not message.postpartum
        and message.search(_STILL_PREGNANT) is not None
    )


def _fit_had(message: _Message, match: re.Match[str], start: int, end: int) -> bool:
    return not {"had", "having", "has", "have"}.isdisjoint(message.words_before(match.start(), 3))


_FIGURE_OF_SPEECH = _phrases("lol", "lmao", r"haha\w*", "so funny")


def _faint_not_figure(message: _Message, match: re.Match[str], start: int, end: int) -> bool:
    # "I almost fainted when I saw the bill lol" is hyperbole; a real near-faint rarely jokes.
    before = message.words_before(match.start(), 1)
    return not (before and before[0] in ("almost", "nearly") and message.search(_FIGURE_OF_SPEECH, start, end))


_FLUID_WORDS = _phrases(r"waters?", "fluid", "amniotic", "liquid", "watery", r"trickl\w*", r"gush\w*", "dripping")


def _fluid_context(message: _Message, match: re.Match[str], start: int, end: int) -> bool:
    return message.search(_FLUID_WORDS, start, end) is not None


_DISCHARGE_SOURCE = _phrases(
    "discharge", "lochia", "bleeding", "blood", "down there", r"vagina\w*", "pads?", "stitches"
)


def _discharge_postpartum(message: _Message, match: re.Match[str], start: int, end: int) -> bool:
    return message.postpartum and message.search(_DISCHARGE_SOURCE, start, end) is not None


_NOT_VAGINAL = (
    r"gums?",
    "nose",
    r"nosebleeds?",
    "teeth",
    "tooth",
    r"brush\w*",
    r"nipples?",
    "piles",
    r"h(?:a)?emorrhoids?",
    "bum",
    "poo",
    "stool",
    "cut",
    "finger",
)
# Bleeding described by what it soaks, without the word "bleeding".
_HEAVY_BLEEDING = _phrases(
    r"soak\w* (?:through )?(?:a |my |her |the |\d+ |two |three )?(?:maternity )?(?:pads?|clothes|sheets|bed|towels?)",
    r"pads? (?:an|every|each|in an|in half an) hour",
    r"(?:going|gone|went|go) through (?:\w+ )?pads",
    r"clots? (?:the size of|as big as|bigger than)",
)
_SELF_HARM_INTENT = (
    r"(?:thoughts? (?:of|about)|thinking (?:of|about)|think about|"
    r"(?:scared|afraid|worried|terrified) (?:that )?i(?:ll| will| might| could| would)?|"
    r"want(?:ed)? to|wanna|feel like|felt like|urges? to|tempted to|imagin\w*|images? of|picturing)"
)

_RULES: tuple[_Rule, ...] = (
    # --- thoughts of harming oneself or the baby
    _Rule(
        "self_harm",
        _phrases(
            r"(?:kill|killing|hurt|hurting|harm|harming|cut|cutting|starve|starving) "
            r"(?:my ?self|herself|himself|themselves)",
            r"suicid\w*",
            r"self ?harm\w*",
            "end it all",
            "ending it all",
            r"(?:end|ending|take|taking) (?:my|her) (?:own )?life",
            r"(?:dont|didnt|dont really|no longer) (?:want|wanna) (?:to )?(?:be alive|live|be here|exist|wake up|be around"
            r"|go on)",
            r"(?:want|wanna|going|gonna) (?:to )?(?:die|disappear forever|not exist|not be here|not wake up)",
            r"wish i (?:was|were) (?:dead|never born|not here|gone)",
            r"better off (?:without me|dead|if i was(?:nt)? (?:not )?here)",
            r"(?:sleep|go to sleep) and (?:not|never) wake up",
            r"(?:walk|walking|step|stepping|run|running) (?:out )?(?:into|in front of) (?:traffic|a car|a bus|a train)",
            r"(?:jump|jumping) (?:off|from) (?:a |the )?(?:bridge|building|roof|balcony)",
            r"overdos\w*",
            r"(?:take|taking|swallow\w*) (?:all|a bunch|a load|loads|lots) (?:of )?(?:my |the |her )?"
            r"(?:pills|tablets|meds)",
            r"no (?:reason|point) (?:to|in) (?:live|living|going on)",
            r"(?:thinking|think|thoughts?) (?:about|of) (?:ending it|ending things|not being here|dying|being dead)",
            r"want (?:it all|everything|my life) to (?:end|stop|be over)",
            r"what(?:s| is) the point (?:of|in) (?:living|life|going on|being alive)",
            _SELF_HARM_INTENT + r" (?:hurt|hurting|harm|harming|shake|shaking|throw|throwing|smother\w*|suffocat\w*"
            r"|drown\w*|kill|killing) (?:the |my |our |her |his )?(?:baby|newborn|son|daughter|little one|him|her)",
        ),
        _STRONG,
    ),
    # --- seizures
    _Rule(
        "seizure",
        _phrases(
            r"seizures?",
            "seizing",
            r"convuls\w*",
            r"fitting(?! (?:the|a|an|my|her|his|in|into|room|rooms|car|seat|together|for|clothes|bra|sessions?))",
            r"(?:shaking|jerking|twitching) and (?:jerking|shaking|twitching|not responding|unresponsive|stiff)",
            r"(?:body|arms?|legs?) (?:went|go|going|were|was) (?:all )?(?:stiff|rigid)",
            r"started (?:jerking|convulsing)",
            r"eyes rolled (?:back|up)",
            r"(?<=bit my )tongue",
            r"(?<=bit her )tongue",
            r"(?<=bit his )tongue",
            "unresponsive",
            r"(?<=not )responding",
        ),
        _STRONG,
    ),
    # "a fit" is a seizure after had or having; "not a fit mother" is not.
    _Rule("seizure", _phrases(r"(?<=a )fit", r"(?<=another )fit"), _STRONG, check=_fit_had),
    # --- trouble breathing
    _Rule(
        "breathing",
        _phrases(
            r"(?:cant|unable to|struggling to|struggles to|struggle to|hard to|difficult to|hurts to|painful to) "
            r"(?:properly |really )?breathe?",
            r"(?:trouble|difficulty|difficulties|problems?|struggling|pain|hurts?) (?:with |when |while )?(?:i )?breathing",
            r"breathing (?:is |has been |feels |got |getting )?(?:really |so |very |super )?"
            r"(?:hard|difficult|laboured|labored|painful|shallow)",
            r"(?:cant|unable to|struggling to) (?:catch|get) (?:my |her |his )?breath",
            r"(?:cant|not) get(?:ting)? (?:enough )?air",
            "gasping",
            r"(?:struggling|fighting|gasping) for (?:breath|air)",
            r"lips (?:look |are |going |turning |gone )?(?:a bit |slightly |really )?(?:blue|purple|grey|gray)",
            r"(?:like|feel like) (?:im|i am|shes|she is) (?:drowning|suffocating|choking)",
        ),
        _STRONG,
        exclusion=_phrases(
            "nose",
            r"nostrils?",
            "blocked",
            "bunged",
            "stuffy",
            r"congest\w*",
            "lol",
            "lmao",
            r"haha\w*",
            "this video",
            "meme",
            "so funny",
            "laughing",
        ),
    ),
    _Rule(
        "breathing",
        _phrases(r"short(?:ness)? of breath", "out of breath", r"breathless(?:ness)?", "winded"),
        _WEAK,
        severity=(
            _SEVERE,
            _phrases(r"(?:so|really|very|super) (?:short of|out of|breathless)", r"cant (?:finish|talk|speak|walk)"),
        ),
    ),
    # --- chest pain, racing heart
    _Rule(
        "chest_heart",
        _phrases(
            r"chest (?:pains?|hurts?|hurting|is hurting|ache|aches|aching|tightness|pressure"
            r"|feels? (?:tight|heavy|crushed|weird)|is (?:tight|heavy|sore))",
            r"(?:pains?|tightness|pressure|ache) in (?:my |her |the )?chest",
            r"(?:tight|heavy|crushing) chest",
            r"beat(?:ing)? out of (?:my |her )?chest",
        ),
        _STRONG,
    ),
    _Rule(
        "chest_heart",
        _phrases(
            r"(?:heart|heartbeat|heart beat|heart rate|pulse) (?:is |has been |keeps |been |feels |going )?"
            r"(?:so |really |very |super )?(?:racing|pounding|fluttering|skipping|irregular"
            r"|beating (?:so |really |very |super )?(?:fast|hard)|going (?:so |really |very )?fast|so fast|really fast"
            r"|very fast)",
            r"(?:racing|pounding|fluttering) (?:heart|heartbeat|heart beat|pulse)",
            r"palpitations?",
            r"(?:heart ?rate|pulse) (?:is |of |at )?(?:like |about |around |over )?(?:1[2-9]\d|[2-9]\d\d)",
        ),
        _MILDABLE,
        exclusion=_phrases("baby", "fetal", "foetal", "scan", "doppler", r"excit\w*"),
    ),
    # --- vaginal bleeding in pregnancy; after birth only heavy bleeding is a warning sign
    _Rule(
        "bleeding",
        _phrases(
            "bleeding",
            "bleed",
            "bleeds",
            "bled",
            r"haemorrhag\w*",
            r"hemorrhag\w*",
            r"blood(?! (?:pressure|tests?|sugars?|type|group|work|results?|count|clots? in|thinners?|flow|bank|donation))",
            "bloody",
            r"(?:passed|passing|big|huge|large) (?:a )?(?:big |huge |large )?clots?",
        ),
        _STRONG,
        exclusion=_phrases(
            *_NOT_VAGINAL,
            r"vomit\w*",
            r"throw\w* up",
            "threw up",
            r"puk\w*",
            r"cough\w*",
            r"(?:bleeding|blood|it) (?:has |had |was |is )?(?:now )?(?:stopped|settled|eased off)",
        ),
        check=_not_postpartum,
    ),
    _Rule(
        "bleeding",
        _phrases("spotting", r"spots? of blood"),
        _WEAK,
        severity=(
            _phrases(
                r"heav(?:y|ier|ily)",
                "bright red",
                "red",
                "clots?",
                r"cramp\w*",
                r"pain\w*",
                "turned into",
                r"getting (?:more|heavier|worse)",
                "a lot",
                "loads",
                "wont stop",
                "keeps coming",
            ),
        ),
        check=_not_postpartum,
    ),
    _Rule("bleeding", _HEAVY_BLEEDING, _STRONG, check=_not_postpartum),
    _Rule("postpartum_bleeding", _HEAVY_BLEEDING, _STRONG, check=_postpartum_only),
    _Rule(
        "postpartum_bleeding",
        _phrases("bleeding", "bleed", "bled", "blood", r"clots?", "lochia"),
        _WEAK,
        severity=(
            _phrases(
                r"heav(?:y|ier|ily)",
                r"soak\w*",
                r"(?:through|changed?|changing) (?:a |my |her |\d+ |two |three )?pads?",
                r"pads? (?:an|every|each|in an|in half an) hour",
                "golf",
                "tennis",
                "lemon",
                "plum",
                "fist",
                r"(?:big|huge|large|massive) clots?",
                "clots",
                r"gush\w*",
                r"pour\w*",
                "loads",
                "a lot",
                "so much",
                "way more",
                "more than before",
                "suddenly",
                "bright red",
                r"(?:wont|cant|doesnt) stop",
                "not stopping",
                r"(?<=\d )pads?",
            ),
        ),
        exclusion=_phrases(*_NOT_VAGINAL),
        check=_postpartum_only,
    ),
    # --- waters breaking or fluid leaking in pregnancy
    _Rule(
        "fluid_leak",
        _phrases(
            r"waters? (?:has |have |just |has just |have just |are |is )?(?:broke|broken|breaking|went|gone|burst|popped"
            r"|released)",
            r"(?:is this|is it|its|these are) (?:my |her )?waters",
            r"leak\w* (?:some |a lot of |clear |watery |green |brown |pinkish |pink )?(?:amniotic )?"
            r"(?:fluid|water|liquid|watery)",
            r"(?:fluid|liquid|watery stuff|watery discharge|water) (?:is |keeps )?(?:leaking|leak|coming out|dripping"
            r"|trickling|running|gushing)",
            r"(?:gush|trickle|stream) of (?:clear )?(?:water|fluid|liquid)",
            "still dripping",
            r"keeps? leaking",
        ),
        _STRONG,
        exclusion=_phrases(
            "colostrum",
            "breast",
            r"boobs?",
            r"nipples?",
            "breastmilk",
            r"leak\w* (?:a )?(?:little |bit of |bit )?(?:pee|wee|urine)",
            r"when i (?:sneeze|cough|laugh)",
        ),
        check=_fluid_context,
    ),
    # --- baby moving less or not at all
    _Rule(
        "baby_movement",
        _phrases(
            r"(?:hasnt|havent|hadnt|didnt|has not|have not|not|no longer|stopped|isnt|wasnt|barely|hardly) "
            + _GAP
            + r"(?:moved|move|moving|movements?|kick|kicks|kicked|kicking|wriggl\w*|squirm\w*)",
            r"(?:cant|dont|didnt|havent|hasnt|not) (?:feel|felt) "
            + _GAP
            + r"(?:move|moved|moving|movements?|kick\w*|anything|a thing|wriggl\w*)",
            r"(?:dont|didnt) think (?:ive|i have|i|shes|she has|weve) (?:felt|feel|had|noticed) "
            + _GAP
            + r"(?:move|moved|moving|movements?|kick\w*)",
            r"cant feel (?:the |my |our |her )?(?:baby|him|her)(?! (?:is|has|getting|likes|wants|needs))",
            r"(?:moving|moved|move|movements?|kick\w*|active|wriggl\w*) "
            + _GAP2
            + r"(?:less|fewer|slower|slowed|not as much|reduced|decreased|stopped)",
        ),
        _STRONG,
        exclusion=_phrases("yet", "bowel", "when will i", r"more \w+ than kicks"),
        check=_movement_context,
    ),
    _Rule(
        "baby_movement",
        _phrases(
            r"(?:less|fewer|reduced|decreased|decrease in|slowed|slower|no|hardly any|barely any|not many|not much) "
            r"(?:fetal |foetal |baby |babys )?(?:movements?|moving|kicks?|kicking|activity|active)",
        ),
        _STRONG,
        exclusion=_phrases("yet", "bowel", "when will i", "monitor"),
        check=_movement_timing,
    ),
    _Rule(
        "baby_movement",
        _phrases(
            r"(?:baby|he|she|hes|shes|bump) "
            + _GAP
            + r"(?:really |very |so |super |way |much |a lot )?(?:quiet|quieter|calmer|slower)",
            "theres been nothing",
            r"nothing all (?:day|night|evening)",
            r"nothing (?:tonight|today|this (?:morning|evening|afternoon)"
            r"|since (?:lunch|breakfast|dinner|yesterday|last night|this morning))",
        ),
        _STRONG,
        check=_movement_quiet,
    ),
    # --- severe or worsening headache
    _Rule(
        "headache",
        _phrases(
            r"headaches?",
            r"migraines?",
            r"heads? (?:is |has been |been |keeps |feels )?(?:killing|pounding|throbbing|splitting|hurting|hurts|aching"
            r"|exploding|banging)",
            r"pain in (?:my |her |the )?head",
        ),
        _WEAK,
        severity=(
            _SEVERE,
            _phrases(
                "pounding",
                "throbbing",
                "splitting",
                "killing",
                "banging",
                "exploding",
                "blinding",
                "stronger",
                r"light (?:is )?(?:bothering|hurts)",
                r"cant look at (?:the )?light",
            ),
        ),
    ),
    # --- vision changes
    _Rule(
        "vision",
        _phrases(
            r"(?:blurry|fuzzy|double|dim|dimmed|cloudy|spotty|weird|funny|strange|dark|patchy) (?:vision|sight|eyesight)",
            r"(?:vision|sight|eyesight|eyes?) "
            + _GAP
            + r"(?:blurry|blurring|fuzzy|double|dim|weird|funny|strange|cloudy|dark|spotty|sparkly|wavy)",
            r"(?:things|everything|it all) (?:look|looks|looking|is|are|seem|seems|gone|went) "
            r"(?:all |really |so |a bit |kinda )?(?:blurry|fuzzy|double|weird|wavy|dim)",
            r"(?:see|seeing|saw|seen|notice|noticed|noticing|getting) "
            + _GAP2
            + r"(?:spots|stars|sparkles|sparkly|flashes|flashing|zig ?zags?|floaters|lights|double|auras?|shimmer\w*)",
            r"(?:spots|stars|sparkles|flashes|floaters|lights) in (?:front of )?(?:my |her )?(?:vision|eyes?|sight)",
            r"flashing lights?",
            "flashes of light",
            r"zig ?zag\w*",
            r"blind spots?",
            r"shimmer\w*",
            r"(?:lost|losing|loss of|lose) (?:part of |some of |some )?(?:my |her )?(?:vision|sight|eyesight)",
            r"(?:cant|struggling to|hard to) see (?:properly|straight|clearly|well|right|anything|out of|a thing)",
            "blurry",
        ),
        _STRONG,
        exclusion=_phrases(r"photos?", "picture", r"pics?", "screen", "camera", "video", "scan"),
    ),
    # --- dizziness and fainting
    _Rule(
        "dizziness",
        _phrases(
            "fainted",
            "fainting",
            "passed out",
            "passing out",
            "pass out",
            "blacked out",
            "blacking out",
            "black out",
            "collapsed",
            r"(?:about|going) to faint",
            "gonna faint",
            r"feel(?:ing)? faint",
            "lost consciousness",
            "unconscious",
        ),
        _STRONG,
        check=_faint_not_figure,
    ),
    _Rule(
        "dizziness",
        _phrases(
            "dizzy",
            "dizziness",
            r"lightheaded(?:ness)?",
            "vertigo",
            r"(?:room|everything) (?:is |keeps |was )?spinning",
            "woozy",
            "faint",
        ),
        _MILDABLE,
        exclusion=_phrases(
            r"(?:stand|standing|get|getting) up (?:too )?(?:fast|quick\w*)",
            r"excit\w*",
        ),
    ),
    # --- fever of 38 C / 100.4 F or more
    _Rule(
        "fever",
        _phrases(
            r"fever\w*",
            "febrile",
            r"high (?:temp|temperature)",
            "burning up",
            r"temp(?:erature)? (?:is |was |of )?(?:high|up|spiking|through the roof)",
        ),
        _STRONG,
        check=_fever_reading,
    ),
    _Rule("fever", _phrases(r"(?<![\d./+])(?:3[89]|4[0-3]|10[0-9])(?:\.\d{1,2})?"), _STRONG, check=_fever_number),
    # Speech-to-text can spell the reading out.
    _Rule(
        "fever",
        _phrases(
            r"(?:thirty eight|thirty nine|forty(?: one| two)?)(?: point \w+)?(?! weeks?\b)",
            r"(?:a |one )?hundred and (?:one|two|three|four)(?: point \w+)?(?! weeks?\b)",
            r"(?:a |one )?hundred point (?:four|five|six|seven|eight|nine)",
        ),
        _STRONG,
        check=_fever_spoken,
    ),
    # --- severe swelling of the face or hands
    _Rule(
        "swelling",
        _phrases(
            r"(?:face|hands?|fingers?|eyes|eyelids?|cheeks?|lips?)\b[^|]{0,40}?\b(?:swollen|swelling|swelled|swell|swells"
            r"|puffy|puffed|puffing|puffiness|blown up|huge|massive)",
            r"(?:swollen|swelling|swelled|puffy|puffed|puffiness)\b[^|]{0,25}?\b(?:face|hands?|fingers?|eyes|eyelids?"
            r"|cheeks?|lips?)",
        ),
        _WEAK,
        severity=(
            _phrases(
                r"sudden(?:ly)?",
                "overnight",
                "out of nowhere",
                "all of a sudden",
                "really",
                "very",
                "so",
                r"severe(?:ly)?",
                "huge",
                "massive",
                "blown up",
                "balloon",
                "fast",
                "quickly",
                "rapidly",
                "cant get",
                "digging",
                r"barely recogni[sz]e",
                "right up",
                r"extreme(?:ly)?",
                "worse",
                "bad",
                "crazy",
            ),
        ),
    ),
    _Rule(
        "swelling",
        _phrases(
            r"cant get (?:my |her )?(?:wedding )?rings? off",
            r"rings? (?:is |are )?(?:digging|too tight|stuck|wont come off)",
        ),
        _MILDABLE,
    ),
    # --- a painful, swollen or red leg (a clot)
    _Rule(
        "leg_clot",
        _phrases(
            "calf",
            "calves",
            "leg",
            "thigh",
            r"behind (?:my |her |the )?knee",
            r"back of (?:my |her |the )?(?:leg|knee)",
        ),
        _STRONG,
        exclusion=_phrases(r"leg cramps?", r"restless legs?", "both"),
        check=_leg_clot_features,
    ),
    # --- severe belly pain
    _Rule(
        "belly_pain",
        _phrases(
            r"(?:stomach|tummy|belly|abdomen|abdominal|bump|uterus|womb|pelvis|groin)\b[^|]{0,30}?\b(?:pains?|ache\w*"
            r"|aching|hurts?|hurting|cramp\w*|sore|tender|stabbing)",
            r"(?:pains?|ache\w*|aching|cramp\w*|stabbing|hurts?|hurting)\b[^|]{0,25}?\b(?:stomach|tummy|belly|abdomen"
            r"|abdominal|bump|uterus|womb|ribs|low down|lower down|one side|right side|left side)",
            "cramps",
            "cramping",
            "stomachache",
            "tummyache",
            "bellyache",
        ),
        _WEAK,
        severity=(
            _SEVERE,
            _phrases(
                "sharp",
                "stabbing",
                "one side",
                "upper right",
                r"under (?:my |her )?ribs",
                r"through to (?:my |her )?back",
                "rock hard",
                "crying",
                "cant get comfy",
                "doubled",
            ),
        ),
        exclusion=_phrases(
            "round ligament",
            r"sneez\w*",
            r"kick\w*",
            "braxton",
            r"leg cramps?",
            r"legs?",
            "calf",
            "feet",
            "foot",
        ),
    ),
    # --- severe nausea and vomiting
    _Rule(
        "vomiting",
        _phrases(
            r"cant (?:even )?(?:keep|hold) (?:anything|any thing|nothing|water|food|fluids?|liquids?|my meds|meds|it|them)"
            r" down",
        ),
        _STRONG,
    ),
    _Rule(
        "vomiting",
        _phrases(
            r"vomit\w*",
            r"throw(?:ing|n)? up",
            "threw up",
            r"puk\w*",
            "being sick",
            "been sick",
            "was sick",
            r"sick (?:all|every|constantly|non)",
            r"nause\w*",
            "morning sickness",
            "hyperemesis",
            "hg",
        ),
        _WEAK,
        severity=(
            _phrases(
                r"cant (?:even )?(?:keep|hold)",
                "not staying down",
                r"non ?stop",
                r"constant(?:ly)?",
                r"(?:cant|wont|doesnt) stop",
                r"every time i (?:eat|drink)",
                r"(?<=\d )times",
                r"(?:ten|twenty|several|many|loads of|so many) times",
                "everything",
                r"dehydrat\w*",
                r"(?:hasnt|havent|not|no) (?:peed|weed|pee|wee)",
                r"dark (?:pee|urine|wee)",
                "blood",
                "bloody",
                r"severe(?:ly)?",
                "unbearable",
                "extreme",
                r"lost (?:\d+|a lot of) ?(?:kg|kgs|kilos|lbs|pounds|weight)",
                "hyperemesis",
                "hg",
                r"(?:so|really|very) weak",
                "all night",
                "days straight",
                r"for (?:\d+|two|three|four|five|a few|few|several) (?:days|hours)",
            ),
        ),
        exclusion=_phrases(r"feeds?", "feeding", "bottle", r"spit\w*", r"posset\w*", r"(?:week|month|day) old"),
    ),
    # --- foul-smelling discharge after birth
    _Rule(
        "postpartum_discharge",
        _phrases(
            r"(?:foul|bad|rotten|fishy|nasty|horrible|awful|funny|weird|strange|strong|gross) ?(?:smell\w*|odou?r\w*)",
            r"smell\w* (?:really |so |very |a bit |kinda |kind of |quite )?(?:bad|foul|rotten|off|fishy|nasty|horrible"
            r"|awful|funny|weird|strange|strong|gross|disgusting|like)",
            r"stink\w*",
            r"reek\w*",
            "smelly",
            r"(?:green|greenish|yellow|grey|gray) discharge",
        ),
        _STRONG,
        check=_discharge_postpartum,
    ),
    # --- overwhelming tiredness
    _Rule(
        "exhaustion",
        _phrases(
            "exhausted",
            "exhaustion",
            "tired",
            "tiring",
            "tiredness",
            r"fatigue\w*",
            "wiped out",
            "drained",
            "worn out",
            "knackered",
            "shattered",
            "no energy",
            r"(?:so|really|very|too) weak",
            "weakness",
        ),
        _WEAK,
        severity=(
            _phrases(
                "overwhelming",
                r"extreme(?:ly)?",
                "beyond",
                "unreal",
                r"cant (?:even )?(?:function|get out of bed|get up|stay awake|keep (?:my |her |his )?eyes open|do anything|lift"
                r"|hold|stand|walk|think|move|look after|care for)",
                r"can (?:barely|hardly)",
                "barely",
                "hardly",
                "too weak",
                "so weak",
                r"fell asleep (?:standing|while|mid)",
                "completely",
                r"sleeps? all day",
                "even after sleeping",
                "unwell",
                "shaking",
                r"collaps\w*",
                r"never (?:felt|been) (?:this|so)",
            ),
        ),
    ),
)


def _rule_in_context(rule: _Rule, message: _Message, match: re.Match[str]) -> bool:
    """Whether a rule's match is the writer's or a baby's sign, happening now: not negated, not
    about something else, not a general question, not past, not someone else's."""
    start, end = match.span()
    if message.negated(start):
        return False
    sentence_start, sentence_end = message.sentence(start, end)
    if rule.exclusion is not None and message.search(rule.exclusion, sentence_start, sentence_end):
        return False
    general = message.search(_GENERAL_QUESTION, sentence_start, start)
    if general is not None and message.search(_CURRENT, general.end(), start) is None:
        return False
    if message.search(_HISTORY, sentence_start, sentence_end) and not message.search(
        _HISTORY_RESET, sentence_start, sentence_end
    ):
        return False
    # Someone else's sign ("my husband has chest pain"), as the lexicons' context reads it.
    if someone_else_named(before=message.text[sentence_start:start]):
        return False
    # One that is over ("had a bleed at 20 weeks, nothing since"), asked about in case or for
    # knowledge, or a figure of speech, as the lexicons' context (ConText) reads it; unless the
    # sentence goes on to say it is happening now ("earlier it was a little, now it's running down").
    if not message.search(_HISTORY_RESET, end, sentence_end) and not mention_in_scope(
        sentence=message.text[sentence_start:sentence_end],
        start=start - sentence_start,
        end=end - sentence_start,
        sign=rule.sign,
    ):
        return False
    return True


def _rule_severe(rule: _Rule, message: _Message, match: re.Match[str]) -> bool:
    """Whether a match in context is severe enough for its rule to fire."""
    start, end = match.span()
    sentence_start, sentence_end = message.sentence(start, end)
    if rule.strength == _WEAK and not any(
        message.search(phrases, sentence_start, sentence_end) for phrases in rule.severity
    ):
        return False
    if (
        rule.strength == _MILDABLE
        and message.mild(start, end)
        and not message.search(_SEVERE, sentence_start, sentence_end)
    ):
        return False
    return rule.check is None or rule.check(message, match, sentence_start, sentence_end)


# --- Non-emergency categories ------------------------------------------------------------------

_CATEGORIES: tuple[tuple[str, _Phrases], ...] = (
    (
        "mental_health",
        _phrases(
            r"depress\w*",
            "anxious",
            "anxiety",
            r"panic\w*",
            "low mood",
            r"(?:feel|feeling|felt) (?:so |really |very |a bit |kind of )?(?:low|down|sad|numb|empty|hopeless|worthless"
            r"|alone|lonely|overwhelmed|guilty)",
            "baby blues",
            "ppd",
            "pnd",
            r"stress\w*",
            r"overwhelm\w*",
            "lonely",
            r"(?<=bad )(?:mum|mom|mother)",
            "failing",
            "guilt",
            "guilty",
            r"bond(?:ed|ing)?",
            "mood swings",
            "moody",
            r"therap\w*",
            r"counsel\w*",
            r"flashbacks?",
            r"traumati\w*",
            "trauma",
            "intrusive thoughts",
            "ocd",
            "ptsd",
            "mental health",
            "miserable",
            "hopeless",
            r"suicid\w*",
            "sertraline",
            "zoloft",
            "fluoxetine",
            "prozac",
            "citalopram",
            "escitalopram",
            "lexapro",
            r"antidepressants?",
            r"ssris?",
            r"self ?harm",
            "cant stop crying",
            r"cry(?:ing)? (?:every day|all the time|constantly|a lot)",
            r"(?<=i )cry",
            r"(?:scared|terrified|nervous|worried) (?:about|of) (?:giving birth|the birth|labou?r)",
        ),
    ),
    (
        "medication",
        _phrases(
            "meds",
            r"medications?",
            r"medicines?",
            r"pills?",
            r"tablets?",
            r"drugs?",
            r"prescri\w*",
            r"doses?",
            "dosage",
            r"painkillers?",
            "pain relief",
            "tylenol",
            "paracetamol",
            "acetaminophen",
            "ibuprofen",
            "advil",
            "nurofen",
            "motrin",
            "aspirin",
            "codeine",
            "co codamol",
            "naproxen",
            r"antibiotics?",
            "amoxicillin",
            "penicillin",
            "nitrofurantoin",
            r"antihistamines?",
            "loratadine",
            "cetirizine",
            "zyrtec",
            "claritin",
            "benadryl",
            "piriton",
            "sertraline",
            "zoloft",
            "fluoxetine",
            "prozac",
            "citalopram",
            "escitalopram",
            "lexapro",
            r"antidepressants?",
            r"ssris?",
            "melatonin",
            "insulin",
            "metformin",
            "labetalol",
            "nifedipine",
            "levothyroxine",
            "thyroxine",
            "gaviscon",
            "tums",
            "rennie",
            "omeprazole",
            "ranitidine",
            "nasal spray",
            r"decongestants?",
            "sudafed",
            "cold and flu",
            "lemsip",
            "hydrocortisone",
            r"steroids?",
            "retinol",
            r"retinoids?",
            "accutane",
            "adderall",
            "ritalin",
            "methylphenidate",
            "epidural",
            "gas and air",
            "pethidine",
            "morphine",
            r"vaccin\w*",
            "jab",
            "flu shot",
            r"immuni[sz]ation",
            "tdap",
            "heparin",
            "clexane",
            r"blood thinners?",
            "progesterone",
            "cyclizine",
            "ondansetron",
            "zofran",
            "diclegis",
            "unisom",
            r"laxatives?",
            "lactulose",
            "senna",
            "canesten",
            "clotrimazole",
            "fluconazole",
            r"(?:what|anything) (?:can|should) i take",
            r"(?:safe|ok|okay) to take",
        ),
    ),
    (
        "medical",
        _phrases(
            r"pains?",
            r"aches?",
            "aching",
            r"hurts?",
            "hurting",
            "sore",
            r"cramp\w*",
            r"bleed\w*",
            "bled",
            "blood",
            "spotting",
            "discharge",
            "lochia",
            r"headaches?",
            r"migraines?",
            r"dizz\w*",
            r"faint\w*",
            r"nause\w*",
            "sick",
            r"vomit\w*",
            "threw up",
            r"throw\w* up",
            "morning sickness",
            "swollen",
            "swelling",
            "puffy",
            r"itch\w*",
            "rash",
            r"fever\w*",
            "temp",
            "temperature",
            "cold",
            "flu",
            r"cough\w*",
            "sore throat",
            "runny nose",
            "blocked nose",
            r"congest\w*",
            r"infections?",
            "uti",
            "thrush",
            "yeast",
            r"constipat\w*",
            "piles",
            r"h(?:a)?emorrhoids",
            "heartburn",
            "reflux",
            "indigestion",
            "blood pressure",
            "bp",
            r"pre ?eclampsia",
            "eclampsia",
            "diabetes",
            "glucose",
            "cholestasis",
            "previa",
            r"an(?:a)?emi\w*",
            r"(?:iron )?levels",
            "asthma",
            "thyroid",
            r"symptoms?",
            "scar",
            "wound",
            "stitches",
            "numb",
            r"tingl\w*",
            "carpal tunnel",
            "spd",
            r"pelvic (?:pain|pressure)",
            "pressure",
            r"sweat\w*",
            r"hair (?:loss|falling out)",
            "rhesus",
            "rh negative",
            "vbac",
            r"risks?",
            "colic",
            "engorged",
            "mastitis",
            "cracked",
            "warning signs",
            "out of breath",
            "short of breath",
            r"breathe?",
            "breathing",
            "heart rate",
            "pulse",
            r"leak\w*",
            "incontinence",
            "tired",
            "exhausted",
            "fatigue",
            "vision",
            r"eyes? test\w*",
            "eyes tested",
            "restless legs",
            r"go to (?:the )?hospital",
            r"clots?",
            "seizure",
            "blurry",
            "chest",
            r"palpitations?",
            "stomach",
            "fluid",
        ),
    ),
    (
        "nutrition",
        _phrases(
            "eat",
            "eating",
            "ate",
            r"foods?",
            "diet",
            r"meals?",
            r"snack\w*",
            "dinner",
            "lunch",
            "breakfast",
            r"recipes?",
            "coffee",
            "caffeine",
            "tea",
            "wine",
            "alcohol",
            "beer",
            "sushi",
            "fish",
            "tuna",
            "salmon",
            "cheese",
            "brie",
            r"eggs?",
            "meat",
            "deli",
            "pate",
            "liver",
            "vegan",
            "vegetarian",
            "protein",
            "iron",
            "calcium",
            "folic",
            "folate",
            r"vitamins?",
            r"supplements?",
            "calories",
            "weight gain",
            "gain weight",
            "how much weight",
            r"nutrition\w*",
            r"cravings?",
            "hungry",
            "pineapple",
            "spicy",
            "spinach",
            r"smoothies?",
            "fluids",
            r"drink\w* (?:\w+ )?water",
            "water a day",
            "milk supply",
            "milk",
            "formula",
            "solids",
            "honey",
            r"breastfe\w*",
            r"feeds?",
            "feeding",
            r"energy drinks?",
            "crackers",
        ),
    ),
    (
        "pregnancy",
        _phrases(
            r"pregnan\w*",
            r"(?<=\d )weeks",
            r"trimesters?",
            "bump",
            "newborn",
            "fetus",
            "foetus",
            "due date",
            "due in",
            r"labou?r",
            r"contractions?",
            "braxton",
            "birth",
            "gave birth",
            "delivery",
            "csection",
            "epidural",
            r"midwi(?:fe|ves)",
            "ob",
            "obgyn",
            "ultrasound",
            "scan",
            "postpartum",
            "lochia",
            r"breastfe\w*",
            "colostrum",
            "placenta",
            "umbilical",
            r"kick\w*",
            "full term",
            "waters",
            "sweep",
            "perineal",
            "conceive",
            "conception",
            "ivf",
            r"miscarr\w*",
            "stillbirth",
            "baby blues",
            "skin to skin",
            r"bab(?:y|ies) (?:move|moving|movements|sleep\w*|feed\w*|size)",
            "boy or (?:a )?girl",
            "morning sickness",
            "preeclampsia",
            "gestational",
            "vbac",
            "rhesus",
            "anterior placenta",
            "twins",
            "water birth",
            "station",
            "hospital bag",
            "birth plan",
            "pregnancy test",
            r"(?:\d+ )?months? old",
            r"(?:week|month|day) old",
            "bathe a newborn",
            "sleeping through the night",
        ),
    ),
)


def _first_word_index_build() -> dict[str, tuple[int, ...]]:
    """Each way a phrase list can begin (see `_first_words`), with the lists that begin that way."""
    index: dict[str, set[int]] = defaultdict(set)
    for phrases in _ALL_PHRASES:
        for first_word in phrases.first_words:
            index[first_word].add(phrases.index)
    return {first_word: tuple(sorted(indexes)) for first_word, indexes in index.items()}


# Built once every phrase list above has registered itself.
_FIRST_WORD_INDEX = _first_word_index_build()


# The triage's layers, each of which can find emergency signs: the English phrase rules above, the
# readings of chats/safety/measurements.py (blood pressure, temperature, bleeding rate, contractions),
# the other languages' lexicons of chats/safety/lexicons.py, and the statistical model of
# chats/safety/statistical.py, asked only when the others found nothing.
HAND_WRITTEN_LAYERS: tuple[str, ...] = ("rules", "measurements", "lexicons")
LAYERS: tuple[str, ...] = (*HAND_WRITTEN_LAYERS, "statistical")


def statistical_consulted(*, signs: Collection[str], categories: Collection[str], set_aside: bool) -> bool:
    """Whether the statistical layer is asked, given what the hand-written layers found.

    Not when they found a sign, nor when they read one and set it aside (negated, over, asked
    about, someone else's: the layer knows words, not whose they are or when), nor when they read
    the message as a mental-health concern: low mood, anxiety and tears after a birth share much
    of their wording with the crises the layer learnt from, while a crisis is what the self-harm
    rules name. On the tuning parts hardly any message read so was an emergency, and the layer
    raised many that were not.
    """
    return not signs and not set_aside and "mental_health" not in categories


def message_classify(*, text: str, layers: tuple[str, ...] = LAYERS) -> Classification:
    """Safety categories and emergency signs of one message, most serious first.

    `layers` leaves layers out, so that each can be measured alone (`safety_report`).
    """
    message = _Message(text)
    signs: set[str] = set()
    # Whether a layer read a sign and set it aside as negated, past, asked about or someone else's.
    set_aside = False
    if "rules" in layers:
        for rule in _RULES:
            if rule.sign in signs:
                continue
            for match in message.matches(rule.phrases):
                if not _rule_in_context(rule, message, match):
                    set_aside = True
                elif _rule_severe(rule, message, match):
                    signs.add(rule.sign)
                    break
    if "measurements" in layers:
        signs.update(reading.sign for reading in readings_find(text=text))
    if "lexicons" in layers:
        reading = lexicon_read(text=text)
        signs.update(reading.signs)
        set_aside = set_aside or reading.set_aside
    found = {category for category, phrases in _CATEGORIES if message.search(phrases) is not None}
    consulted = statistical_consulted(signs=signs, categories=found, set_aside=set_aside)
    if "statistical" in layers and consulted:
        if statistical_emergency(text=text):
            signs.add(RESEMBLES_EMERGENCY)
    if signs:
        found.add("emergency")
        if signs & MENTAL_HEALTH_SIGNS:
            found.add("mental_health")
        if signs - MENTAL_HEALTH_SIGNS:
            found.add("medical")
    return Classification(
        detected_categories=tuple(category for category in CATEGORY_ORDER if category in found),
        emergency_signs=tuple(sign for sign in EMERGENCY_SIGNS if sign in signs),
        statistical_consulted=consulted,
    )
