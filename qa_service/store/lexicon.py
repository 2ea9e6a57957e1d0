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

# The arrays a build writes beside passages.sqlite (indexing.lexicon): for term t, its
# postings are DOCS[PTR[t]:PTR[t+1]], with HITS[...] = (hits in the title, in the text).
PTR_FILE, DOCS_FILE, HITS_FILE, LENGTHS_FILE = (
    "lexicon_ptr.npy", "lexicon_docs.npy", "lexicon_hits.npy", "lexicon_lengths.npy")
FILES = (PTR_FILE, DOCS_FILE, HITS_FILE, LENGTHS_FILE)
TERMS_TABLE = "lexicon_terms"  # term -> its row in PTR, in passages.sqlite
K1, B = 1.2, 0.75  # FTS5's
MIN_IDF = 1e-6  # FTS5's floor for words in more than half the passages
TOKEN_CACHE = 4096  # words whose FTS5 tokens are remembered per thread


class Lexicon:
    """The postings of one index, and BM25 over them."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        load = {name: np.load(self.folder / name, mmap_mode="r", allow_pickle=False)
                for name in FILES}
        self.ptr, self.docs = load[PTR_FILE], load[DOCS_FILE]
        self.hits, self.lengths = load[HITS_FILE], load[LENGTHS_FILE]
        self.rows = len(self.lengths)
        self.average = float(self.lengths.sum()) / self.rows if self.rows else 1.0
        self._local = threading.local()

    @staticmethod
    def present(folder: Path) -> bool:
        """Say whether a build wrote the lexicon's arrays into `folder`."""
        return all((Path(folder) / name).is_file() for name in FILES)

    def scores(self, tokens: list[str], ids: dict[str, int], weights: tuple[float, float]
               ) -> dict[int, float]:
        """Return {row: bm25} of every passage holding any of `tokens` (FTS5 tokens, each
        a phrase of the query `"w1" OR "w2" ...`); `ids` maps tokens to their postings."""
        total = np.zeros(self.rows)
        held = np.zeros(self.rows, dtype=bool)
        for token in tokens:  # each word is a phrase of its own, as in the OR query
            term = ids.get(token)
            if term is None:
                continue
            start, end = int(self.ptr[term]), int(self.ptr[term + 1])
            rows = self.docs[start:end]
            hits = self.hits[start:end]
            freq = hits[:, 0] * weights[0] + hits[:, 1] * weights[1]
            count = end - start
            idf = math.log((self.rows - count + 0.5) / (count + 0.5))
            idf = idf if idf > 0 else MIN_IDF
            length = self.lengths[rows]
            total[rows] += idf * (freq * (K1 + 1)) / (
                freq + K1 * (1 - B + B * length / self.average))
            held[rows] = True
        found = np.flatnonzero(held)
        return dict(zip(found.tolist(), total[found].tolist()))

    def holding(self, ids: list[int]) -> np.ndarray:
        """Return the sorted rows of the passages holding any of the terms `ids`."""
        slices = [self.docs[int(self.ptr[i]):int(self.ptr[i + 1])] for i in ids]
        return np.unique(np.concatenate(slices)) if slices else np.zeros(0, dtype=np.int32)

    def tokens(self, words: list[str]) -> list[str] | None:
        """Return the FTS5 token of each word, or None when one is not a single token."""
        cache = getattr(self._local, "cache", None)
        if cache is None:
            cache = self._local.cache = OrderedDict()
        missing = [w for w in dict.fromkeys(words) if w not in cache]
        if missing:
            for word, found in zip(missing, fts5_tokens(missing)):
                cache[word] = found
                if len(cache) > TOKEN_CACHE:
                    cache.popitem(last=False)
        found = [cache[w] for w in words]
        if any(len(t) != 1 for t in found):
            return None
        return [t[0] for t in found]


_tokenizer = threading.local()


def fts5_tokens(words: list[str]) -> list[tuple[str, ...]]:
    """Return the tokens FTS5's tokenizer makes of each word (an in-memory FTS5 table)."""
    from qa_service.store.passages import TOKENIZER

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
