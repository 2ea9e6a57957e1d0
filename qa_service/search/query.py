"""Analyse a question and the conversation before it, once, into what is searched."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from qa_service.config import RankingSettings
from qa_service.search.answer_type import expected
from qa_service.text import TOKEN_RE, content_keys, fold, normalize, terms

_DEFAULTS = RankingSettings()
# Words that point back to the conversation for their subject: pronouns, unless a name
# before them in the question is what they stand for ("California over its law")...
_PRONOUNS = frozenset(
    "there then it its they them their theirs he him his she her hers".split())
# ...and demonstratives, in a short question only ("When did this attack happen?"): in a
# long one they most often point ahead or inside it ("This artist is the first to ...",
# "a law that legalizes ...").
_DEMONSTRATIVES = frozenset("this that these those such".split())
DEMONSTRATIVE_TERMS = 4  # a question with fewer content words than this is short
# "this week", "that year": a time, not something said before.
_TIMES = frozenset(
    "week weekend weeks year years month months day days morning afternoon evening night "
    "tonight summer winter spring autumn fall season century decade time".split())
_TO_BE = frozenset("is are was were be been".split())
# Openings that continue the conversation rather than start a topic ("And in Almaty?",
# "What about the injured?"): an ellipsis whose subject is in the question before.
_CONTINUING = ("and", "also", "what about", "how about", "same for", "as for")


@dataclass(frozen=True)
class Query:
    """A question, the recent history that informs it, and everything read from them."""

    question: str  # normalised
    history: tuple[str, ...]  # the earlier questions that count, most recent first
    weights: tuple[float, ...]  # of the question (1), then of each history entry
    question_terms: tuple[str, ...]  # its content words, in order
    history_terms: tuple[str, ...]  # the history's content words the question lacks
    refers_back: bool  # the question leans on the conversation for its subject
    answer_kind: str | None  # the kind of answer asked for (answer_type), if known
    pairs: frozenset[tuple[str, str]]  # the question's adjacent content-word keys
    # Its content words written with a capital inside the question ("died in Almaty"):
    # names even when the corpus never mentions them.
    capitalised: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        """The search text as shown to users: the question, then its context."""
        if not self.history:
            return self.question
        return f"{self.question} (context: {' | '.join(self.history)})"

    @property
    def texts(self) -> tuple[str, ...]:
        """The texts encoded for the query vector, in the order of `weights`."""
        return (self.question, *self.history)

    @property
    def history_weight(self) -> float:
        """The weight of the most recent history entry (0 without history)."""
        return self.weights[1] if self.history else 0.0

    def vector(self, encoded: np.ndarray) -> np.ndarray:
        """Combine the encoded texts into one unit query vector."""
        combined = np.asarray(self.weights, dtype=np.float32) @ encoded
        norm = float(np.linalg.norm(combined))
        return combined / norm if norm else combined


def analyse(question: str, history: list[str] | tuple[str, ...] = (),
            ranking: RankingSettings = _DEFAULTS) -> Query:
    """Normalise the question, keep the recent non-empty history (newest first) when the
    question leans on it, and read the question's words, whether it points back, and the
    kind of answer it asks for."""
    question = normalize(question)
    recent = [normalize(h) for h in reversed(list(history))]
    recent = tuple(h for h in recent if h)[: len(ranking.history_weights)]
    own = terms(question)
    raw = TOKEN_RE.findall(question)  # its words as written, capitals kept
    refers_back = _refers_back(raw, own)
    # A question that names its own subject is searched alone: the conversation before
    # it would pull in its words ("deaths" into a question about the injured).
    boost = ranking.referring_boost if refers_back else ranking.self_contained_history
    if not boost:
        recent = ()
    weights = (1.0, *(w * boost for w in ranking.history_weights[: len(recent)]))
    own_set = set(own)
    history_terms = tuple(t for t in terms(" ".join(recent)) if t not in own_set)
    keys = content_keys(question)[1]
    capitalised = tuple(dict.fromkeys(
        folded for i, word in enumerate(raw)
        if _written_as_name(raw, i) and (folded := fold(word)) in own_set))
    return Query(question, recent, weights, tuple(own), history_terms, refers_back,
                 expected(question, ranking.answer_types), frozenset(zip(keys, keys[1:])),
                 capitalised)


def _written_as_name(raw: list[str], i: int) -> bool:
    """Whether the i-th word of a question is capitalised where no sentence opens."""
    return i > 0 and raw[i][:1].isupper()


def _refers_back(raw: list[str], own_terms: list[str]) -> bool:
    """Say whether a question (its words as written) leans on the conversation: it points
    back ("died there?", "what did he say?"), continues it ("And in Almaty?") or names
    almost nothing itself."""
    words = [fold(w) for w in raw]
    opening = " ".join(words[:2])
    if any(opening == c or opening.startswith(c + " ") for c in _CONTINUING):
        return True
    short = len(own_terms) < DEMONSTRATIVE_TERMS
    named = False  # a name written before this word, inside the question
    for i, w in enumerate(words):
        if w in _PRONOUNS and not named:
            # "is there ...?", "there are ..." are existential, not "at that place".
            if not (w == "there" and ((i and words[i - 1] in _TO_BE) or (
                    i + 1 < len(words) and words[i + 1] in _TO_BE))):
                return True
        elif w in _DEMONSTRATIVES and short and not (
                i + 1 < len(words) and words[i + 1] in _TIMES):
            return True
        named = named or _written_as_name(raw, i)
    return len(own_terms) < 2
