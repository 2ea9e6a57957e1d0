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
    TITLE_PTR_FILE,
    TITLE_WORDS_FILE,
    VECTORS_FILE,
    WORDS_FILE,
    WordVectors,
)
from qa_service.text import located_vector_words

log = logging.getLogger(__name__)

# Words are a few tokens each: large batches keep the encoder's per-call cost small.
WORD_BATCH = 512


Located = tuple[tuple[int, ...], tuple[str, ...]]  # a text's word offsets and words


def corpus_words(passages: Path) -> tuple[list[str], list[Located], list[tuple[str, ...]]]:
    """Return the distinct content words of an index's passages and titles, sorted, each
    passage's located words (`located_vector_words`) and its document title's words (each
    once), in passage row order."""
    db = sqlite3.connect(f"file:{passages}?mode=ro", uri=True)
    words: set[str] = set()
    located, titled = [], []
    titles: dict[str, tuple[str, ...]] = {}
    try:
        for rowid, text, title in db.execute(
                "SELECT p.rowid, p.text, d.title FROM passages p "
                "JOIN documents d ON d.doc_id = p.doc_id ORDER BY p.rowid"):
            if rowid != len(located):
                raise ValueError(f"passage rows are not consecutive at {rowid}")
            found = located_vector_words(text)
            located.append(found)
            words.update(found[1])
            if title not in titles:
                titles[title] = tuple(dict.fromkeys(
                    located_vector_words(title)[1]))
                words.update(titles[title])
            titled.append(titles[title])
    finally:
        db.close()
    return sorted(words), located, titled


def write_word_vectors(work: Path, encoder: Encoder, previous: WordVectors | None,
                       stages: dict[str, Stage], progress: bool = False) -> int:
    """Write `words.txt` and `word_vectors.npy` for the index in `work`; return the count."""
    started = time.perf_counter()
    words, located, titled = corpus_words(work / PASSAGES_FILE)
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
    _write_passage_words(work, located, titled, at)
    record(stages, "word vectors written", started, len(words))
    log.info("word vectors: %d words, %d encoded, %d reused", len(words), len(new),
             len(reused))
    return len(words)


def _write_passage_words(work: Path, located: list[Located],
                         titled: list[tuple[str, ...]], at: dict[str, int]) -> None:
    """Write each passage's word rows and their offsets, and its title's word rows, in
    passage row order."""
    ptr = _pointer([found for _, found in located])
    rows = np.fromiter((at[w] for _, found in located for w in found), dtype=np.int32,
                       count=int(ptr[-1]))
    starts = np.fromiter((o for offsets, _ in located for o in offsets), dtype=np.int32,
                         count=int(ptr[-1]))
    title_ptr = _pointer(titled)
    title_rows = np.fromiter((at[w] for found in titled for w in found), dtype=np.int32,
                             count=int(title_ptr[-1]))
    for name, array in ((PASSAGE_PTR_FILE, ptr), (PASSAGE_WORDS_FILE, rows),
                        (PASSAGE_STARTS_FILE, starts), (TITLE_PTR_FILE, title_ptr),
                        (TITLE_WORDS_FILE, title_rows)):
        np.save(work / name, array, allow_pickle=False)


def _pointer(runs: list) -> np.ndarray:
    """Return where each run begins in the runs laid end to end, and their total last."""
    ptr = np.zeros(len(runs) + 1, dtype=np.int64)
    ptr[1:] = np.cumsum([len(run) for run in runs])
    return ptr
