"""What kind of answer an English question asks for, and whether a sentence holds one.

A question that asks "how many" is answered by a sentence with a number in it, one that
asks "when" by a sentence with a date or a time. Of two sentences that share the
question's words, the one that holds such an answer is the better evidence.
"""

from __future__ import annotations

import re

from qa_service.text.calendar import MONTHS, WEEKDAYS

_NUMBER_WORDS = (
    "one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|"
    "fifty|hundred|hundreds|thousand|thousands|million|millions|billion|billions|dozen|"
    "dozens|several|half"
)
_DAY_NAMES = "|".join(MONTHS + WEEKDAYS)

# Question patterns, tried in order; the first that matches names the answer type.
_QUESTIONS = [
    ("number", re.compile(
        r"\bhow (many|much|long|far|old|big|large|tall|high|often)\b|"
        r"\bwhat (percentage|percent|proportion|number|amount|size)\b", re.I)),
    ("date", re.compile(
        r"\bwhen\b|\b(what|which) (year|date|day|month|century|decade|time)\b", re.I)),
]
_ANSWERS = {
    "number": re.compile(rf"\d|\b({_NUMBER_WORDS})\b", re.I),
    "date": re.compile(
        rf"\b(1\d{{3}}|20\d{{2}})s?\b|\b({_DAY_NAMES}|century|centuries|decade|ago)\b|"
        r"\b\d+(st|nd|rd|th)\b|\b\d{1,2}[.:]\d\d(?!\d)", re.I),
}


def expected(question: str) -> str | None:
    """Return the answer type a question asks for, or None when it asks for none we know."""
    for kind, pattern in _QUESTIONS:
        if pattern.search(question):
            return kind
    return None


def holds(kind: str | None, sentence: str) -> bool:
    """Whether `sentence` contains an answer of the expected kind."""
    return kind is not None and _ANSWERS[kind].search(sentence) is not None
