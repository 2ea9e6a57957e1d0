"""Words of like meaning: how much of a question's term weight a text meets, word for word.

"How many died" is answered by "killed five": a question's word counts as met by a text
holding a word whose vector is close to its own (cosine >= ALIKE_MIN), by that cosine,
and as met in full by the word itself. Word vectors are the build's (store.words); a
question's word the corpus never uses is encoded once and remembered.
"""

from __future__ import annotations

import re
from collections import OrderedDict

import numpy as np

from qa_service.encoders import Encoder
from qa_service.store.words import WordVectors
from qa_service.text import fold, located_vector_words, vector_words

# Fitted by eye on word pairs, never on evaluation questions: synonyms and inflections
# ("died"/"killed" 0.79, "injured"/"wounded" 0.64, "policemen"/"officers" 0.82) score
# above it, words that merely share a topic ("killed"/"injured" 0.40, "shooting"/"attack"
# 0.46) below.
ALIKE_MIN = 0.6
# Question words the corpus lacks, encoded and remembered per encoder (bounded: a server
# sees words without end).
REMEMBERED = 4096

_remembered: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()


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
        # Those found as whole tokens (runs of letters and digits, as TOKEN_RE reads them).
        self._plain = re.compile(
            r"(?<![^\W_])(?:" + "|".join(re.escape(self.terms[i]) for i in self.plain)
            + r")(?![^\W_])") if self.plain else None
        # The candidate words' cosines with the terms (0 below ALIKE_MIN), by word row in
        # `_rows` order: worked out once a question, read by both signals.
        self._rows = np.zeros(0, dtype=np.int64)
        self._sims = np.zeros((len(self.vectored), 0), dtype=np.float32)

    def _columns(self, rows: np.ndarray) -> np.ndarray:
        """Return the column of `_sims` of each word row, working out the new ones."""
        new = np.setdiff1d(rows, self._rows)
        if new.size:
            sims = self.matrix @ self.words.vectors(new.tolist()).T
            sims = np.where(sims >= ALIKE_MIN, np.minimum(sims, 1.0), 0.0).astype(np.float32)
            merged = np.concatenate([self._rows, new])
            order = np.argsort(merged, kind="stable")
            self._rows = merged[order]
            self._sims = np.concatenate([self._sims, sims], axis=1)[:, order]
        return np.searchsorted(self._rows, rows)

    def rows_of(self, text: str) -> np.ndarray:
        """Return the word-vector rows of the words of a text (a title) with a vector."""
        found = self.words.rows(list(dict.fromkeys(located_vector_words(text)[1])))
        return np.fromiter(found.values(), dtype=np.int64, count=len(found))

    def shares(self, texts: list[str], rows: list[np.ndarray] | None = None) -> np.ndarray:
        """Return, for each text, the share of the question's term weight it meets.

        `rows`: each text's words, as their rows in the word vectors (the build stores
        them for every passage, so passages are not tokenized here); None: read here.
        """
        if rows is None:
            rows = [self.rows_of(text) for text in texts]
        ends = np.cumsum([len(r) for r in rows], dtype=np.int64)
        bounds = np.stack([ends - [len(r) for r in rows], ends], axis=1) if len(rows) \
            else np.zeros((0, 2), dtype=np.int64)
        words = np.concatenate(rows) if len(rows) else np.zeros(0, dtype=np.int64)
        return self.segment_shares(words, bounds, texts)

    def segment_shares(self, words: np.ndarray, bounds: np.ndarray,
                       texts: list[str] | None) -> np.ndarray:
        """Return the share of the term weight met by each segment [a, b) of `words`.

        `texts`: each segment's text, read only for terms without a vector (numbers),
        if the question has any.
        """
        met = np.zeros((len(self.terms), len(bounds)), dtype=np.float32)
        if not len(bounds) or not self.terms:
            return met.sum(axis=0)
        if self.plain and texts is not None:
            index = {self.terms[i]: i for i in self.plain}
            for j, text in enumerate(texts):
                folded = text.lower() if text.isascii() else fold(text)
                for term in set(self._plain.findall(folded)):
                    met[index[term], j] = 1.0
        if self.vectored and len(words):
            columns = self._columns(np.asarray(words, dtype=np.int64))
            sims = self._sims[:, columns]
            # One reduceat over every segment: a column of zeros closes the last one, and
            # a segment without words (a == b) is read as meeting nothing.
            sims = np.concatenate([sims, np.zeros((len(sims), 1), np.float32)], axis=1)
            best = np.maximum.reduceat(sims, bounds.reshape(-1), axis=1)[:, ::2]
            best[:, bounds[:, 0] >= bounds[:, 1]] = 0.0
            met[self.vectored] = best
        return self.weights @ met
