"""Write the corpus's word vectors: each content word embedded alone, once.

A question's word is met by a passage's word of like meaning ("died" by "killed") when
their vectors are close (search.alike). Words the live index already embedded keep
their vectors; only new ones are encoded, short texts in large batches.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from pathlib import Path

import numpy as np

from qa_service.encoders import Encoder
from qa_service.indexing.stages import Stage, record
from qa_service.progress import Progress
from qa_service.store.passages import FILE as PASSAGES_FILE
from qa_service.store.words import (
    PASSAGE_PTR_FILE,
    PASSAGE_STARTS_FILE,
    PASSAGE_WORDS_FILE,
    VECTORS_FILE,
    WORDS_FILE,
    WordVectors,
)
from qa_service.text import located_vector_words

log = logging.getLogger(__name__)

# Words are a few tokens each: large batches keep the encoder's per-call cost small.
WORD_BATCH = 512


Located = tuple[tuple[int, ...], tuple[str, ...]]  # a text's word offsets and words


def corpus_words(passages: Path) -> tuple[list[str], list[Located]]:
    """Return the distinct content words of an index's passages and titles, sorted, and
    each passage's located words (`located_vector_words`), in passage row order."""
    db = sqlite3.connect(f"file:{passages}?mode=ro", uri=True)
    words: set[str] = set()
    located = []
    try:
        for rowid, text in db.execute("SELECT rowid, text FROM passages ORDER BY rowid"):
            if rowid != len(located):
                raise ValueError(f"passage rows are not consecutive at {rowid}")
            # Not through the function's cache: a build reads each passage once.
            found = located_vector_words.__wrapped__(text)
            located.append(found)
            words.update(found[1])
        for (title,) in db.execute("SELECT title FROM documents"):
            words.update(located_vector_words.__wrapped__(title)[1])
    finally:
        db.close()
    return sorted(words), located


def write_word_vectors(work: Path, encoder: Encoder, previous: WordVectors | None,
                       stages: dict[str, Stage], progress: bool = False) -> int:
    """Write `words.txt` and `word_vectors.npy` for the index in `work`; return the count."""
    started = time.perf_counter()
    words, located = corpus_words(work / PASSAGES_FILE)
    known = previous.table() if previous is not None and previous.available else {}
    new = [w for w in words if w not in known]
    # float32, though half precision would do for a word cosine: a question gathers a few
    # thousand rows, and converting them from float16 cost more than all the rest (2 ms).
    vectors = np.empty((len(words), encoder.dimension), dtype=np.float32)
    at = {w: i for i, w in enumerate(words)}
    reused = [(at[w], known[w]) for w in words if w in known]
    if reused:
        rows, old = zip(*reused)
        vectors[list(rows)] = previous.vectors(list(old))
    if new:
        with Progress(len(new) if progress else 0, "Word vectors", "words") as shown:
            encoded = encoder.encode(new, batch_size=WORD_BATCH, progress=shown)
        vectors[[at[w] for w in new]] = encoded
    (work / WORDS_FILE).write_text("\n".join(words), "utf-8")
    np.save(work / VECTORS_FILE, vectors, allow_pickle=False)
    _write_passage_words(work, located, at)
    record(stages, "word vectors written", started, len(words))
    log.info("word vectors: %d words, %d encoded, %d reused", len(words), len(new),
             len(reused))
    return len(words)


def _write_passage_words(work: Path, located: list[Located], at: dict[str, int]) -> None:
    """Write each passage's word rows and their offsets, in passage row order."""
    ptr = np.zeros(len(located) + 1, dtype=np.int64)
    ptr[1:] = np.cumsum([len(found) for _, found in located])
    rows = np.fromiter((at[w] for _, found in located for w in found), dtype=np.int32,
                       count=int(ptr[-1]))
    starts = np.fromiter((o for offsets, _ in located for o in offsets), dtype=np.int32,
                         count=int(ptr[-1]))
    np.save(work / PASSAGE_PTR_FILE, ptr, allow_pickle=False)
    np.save(work / PASSAGE_WORDS_FILE, rows, allow_pickle=False)
    np.save(work / PASSAGE_STARTS_FILE, starts, allow_pickle=False)
