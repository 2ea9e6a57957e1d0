"""Words of like meaning: how much of a question's term weight a text meets, word for word.

"How many died" is answered by "killed five": a question's word counts as met by a text
holding a word whose vector is close to its own (cosine >= ALIKE_MIN), by that cosine,
and as met in full by the word itself. Word vectors are the build's (store.words); a
question's word the corpus never uses is encoded once and remembered.
"""

from __future__ import annotations

from collections import OrderedDict
from functools import lru_cache

import numpy as np

from qa_service.encoders import Encoder
from qa_service.store.words import WordVectors
from qa_service.text import STOPWORDS, TOKEN_RE, fold, tokens, vector_words
from qa_service.text.tokens import VECTOR_WORD_MIN

# Fitted by eye on word pairs, never on evaluation questions: synonyms and inflections
# ("died"/"killed" 0.79, "injured"/"wounded" 0.64, "policemen"/"officers" 0.82) score
# above it, words that merely share a topic ("killed"/"injured" 0.40, "shooting"/"attack"
# 0.46) below.
ALIKE_MIN = 0.6
# Question words the corpus lacks, encoded and remembered per encoder (bounded: a server
# sees words without end).
REMEMBERED = 4096

# Texts whose words are remembered: passages and their sentences come back question after
# question (bounded, as a server sees passages without end in a large corpus).
TEXTS_REMEMBERED = 8192

_remembered: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()


@lru_cache(maxsize=TEXTS_REMEMBERED)
def located_words(text: str) -> tuple[tuple[int, ...], tuple[str, ...]]:
    """Return where in `text` its words with a vector start, and those words (folded), as
    `vector_words` reads them, each time it holds one: sentences take theirs by offset."""
    if text.isascii():  # folding keeps every offset: one pass over the folded text
        found = [(m.start(), m.group()) for m in TOKEN_RE.finditer(text.lower())]
    else:
        found = [(m.start(), fold(m.group())) for m in TOKEN_RE.finditer(text)]
    kept = [(at, w) for at, w in found
            if len(w) >= VECTOR_WORD_MIN and w.isalpha() and w not in STOPWORDS]
    return tuple(at for at, _ in kept), tuple(w for _, w in kept)


@lru_cache(maxsize=TEXTS_REMEMBERED)
def _tokens(text: str) -> frozenset[str]:
    return frozenset(tokens(text))


def _encoded(encoder: Encoder, words: list[str]) -> dict[str, np.ndarray]:
    """Return the vectors of words the corpus lacks, encoding those not remembered."""
    name = getattr(encoder, "name", "")
    missing = [w for w in words if (name, w) not in _remembered]
    if missing:
        for word, vector in zip(missing, encoder.encode(missing)):
            _remembered[(name, word)] = np.asarray(vector, dtype=np.float32)
        while len(_remembered) > REMEMBERED:
            _remembered.popitem(last=False)
    found = {}
    for w in words:
        if (name, w) in _remembered:
            _remembered.move_to_end((name, w))
            found[w] = _remembered[(name, w)]
    return found


class Alike:
    """The terms of one question and their vectors, ready to score texts."""

    def __init__(self, weights: dict[str, float], words: WordVectors,
                 encoder: Encoder | None = None):
        self.words = words
        total = sum(weights.values()) or 1.0
        self.terms = list(weights)
        self.weights = np.array([weights[t] / total for t in self.terms], dtype=np.float32)
        wordy = [t for t in self.terms if vector_words(t) == [t]]
        stored = words.rows(wordy)
        vectors = dict(zip(stored, words.vectors(list(stored.values())))) if stored else {}
        lacking = [t for t in wordy if t not in stored]
        if lacking and encoder is not None:
            vectors.update(_encoded(encoder, lacking))
        # Terms without a vector (numbers, short words) count only where written.
        self.vectored = [i for i, t in enumerate(self.terms) if t in vectors]
        self.matrix = np.stack([vectors[self.terms[i]] for i in self.vectored]) \
            if self.vectored else np.zeros((0, 1), dtype=np.float32)
        self.plain = [i for i, t in enumerate(self.terms) if t not in vectors]
        # Each candidate word's cosine with each term (0 below ALIKE_MIN), worked out
        # once a question: the sentence and the passage signals read the same words.
        self._column: dict[str, int] = {}
        self._sims = np.zeros((len(self.vectored), 0), dtype=np.float32)

    def _columns(self, words: set[str]) -> dict[str, int]:
        """Return the column of `_sims` of each word with a vector, adding the new ones."""
        rows = self.words.rows([w for w in words if w not in self._column])
        if rows:
            sims = self.matrix @ self.words.vectors(list(rows.values())).T
            sims = np.where(sims >= ALIKE_MIN, np.minimum(sims, 1.0), 0.0)
            base = self._sims.shape[1]
            self._sims = np.concatenate([self._sims, sims.astype(np.float32)], axis=1)
            self._column.update((w, base + k) for k, w in enumerate(rows))
        return self._column

    def shares(self, texts: list[str], words: list[tuple[str, ...]] | None = None
               ) -> np.ndarray:
        """Return, for each text, the share of the question's term weight it meets.

        `words`: each text's words with a vector (`located_words`), if known already.
        """
        out = np.zeros(len(texts), dtype=np.float32)
        if not texts or not self.terms:
            return out
        met = np.zeros((len(self.terms), len(texts)), dtype=np.float32)
        if self.plain:
            for j, text in enumerate(texts):
                held = _tokens(text)
                for i in self.plain:
                    met[i, j] = self.terms[i] in held
        if self.vectored:
            per_text = words if words is not None else \
                [located_words(text)[1] for text in texts]
            column = self._columns({w for ws in per_text for w in ws})
            if column:
                sims = self._sims
                cols, starts, held = [], [], []
                for j, ws in enumerate(per_text):
                    found = [column[w] for w in ws if w in column]
                    if found:
                        starts.append(len(cols))
                        cols.extend(found)
                        held.append(j)
                if held:
                    best = np.maximum.reduceat(sims[:, cols], starts, axis=1)
                    met[np.ix_(self.vectored, held)] = best
        return self.weights @ met
