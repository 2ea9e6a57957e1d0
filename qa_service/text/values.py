"""Figures and dates in a sentence, as a report gives the answer to "how many" or "when".

Where several reports answer "how many died?", each gives its own figure ("Six people",
"17 people", "more than 20 people"); `values` finds them, and says which one the
question's words sit beside, so that an answer can say whether its sources agree. By
pattern, as the answer kind is read without spaCy (`search/answer_type.py`): a number
that is part of a date ("June 6"), a time ("14:28"), a year or an age ("27-year-old")
is not a count, and a date is compared field by field ("June 5 at 2.28pm" and "14:28"
agree: both say 14:28, and only one says the day).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from qa_service.text.calendar import MONTHS, WEEKDAYS
from qa_service.text.stem import content_key
from qa_service.text.tokens import TOKEN_RE

_UNITS = ("zero one two three four five six seven eight nine ten eleven twelve thirteen "
          "fourteen fifteen sixteen seventeen eighteen nineteen").split()
_TENS = "twenty thirty forty fifty sixty seventy eighty ninety".split()
NUMBER_WORDS = {w: i for i, w in enumerate(_UNITS)} | {
    w: 10 * (i + 2) for i, w in enumerate(_TENS)} | {"a dozen": 12, "hundred": 100}
# Counts a report gives without a figure: kept as words, never equal to a number.
VAGUE = ("dozens", "scores", "hundreds", "thousands")
QUALIFIERS = ("more than", "fewer than", "less than", "at least", "up to", "over", "under",
              "nearly", "almost", "about", "around", "approximately", "roughly", "some")
_SCALES = {"thousand": 10**3, "million": 10**6, "billion": 10**9}

_word = "|".join(sorted(NUMBER_WORDS, key=len, reverse=True))
_tens = "|".join(_TENS)
_NUMBER_RE = re.compile(
    rf"\b(?P<qual>(?:{'|'.join(QUALIFIERS)})\s+)?"
    rf"(?P<num>\d{{1,3}}(?:,\d{{3}})+|\d+(?:\.\d+)?|(?:{_tens})-(?:{_word})|{_word}|"
    rf"{'|'.join(VAGUE)})\b"
    rf"(?P<scale>\s+(?:{'|'.join(_SCALES)}))?", re.I)
_MONTH = r"(?P<month>" + "|".join(rf"{m[:3]}(?:{m[3:]})?" for m in MONTHS) + r")\.?"
_DATE_RE = re.compile(
    rf"\b(?:(?P<day1>\d{{1,2}})(?:st|nd|rd|th)?\s+{_MONTH}|{_MONTH.replace('month', 'month2')}"
    rf"\s+(?P<day2>\d{{1,2}})(?:st|nd|rd|th)?\b|{_MONTH.replace('month', 'month3')}\b)"
    rf"(?:,?\s+(?P<year>1\d{{3}}|20\d{{2}}))?"
    rf"|\b(?P<weekday>{'|'.join(WEEKDAYS)})\b"
    rf"|\b(?P<year2>1[5-9]\d\d|20\d\d)\b", re.I)
_TIME_RE = re.compile(
    r"\b(?P<hour>\d{1,2})(?:[:.](?P<minute>\d\d))?\s*(?P<half>[ap]\.?m\.?)(?!\w)"
    r"|\b(?P<hour24>[01]?\d|2[0-3]):(?P<minute24>[0-5]\d)\b", re.I)
# How far from a value (in content words) the question's words count as its subject:
# "18 people had died", "killed 38" (the counted noun follows, the verb before or soon
# after).
WORDS_AFTER = 4
WORDS_BEFORE = 2


@dataclass(frozen=True)
class Value:
    """One figure or date as the sentence writes it, and what it says, for comparing."""

    text: str
    key: tuple  # ("n", qualifier, number) | ("vague", word) | date fields (None: unsaid)
    start: int
    end: int

    @property
    def shown(self) -> str:
        """The value as an answer shows it: a count in digits ("Six" -> "6"), else as
        written."""
        if self.key[0] == "n":
            _, qualifier, number = self.key
            figure = f"{number:,}" if isinstance(number, int) else f"{number:g}"
            return f"{qualifier} {figure}" if qualifier else figure
        return self.key[1] if self.key[0] == "vague" else self.text

    def agrees(self, other: Value) -> bool:
        """Whether two values say the same: equal, or for dates equal where both speak."""
        if self.key[0] != other.key[0]:
            return False
        if self.key[0] != "date":
            return self.key == other.key
        return all(a is None or b is None or a == b for a, b in zip(self.key, other.key))


def numbers(sentence: str) -> list[Value]:
    """Return the counts a sentence gives, leaving out dates, times, years and ages."""
    dated = [(m.start(), m.end()) for m in _DATE_RE.finditer(sentence)]
    dated += [(m.start(), m.end()) for m in _TIME_RE.finditer(sentence)]
    found = []
    for m in _NUMBER_RE.finditer(sentence):
        start, end = m.start("num"), m.end()
        if any(s <= start < e for s, e in dated) or _is_age_or_unit(sentence, end):
            continue
        word = m.group("num").lower()
        qualifier = (m.group("qual") or "").strip().lower() or None
        if word in VAGUE:
            key = ("vague", word)
        else:
            number = _number(word)
            if number is None:
                continue
            if m.group("scale"):
                number *= _SCALES[m.group("scale").strip().lower()]
                number = int(number) if float(number).is_integer() else number
            key = ("n", qualifier, number)
        found.append(Value(sentence[m.start():end].strip(), key, m.start(), end))
    return found


def dates(sentence: str) -> list[Value]:
    """Return the dates and times of day a sentence gives, a time joined to its day."""
    found = []
    for m in _DATE_RE.finditer(sentence):
        month = m.group("month") or m.group("month2") or m.group("month3")
        day = m.group("day1") or m.group("day2")
        year = m.group("year") or m.group("year2")
        if m.group("month3") and not year and m.group("month3").islower():
            continue  # "may", "march" in lower case are verbs more often than months
        key = ("date", _month(month), int(day) if day else None, int(year) if year else None,
               (m.group("weekday") or "").lower() or None, None)
        found.append(Value(m.group(), key, m.start(), m.end()))
    for m in _TIME_RE.finditer(sentence):
        minute = int(m.group("minute") or m.group("minute24") or 0)
        if m.group("hour24") is not None:
            hour = int(m.group("hour24"))
        else:
            hour = int(m.group("hour")) % 12 + (12 if m.group("half").lower()[0] == "p" else 0)
        time = Value(m.group(), ("date", None, None, None, None, (hour, minute)),
                     m.start(), m.end())
        # "June 5 at 2.28pm": one value, the day and its time.
        day = next((d for d in found if 0 <= m.start() - d.end <= 4), None)
        if day is not None:
            found.remove(day)
            time = Value(sentence[day.start:m.end()], day.key[:5] + (time.key[5],),
                         day.start, m.end())
        found.append(time)
    return sorted(found, key=lambda v: v.start)


def values(kind: str | None, sentence: str) -> list[Value]:
    """Return the values of an asked kind ("number" or "date") in a sentence."""
    if kind in ("number", "money", "quantity"):
        return numbers(sentence)
    if kind == "date":
        return dates(sentence)
    return []


def answer_value(kind: str | None, sentence: str, focus: dict[str, float]) -> Value | None:
    """Return the value of the asked kind that the question's words sit beside.

    `focus`: the keys of the question's words (its names left out: every report on the
    event names them) with their weights. The value with the most weight of them within
    WORDS_BEFORE words before and WORDS_AFTER after wins; when none has any, the first.
    """
    found = values(kind, sentence)
    if not found:
        return None
    words = [(m.start(), k) for m in TOKEN_RE.finditer(sentence)
             if (k := content_key(m.group())) is not None]  # content words only

    def weight(value: Value) -> float:
        before = [k for at, k in words if at < value.start][-WORDS_BEFORE:]
        after = [k for at, k in words if at >= value.end][:WORDS_AFTER]
        return sum(focus.get(k, 0.0) for k in set(before + after))

    return max(found, key=weight)  # max keeps the first of equals


def _number(word: str) -> int | float | None:
    if word[0].isdigit():
        number = float(word.replace(",", ""))
        return int(number) if number.is_integer() else number
    if "-" in word:
        tens, _, unit = word.partition("-")
        return NUMBER_WORDS.get(tens, 0) + NUMBER_WORDS.get(unit, 0)
    return NUMBER_WORDS.get(word)


def _month(name: str | None) -> int | None:
    return None if not name else [m[:3] for m in MONTHS].index(name[:3].lower()) + 1


def _is_age_or_unit(sentence: str, end: int) -> bool:
    """Whether a number is an age or a duration written as one word ("27-year-old")."""
    return re.match(r"-(year|month|week|day|hour)", sentence[end:end + 6], re.I) is not None
