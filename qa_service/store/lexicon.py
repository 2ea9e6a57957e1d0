"""BM25 over a term-passage matrix held in memory-mapped arrays, exactly as FTS5 scores.

FTS5's `bm25()` reads every posting of every query word first (for the words' document
frequencies), then scores every match: on 10k passages a long question matches a third
of them, and that costs more than the rest of retrieval. A build writes the same
postings (term, passage, hits in the title and in the text) as arrays; a question reads
the slices of its words. The scores are FTS5's own formula and statistics (k1 1.2, b
0.75, the row's length over both columns, idf floored at 1e-6), equal to FTS5's to
1e-12, so nothing fitted on FTS5's scores changes.
"""

from __future__ import annotations

import math
import sqlite3
import threading
from collections import OrderedDict
from pathlib import Path

import numpy as np

from qa_service.store.passages import TOKENIZER, PassageStore

# The arrays a build writes beside passages.sqlite (indexing.lexicon): for term t, its
# postings are DOCS[PTR[t]:PTR[t+1]], with HITS[...] = (hits in the title, in the text).
PTR_FILE, DOCS_FILE, HITS_FILE, LENGTHS_FILE = (
    "lexicon_ptr.npy", "lexicon_docs.npy", "lexicon_hits.npy", "lexicon_lengths.npy")
FILES = (PTR_FILE, DOCS_FILE, HITS_FILE, LENGTHS_FILE)
TERMS_TABLE = "lexicon_terms"  # term -> its row in PTR, in passages.sqlite
K1, B = 1.2, 0.75  # FTS5's
MIN_IDF = 1e-6  # FTS5's floor for words in more than half the passages
TOKEN_CACHE = 4096  # words whose FTS5 tokens are remembered per thread


def _among(postings: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Say which of `rows` are among a term's postings (sorted): a binary search each,
    rather than reading postings that can run to most of the corpus."""
    if not len(postings):
        return np.zeros(len(rows), dtype=bool)
    at = np.searchsorted(postings, rows).clip(max=len(postings) - 1)
    return postings[at] == rows


class Matches:
    """The passages matching a question's words, sorted by row, and their BM25."""

    def __init__(self, rows: np.ndarray, scores: np.ndarray):
        self.rows, self.scores = rows, scores

    def as_dict(self) -> dict[int, float]:
        """Return {row: bm25} of every match."""
        return dict(zip(self.rows.tolist(), self.scores.tolist()))

    def top(self, limit: int) -> dict[int, float]:
        """Return {row: bm25} of the best `limit` matches, best first (ties: lower row)."""
        order = np.lexsort((self.rows, -self.scores))[:limit]
        return dict(zip(self.rows[order].tolist(), self.scores[order].tolist()))

    def of(self, rows: list[int] | tuple[int, ...]) -> dict[int, float]:
        """Return {row: bm25} of those of `rows` that match, in their order."""
        if not len(rows) or not len(self.rows):
            return {}
        wanted = np.asarray(rows, dtype=np.int64)
        at = np.searchsorted(self.rows, wanted).clip(max=len(self.rows) - 1)
        hit = self.rows[at] == wanted
        return dict(zip(wanted[hit].tolist(), self.scores[at[hit]].tolist()))


class Lexicon:
    """The postings of one index, and BM25 over them."""

    def __init__(self, folder: Path, store: PassageStore):
        self.folder = Path(folder)
        self.store = store  # its SQLite file holds the term -> postings table
        # Mapped, not read: a large corpus's postings stay in the OS's file cache, shared
        # by every worker. Plain arrays over the maps: slicing a numpy memmap makes a
        # memmap object per slice, and a question takes a few hundred slices.
        load = {name: np.load(self.folder / name, mmap_mode="r", allow_pickle=False
                              ).view(np.ndarray) for name in FILES}
        self.ptr, self.docs = load[PTR_FILE], load[DOCS_FILE]
        self.hits, self.lengths = load[HITS_FILE], load[LENGTHS_FILE]
        self.count = len(self.lengths)
        self.average = float(self.lengths.sum()) / self.count if self.count else 1.0
        self._local = threading.local()

    @staticmethod
    def present(manifest_files) -> bool:
        """Say whether a build whose manifest lists `manifest_files` wrote a lexicon."""
        return all(name in manifest_files for name in FILES)

    def bm25(self, words: list[str], weights: tuple[float, float]) -> Matches | None:
        """Return the BM25 of every passage matching any of `words`, as FTS5 scores
        `"w1" OR "w2" ...`; None for a word FTS5 cuts into several tokens."""
        # A question's words are scored for its candidates, then again for the rows its
        # history brought: the last answer of each thread is kept.
        key = (tuple(words), weights)
        last = getattr(self._local, "last", None)
        if last is not None and last[0] == key:
            return last[1]
        tokens = self.tokens(words) if words else None
        found = None if tokens is None else self.scores(tokens, self.term_ids(tokens), weights)
        self._local.last = (key, found)
        return found

    def document_count(self, words: list[str]) -> int | None:
        """Return how many passages hold any of `words` (None where `bm25` is None)."""
        tokens = self.tokens(words) if words else None
        if tokens is None:
            return None
        ids = set(self.term_ids(tokens).values())
        if len(ids) == 1:  # one term: its postings are its passages, once each
            term = ids.pop()
            return int(self.ptr[term + 1]) - int(self.ptr[term])
        return len(self.holding(sorted(ids)))

    def holds(self, words: list[str], rows: list[int]) -> list[int] | None:
        """Return which of `rows` (in their order) hold any of `words` (None where `bm25`
        is None)."""
        tokens = self.tokens(words) if words else None
        if tokens is None:
            return None
        wanted = np.asarray(rows, dtype=np.int64)
        found = np.zeros(len(wanted), dtype=bool)
        for term in set(self.term_ids(tokens).values()):
            found |= _among(self.docs[int(self.ptr[term]):int(self.ptr[term + 1])], wanted)
        return wanted[found].tolist()

    def term_ids(self, tokens: list[str]) -> dict[str, int]:
        """Return the postings row of each token the index holds (remembered: the table
        never changes, and a question asks for its words several times)."""
        known = getattr(self._local, "ids", None)
        if known is None or len(known) > TOKEN_CACHE:
            known = self._local.ids = {}
        wanted = sorted({t for t in tokens if t not in known})
        if wanted:
            found = dict(self.store._query(
                f"SELECT term, id FROM {TERMS_TABLE} WHERE term IN "
                f"({','.join('?' * len(wanted))})", wanted))
            known.update({t: found.get(t) for t in wanted})
        return {t: known[t] for t in tokens if known[t] is not None}

    def scores(self, tokens: list[str], ids: dict[str, int], weights: tuple[float, float]
               ) -> Matches:
        """Return {row: bm25} of every passage holding any of `tokens` (FTS5 tokens, each
        a phrase of the query `"w1" OR "w2" ...`); `ids` maps tokens to their postings."""
        total = np.zeros(self.count)
        held = np.zeros(self.count, dtype=bool)
        for token in tokens:  # each word is a phrase of its own, as in the OR query
            term = ids.get(token)
            if term is None:
                continue
            start, end = int(self.ptr[term]), int(self.ptr[term + 1])
            rows = self.docs[start:end]
            hits = self.hits[start:end]
            freq = hits[:, 0] * weights[0] + hits[:, 1] * weights[1]
            count = end - start
            idf = math.log((self.count - count + 0.5) / (count + 0.5))
            idf = idf if idf > 0 else MIN_IDF
            length = self.lengths[rows]
            total[rows] += idf * (freq * (K1 + 1)) / (
                freq + K1 * (1 - B + B * length / self.average))
            held[rows] = True
        found = np.flatnonzero(held)
        return Matches(found, total[found])

    def holding(self, ids: list[int]) -> np.ndarray:
        """Return the sorted rows of the passages holding any of the terms `ids`."""
        slices = [self.docs[int(self.ptr[i]):int(self.ptr[i + 1])] for i in ids]
        return np.unique(np.concatenate(slices)) if slices else np.zeros(0, dtype=np.int32)

    def tokens(self, words: list[str]) -> list[str] | None:
        """Return the FTS5 token of each word, or None when one is not a single token."""
        cache = getattr(self._local, "cache", None)
        if cache is None:
            cache = self._local.cache = OrderedDict()
        known = {w: cache[w] for w in dict.fromkeys(words) if w in cache}
        missing = [w for w in dict.fromkeys(words) if w not in known]
        if missing:
            # Read from `known`, not the cache: making room may drop this question's words.
            known.update(zip(missing, fts5_tokens(missing)))
            for word in missing:
                cache[word] = known[word]
                if len(cache) > TOKEN_CACHE:
                    cache.popitem(last=False)
        found = [known[w] for w in words]
        if any(len(t) != 1 for t in found):
            return None
        return [t[0] for t in found]


_tokenizer = threading.local()


def fts5_tokens(words: list[str]) -> list[tuple[str, ...]]:
    """Return the tokens FTS5's tokenizer makes of each word (an in-memory FTS5 table)."""
    db = getattr(_tokenizer, "db", None)
    if db is None:
        db = _tokenizer.db = sqlite3.connect(":memory:", check_same_thread=False)
        db.execute(f"CREATE VIRTUAL TABLE t USING fts5(x, tokenize='{TOKENIZER}')")
        db.execute("CREATE VIRTUAL TABLE v USING fts5vocab(t, 'instance')")
    db.execute("DELETE FROM t")
    db.executemany("INSERT INTO t (rowid, x) VALUES (?, ?)", list(enumerate(words)))
    found: dict[int, list[str]] = {}
    for term, row in db.execute("SELECT term, doc FROM v ORDER BY doc, offset"):
        found.setdefault(row, []).append(term)
    return [tuple(found.get(i, ())) for i in range(len(words))]
