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
from qa_service.store.words import VECTORS_FILE, WORDS_FILE, WordVectors
from qa_service.text import vector_words

log = logging.getLogger(__name__)

# Words are a few tokens each: large batches keep the encoder's per-call cost small.
WORD_BATCH = 512


def corpus_words(passages: Path) -> list[str]:
    """Return the distinct content words of the passages and titles of an index, sorted."""
    db = sqlite3.connect(f"file:{passages}?mode=ro", uri=True)
    try:
        words: set[str] = set()
        for (text,) in db.execute("SELECT text FROM passages"):
            words.update(vector_words(text))
        for (title,) in db.execute("SELECT title FROM documents"):
            words.update(vector_words(title))
    finally:
        db.close()
    return sorted(words)


def write_word_vectors(work: Path, encoder: Encoder, previous: WordVectors | None,
                       stages: dict[str, Stage], progress: bool = False) -> int:
    """Write `words.txt` and `word_vectors.npy` for the index in `work`; return the count."""
    started = time.perf_counter()
    words = corpus_words(work / PASSAGES_FILE)
    known = previous.table() if previous is not None and previous.available else {}
    new = [w for w in words if w not in known]
    vectors = np.empty((len(words), encoder.dimension), dtype=np.float16)
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
    record(stages, "word vectors written", started, len(words))
    log.info("word vectors: %d words, %d encoded, %d reused", len(words), len(new),
             len(reused))
    return len(words)
