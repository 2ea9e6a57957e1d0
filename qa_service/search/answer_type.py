"""What kind of answer an English question asks for, and whether a sentence holds one.

A question that asks "how many" is answered by a sentence with a number in it, one that
asks "when" by a sentence with a date or a time, "who" by one naming a person. Of two
sentences that share the question's words, the one that holds such an answer is the
better evidence.

By default (setting `answer_types` off) the kind asked is read by two question patterns,
"how many / what percentage" (a number) and "when / what year" (a date), and a
sentence is searched for one by two more (`holds`): no spaCy is loaded. With it on, the
kind asked comes from spaCy's tags of the question (`text.entities.answer_kind`), the
spans a sentence holds from the typed spans a build stores with each passage
(`text.entities.typed_spans`). `ACCEPTS` says, in this one place, which span kinds
answer which asked kind. An index built without stored spans falls back to the
sentence patterns, which know numbers and dates only.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Sequence
from functools import lru_cache

from qa_service.text.calendar import MONTHS, WEEKDAYS
from qa_service.text.entities import answer_kind, pipeline  # no spaCy until first used

# Asked kind -> the span kinds that answer it. A "who" is often answered by a company or
# a team ("Who bought the club?"), and an organisation by a person named as its face;
# "how long / how old" (quantity) by durations and ages, which OntoNotes marks DATE
# ("three years", "65 years old"); "how much money" by a bare number ("18 euros" the
# small model may read as a CARDINAL); "how many" by an amount or a quantity ("2 million
# dollars", "40 km").
ACCEPTS: dict[str, frozenset[str]] = {
    "person": frozenset({"person", "organisation"}),
    "organisation": frozenset({"organisation", "person"}),
    "place": frozenset({"place"}),
    "date": frozenset({"date"}),
    "number": frozenset({"number", "quantity", "money"}),
    "money": frozenset({"money", "number"}),
    "quantity": frozenset({"quantity", "number", "date"}),
}

# Questions whose kind is remembered (a server sees repeats, evaluation asks each
# question of several indexes); bounded, as questions come without end.
KIND_CACHE = 4096

_NUMBER_WORDS = (
    "one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|"
    "fifty|hundred|hundreds|thousand|thousands|million|millions|billion|billions|dozen|"
    "dozens|several|half"
)
_DAY_NAMES = "|".join(MONTHS + WEEKDAYS)

# The kind asked without spaCy (answer_types off): question patterns, tried in order;
# the first that matches names the kind. Only the two kinds `holds` can find by pattern.
_QUESTIONS = [
    ("number", re.compile(
        r"\bhow (many|much|long|far|old|big|large|tall|high|often)\b|"
        r"\bwhat (percentage|percent|proportion|number|amount|size)\b", re.I)),
    ("date", re.compile(
        r"\bwhen\b|\b(what|which) (year|date|day|month|century|decade|time)\b", re.I)),
]

# A sentence read by pattern (answer_types off, or an index without stored spans): a
# pattern for the span kinds it can tell from the text alone.
_PATTERNS = {
    "number": re.compile(rf"\d|\b({_NUMBER_WORDS})\b", re.I),
    "date": re.compile(
        rf"\b(1\d{{3}}|20\d{{2}})s?\b|\b({_DAY_NAMES}|century|centuries|decade|ago)\b|"
        r"\b\d+(st|nd|rd|th)\b|\b\d{1,2}[.:]\d\d(?!\d)", re.I),
}
# Money and quantities are written with digits or number words: the number pattern.
_PATTERN_OF = {"number": "number", "money": "number", "quantity": "number", "date": "date"}

Span = tuple[int, int, str]  # start, end (character offsets in the passage), kind


def load() -> None:
    """Load the pipeline the kinds are read with now, not on the first question (4-7 s
    and about 110 MB a process beside torch, once): Service.load calls it when the
    setting `answer_types` is on."""
    pipeline()


def expected(question: str, typed: bool = False) -> str | None:
    """Return the kind of answer a question asks for (one of `ACCEPTS`), or None.

    `typed` (the setting `answer_types`): from spaCy's tags (`asked`); otherwise by
    pattern, "number" or "date" or None, and spaCy is never called.
    """
    if typed:
        return asked(question)
    return next((kind for kind, pattern in _QUESTIONS if pattern.search(question)), None)


@lru_cache(maxsize=KIND_CACHE)
def asked(question: str) -> str | None:
    """Return the kind of answer spaCy's tags say a question asks for (remembered)."""
    return answer_kind(question)


def answers(kind: str | None, spans: Sequence[Span], start: int, end: int) -> bool:
    """Whether a typed span of an accepted kind lies within [start, end) of the passage.

    `spans`: the passage's stored typed spans, in order of their start.
    """
    if kind is None:
        return False
    accepted = ACCEPTS[kind]
    i = bisect_left(spans, (start,))
    while i < len(spans) and spans[i][0] < end:
        if spans[i][1] <= end and spans[i][2] in accepted:
            return True
        i += 1
    return False


def holds(kind: str | None, sentence: str) -> bool:
    """Whether `sentence` holds an answer of the kind asked, by pattern (answer_types
    off, or an index built without typed spans: it knows numbers and dates only)."""
    if kind is None:
        return False
    return any(_PATTERNS[p].search(sentence) is not None
               for p in {_PATTERN_OF[k] for k in ACCEPTS[kind] if k in _PATTERN_OF})
