"""Words of like meaning: how much of a question's term weight a text meets, word for word.

"How many died" is answered by "killed five": a question's word counts as met by a text
holding a word whose vector is close to its own (cosine >= ALIKE_MIN), by that cosine,
and as met in full by the word itself. Word vectors are the build's (store.words); a
question's word the corpus never uses is encoded once and remembered.
"""

from __future__ import annotations

import threading
from bisect import bisect_right
from collections import OrderedDict
from functools import lru_cache

import numpy as np

from qa_service.encoders import Encoder
from qa_service.store.words import WordVectors
from qa_service.text import fold, has_vector

# Fitted by eye on word pairs, never on evaluation questions: synonyms and inflections
# ("died"/"killed" 0.79, "injured"/"wounded" 0.64, "policemen"/"officers" 0.82) score
# above it, words that merely share a topic ("killed"/"injured" 0.40, "shooting"/"attack"
# 0.46) below.
ALIKE_MIN = 0.6
# Question words the corpus lacks, encoded and remembered per encoder (bounded: a server
# sees words without end).
REMEMBERED = 4096

_remembered: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()
_remembered_lock = threading.Lock()  # a server's request threads share it


def _encoded(encoder: Encoder, words: list[str]) -> dict[str, np.ndarray]:
    """Return the vectors of words the corpus lacks, encoding those not remembered."""
    name = getattr(encoder, "name", "")
    with _remembered_lock:
        found = {w: _remembered[(name, w)] for w in words if (name, w) in _remembered}
        for w in found:
            _remembered.move_to_end((name, w))
    missing = [w for w in words if w not in found]
    if missing:
        encoded = encoder.encode(missing)  # outside the lock: other questions go on
        with _remembered_lock:
            for word, vector in zip(missing, encoded):
                found[word] = _remembered[(name, word)] = np.asarray(vector, np.float32)
            while len(_remembered) > REMEMBERED:
                _remembered.popitem(last=False)
    return found


class Alike:
    """The terms of one question and their vectors, ready to score texts."""

    def __init__(self, weights: dict[str, float], words: WordVectors,
                 encoder: Encoder | None = None):
        self.words = words
        total = sum(weights.values()) or 1.0
        self.terms = list(weights)
        self.weights = np.array([weights[t] / total for t in self.terms], dtype=np.float32)
        wordy = [t for t in self.terms if has_vector(t)]
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
        self._plain_terms = [self.terms[i] for i in self.plain]
        self._plain_index = {self.terms[i]: i for i in self.plain}
        # The candidate words' cosines with the terms (0 below ALIKE_MIN), a row per word,
        # worked out once a question and read by both signals; `_at` holds each word's
        # row there (-1: not yet), a table as long as the vocabulary, so that passages'
        # words find their rows by indexing, without a sort or a search.
        self._at: np.ndarray | None = None
        self._sims = np.zeros((0, len(self.vectored)), dtype=np.float32)

    def _sims_of(self, words: np.ndarray) -> np.ndarray:
        """Return the cosines of each word (a word-vector row) with the vectored terms."""
        if self._at is None:
            self._at = np.full(len(self.words), -1, dtype=np.int64)
        at = self._at[words]
        unknown = words[at < 0]
        if unknown.size:
            # Each new word once, without a sort: of its copies, the one whose position
            # was written last into the table.
            self._at[unknown] = np.arange(len(unknown))
            new = unknown[self._at[unknown] == np.arange(len(unknown))]
            # Words by terms: BLAS's fast shape when the terms are few.
            sims = (self.words.vectors(new) @ self.matrix.T).astype(np.float32, copy=False)
            np.minimum(sims, 1.0, out=sims)
            sims[sims < ALIKE_MIN] = 0.0
            self._at[new] = np.arange(len(self._sims), len(self._sims) + len(new))
            self._sims = np.concatenate([self._sims, sims])
            at = self._at[words]
        return self._sims[at]

    def _best(self, words: np.ndarray, bounds: np.ndarray) -> np.ndarray:
        """Return each segment's [a, b) of `words` best cosine with each vectored term."""
        if not self.vectored or not len(words) or not len(bounds):
            return np.zeros((len(bounds), len(self.vectored)), dtype=np.float32)
        sims = self._sims_of(np.asarray(words, dtype=np.int64))
        # One reduceat over every segment: a row of zeros closes the last one, and a
        # segment without words (a == b) is read as meeting nothing.
        sims = np.concatenate([sims, np.zeros((1, sims.shape[1]), np.float32)])
        best = np.maximum.reduceat(sims, bounds.reshape(-1), axis=0)[::2]
        best[bounds[:, 0] >= bounds[:, 1]] = 0.0
        return best

    def _occurrences(self, folded: str):
        """Yield where in a folded text each term without a vector stands as a whole token
        (a run of letters and digits, as TOKEN_RE reads them): start, end, term index."""
        for term in self._plain_terms:
            at = folded.find(term)
            while at >= 0:
                end = at + len(term)
                # [^\W_] is str.isalnum: a token goes on past either end, or it does not.
                if not (at and folded[at - 1].isalnum()) and \
                        not (end < len(folded) and folded[end].isalnum()):
                    yield at, end, self._plain_index[term]
                at = folded.find(term, at + 1)

    def _found_plain(self, text: str, folded: str | None = None) -> list[int]:
        """Return the terms without a vector (their indices) a text holds as whole tokens."""
        return list({i for _, _, i in self._occurrences(
            fold(text) if folded is None else folded)})

    def _met(self, words: np.ndarray, bounds: np.ndarray) -> np.ndarray:
        """Return how far each segment of `words` meets each term (segments by terms)."""
        met = np.zeros((len(bounds), len(self.terms)), dtype=np.float32)
        met[:, self.vectored] = self._best(words, bounds)
        return met

    def shares(self, texts: list[str]) -> np.ndarray:
        """Return, for each text, the share of the question's term weight it meets."""
        words, bounds = _runs([self.words.text_rows(text) for text in texts])
        met = self._met(words, bounds)
        for j, text in enumerate(texts if self.plain else ()):
            met[j, self._found_plain(text)] = 1.0
        return met @ self.weights

    def passage_shares(self, records: dict[int, dict],
                       spans: dict[int, list[tuple[int, int]]],
                       holding: dict[int, list[str]] | None = None
                       ) -> tuple[dict[int, float], dict[int, float]]:
        """Return the share of the term weight each passage meets in its best sentence,
        and in the whole passage or its document's title.

        `records`: the passages by row (text, title); `spans`: each one's sentences. The
        passages' words are read as the build stored them, never tokenized here.
        `holding`: the terms each passage holds in any form, as the lexical index found
        them; a passage holding none of the terms without a vector is not searched for
        them (None: every passage is).
        """
        rows = list(records)
        words, at, lengths = self.words.passages_words(rows)
        # Offsets moved past every earlier passage's: one sorted run, so that one search
        # finds where every sentence's words begin.
        ends = np.cumsum([len(records[row]["text"]) + 1 for row in rows], dtype=np.int64)
        bases = np.concatenate([[0], ends[:-1]]).astype(np.int64)
        at = at.astype(np.int64) + np.repeat(bases, lengths)
        counts = np.array([len(spans[row]) for row in rows], dtype=np.int64)
        firsts = np.array([span for row in rows for span in spans[row]],
                          dtype=np.int64).reshape(-1, 2) + np.repeat(bases, counts)[:, None]
        passages = _segments(lengths)
        # The titles' words (stored with each passage) after the passages' words.
        title_words, title_lengths = self.words.titles_words(rows)
        titled = _segments(title_lengths, len(words))
        # Sentences, whole passages and titles read in one pass over the words' cosines.
        n, m = len(firsts), len(rows)
        met = self._met(np.concatenate([words, title_words]), np.concatenate(
            [np.searchsorted(at, firsts), passages, titled]))
        in_sentence, in_passage = met[:n], met[n:n + m]
        np.maximum(in_passage, met[n + m:], out=in_passage)
        if self.plain:
            self._meet_plain(records, spans, holding, in_sentence, in_passage)
        # Each passage's best sentence: its run of sentences, those that have one.
        shares = in_sentence @ self.weights
        best = np.zeros(len(rows), dtype=np.float32)
        some = counts > 0
        if some.any():
            best[some] = np.maximum.reduceat(shares, (np.cumsum(counts) - counts)[some])
        return (dict(zip(rows, best.tolist())),
                dict(zip(rows, (in_passage @ self.weights).tolist())))

    def _meet_plain(self, records, spans, holding, in_sentence, in_passage):
        """Mark the terms without a vector each sentence, passage and title holds."""
        plain = set(self._plain_terms)
        in_titles: dict[str, list[int]] = {}
        at_sentence = 0
        for k, row in enumerate(records):
            text, own = records[row]["text"], spans[row]
            at_sentence += len(own)
            # The lexical index's word first (it reads titles and texts): folding and
            # searching a passage costs more.
            if holding is not None and plain.isdisjoint(holding.get(row, ())):
                continue
            title = records[row]["title"] or ""
            if title not in in_titles:
                in_titles[title] = self._found_plain(title, _folded_title(title))
            if in_titles[title]:
                in_passage[k, in_titles[title]] = 1.0
            folded = fold(text)
            found = self._found_plain(text, folded)
            if not found:  # nor does any of its sentences
                continue
            in_passage[k, found] = 1.0
            first = at_sentence - len(own)
            if _in_place(text, folded):  # one search over the passage, found by offset
                starts = [a for a, _ in own]
                for start, end, i in self._occurrences(folded):
                    j = bisect_right(starts, start) - 1
                    if j >= 0 and end <= own[j][1]:
                        in_sentence[first + j, i] = 1.0
            else:
                for j, (a, b) in enumerate(own, start=first):
                    in_sentence[j, self._found_plain(text[a:b])] = 1.0


# Titles folded and remembered: the same documents' titles come question after question
# (bounded: a large corpus has titles without end).
TITLES_REMEMBERED = 8192
_folded_title = lru_cache(maxsize=TITLES_REMEMBERED)(fold)


def _in_place(text: str, folded: str) -> bool:
    """Whether folding kept every character at its offset: each folds to one character
    (most accented letters, typographic quotes; not "ß", ligatures or lone marks)."""
    if text.isascii():
        return True
    return len(folded) == len(text) and all(
        len(fold(c)) == 1 for c in set(text) if not c.isascii())


def _segments(lengths: np.ndarray, start: int = 0) -> np.ndarray:
    """Return the segments [a, b) of runs of these lengths laid end to end from `start`."""
    ends = start + np.cumsum(lengths, dtype=np.int64)
    return np.stack([ends - lengths, ends], axis=1)


def _runs(pieces: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Return pieces of words run together and each one's segment [a, b) in the run."""
    words = np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.int64)
    return words, _segments(np.array([len(p) for p in pieces], dtype=np.int64))
