"""Turn a question and the conversation before it into what is searched."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from qa_service.ingest.normalize import normalize
from qa_service.search import lexical

# Weight of earlier questions, most recent first: a follow-up ("how many died there?")
# borrows the topic of the questions before it, and older turns fade out. The question
# itself weighs 1, so a change of topic still wins over the conversation behind it.
HISTORY_WEIGHTS = (0.5, 0.25, 0.125)


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
    def weights(self) -> list[float]:
        return [1.0, *HISTORY_WEIGHTS[: len(self.history)]]

    @property
    def texts(self) -> list[str]:
        return [self.question, *self.history]

    def question_terms(self) -> list[str]:
        return lexical.terms(self.question)

    def history_terms(self) -> list[str]:
        own = set(self.question_terms())
        return [t for t in lexical.terms(" ".join(self.history)) if t not in own]

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
