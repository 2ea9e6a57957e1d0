"""Every signal, in one list: fusion, explain, the OpenAPI document, the CLI and evaluation
all read it. A new signal is a module beside this one and its entry here."""

from __future__ import annotations

from qa_service.errors import InvalidInput
from qa_service.search.signals.alike import ALIKE_PASSAGE, ALIKE_SENTENCE
from qa_service.search.signals.answer_type import ANSWER_TYPE
from qa_service.search.signals.base import Signal
from qa_service.search.signals.consensus import CONSENSUS
from qa_service.search.signals.context import CONTEXT
from qa_service.search.signals.coverage import COVERAGE
from qa_service.search.signals.dense import DENSE
from qa_service.search.signals.event import EVENT
from qa_service.search.signals.known import KNOWN_NAMES
from qa_service.search.signals.lexical import LEXICAL
from qa_service.search.signals.missing import MISSING_TERMS
from qa_service.search.signals.names import NAMES
from qa_service.search.signals.phrases import PHRASES
from qa_service.search.signals.sentence import SENTENCE
from qa_service.search.signals.sentence_terms import SENTENCE_TERMS
from qa_service.search.signals.title import TITLE

SIGNALS: tuple[Signal, ...] = (DENSE, LEXICAL, SENTENCE, COVERAGE, SENTENCE_TERMS, PHRASES,
                               ANSWER_TYPE, NAMES, TITLE, CONTEXT, CONSENSUS, MISSING_TERMS,
                               EVENT, KNOWN_NAMES, ALIKE_SENTENCE, ALIKE_PASSAGE)
BY_NAME = {s.name: s for s in SIGNALS}


def signal(name: str) -> Signal:
    """Return the signal called `name`, or say which exist."""
    try:
        return BY_NAME[name]
    except KeyError:
        raise InvalidInput(f"unknown signal {name!r}: expected one of "
                           f"{', '.join(BY_NAME)}") from None


def hand_weights(overrides: str = "") -> dict[str, float]:
    """Return each signal's weight in the hand-set fusion, with `name=weight,...` overrides."""
    weights = {s.name: s.weight for s in SIGNALS}
    for item in filter(None, (part.strip() for part in overrides.split(","))):
        name, sep, value = item.partition("=")
        try:
            weight = float(value) if sep else float("nan")
        except ValueError:
            weight = float("nan")
        if not weight >= 0:
            raise InvalidInput(f"weights: {item!r} is not name=weight with a weight >= 0")
        weights[signal(name.strip()).name] = weight
    return weights
