"""Turn a question and the conversation before it into what is searched."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from qa_service import words
from qa_service.ingest.normalize import normalize

# Weight of earlier questions, most recent first: a follow-up borrows the topic of the
# questions before it, and older turns fade out. The question itself weighs 1, so a
# change of topic still wins over the conversation behind it...
HISTORY_WEIGHTS = (0.5, 0.25, 0.125)
# ...unless the question points back ("how many died there?", "what did he say?") or
# names almost nothing itself: then its subject is in the history, which counts double.
REFERRING_BOOST = 2.0
_REFERRING = frozenset(
    "there then it its they them their theirs he him his she her hers this that these "
    "those such".split()
)
_TO_BE = frozenset("is are was were be been".split())
_WORD_RE = re.compile(r"[^\W_]+")


@dataclass
class Query:
    """A question with the recent history that informs it."""

    question: str
    history: list[str]  # the earlier questions that count, most recent first

    @property
    def text(self) -> str:
        """The search text as shown to users: the question, then its context."""
        if not self.history:
            return self.question
        return f"{self.question} (context: {' | '.join(self.history)})"

    @property
    def refers_back(self) -> bool:
        """Whether the question leans on the conversation for its subject."""
        words = _WORD_RE.findall(normalize(self.question).casefold())
        pointing = any(
            w in _REFERRING and not (w == "there" and i and words[i - 1] in _TO_BE)
            for i, w in enumerate(words)  # "is there ...?" is existential, not "at that place"
        )
        return pointing or len(self.question_terms()) < 2

    @property
    def history_weights(self) -> list[float]:
        boost = REFERRING_BOOST if self.history and self.refers_back else 1.0
        return [w * boost for w in HISTORY_WEIGHTS[: len(self.history)]]

    @property
    def weights(self) -> list[float]:
        return [1.0, *self.history_weights]

    @property
    def texts(self) -> list[str]:
        return [self.question, *self.history]

    def question_terms(self) -> list[str]:
        return words.terms(self.question)

    def history_terms(self) -> list[str]:
        own = set(self.question_terms())
        return [t for t in words.terms(" ".join(self.history)) if t not in own]

    def vector(self, encoded: np.ndarray) -> np.ndarray:
        """Combine the encoded question and history into one unit query vector."""
        combined = np.asarray(self.weights, dtype=np.float32) @ encoded
        norm = float(np.linalg.norm(combined))
        return combined / norm if norm else combined


def make_query(question: str, history: list[str] | tuple[str, ...] = ()) -> Query:
    """Normalise the question and keep the recent, non-empty history, newest first."""
    recent = [normalize(h) for h in reversed(list(history))]
    recent = [h for h in recent if h][: len(HISTORY_WEIGHTS)]
    return Query(normalize(question), recent)
