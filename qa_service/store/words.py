"""Word vectors: one embedding for each content word of the corpus, as the build wrote them.

`words.txt` lists the words (one a line, in row order) and `word_vectors.npy` their unit
vectors in float16 (half the bytes; a word cosine needs no more), memory-mapped so that
server processes share one copy. An index built before they were written has neither:
`available` is false and the signals that read them score every passage alike.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

import numpy as np

from qa_service.errors import IndexCorrupt
from qa_service.store.names import named

WORDS_FILE = "words.txt"
VECTORS_FILE = "word_vectors.npy"
# Each passage's words (their rows in VECTORS_FILE) and where in its text they start,
# passage after passage in row order, and where each passage's run begins: a question
# reads its candidates' words without tokenizing their text.
PASSAGE_WORDS_FILE = "passage_words.npy"
PASSAGE_STARTS_FILE = "passage_word_starts.npy"
PASSAGE_PTR_FILE = "passage_words_ptr.npy"
FILES = (WORDS_FILE, VECTORS_FILE, PASSAGE_WORDS_FILE, PASSAGE_STARTS_FILE, PASSAGE_PTR_FILE)


class WordVectors:
    """The corpus's words and their vectors, read on first use."""

    def __init__(self, folder: Path, files: dict[str, int] | tuple = ()):
        self.folder = Path(folder)
        self.available = all(name in files for name in FILES)

    @cached_property
    def _rows(self) -> dict[str, int]:
        words = (self.folder / WORDS_FILE).read_text("utf-8").split("\n") if self.available \
            else []
        return {w: i for i, w in enumerate(words) if w}

    @cached_property
    def _vectors(self) -> np.ndarray:
        path = self.folder / VECTORS_FILE
        try:
            # allow_pickle=False: loading an index never runs code from it.
            vectors = np.load(path, mmap_mode="r", allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise IndexCorrupt(f"{named(path)} is unreadable ({exc}); rebuild the index") \
                from None
        vectors = np.asarray(vectors)  # a plain array over the mapped pages: cheap to index
        if vectors.ndim != 2 or len(vectors) != len(self._rows):
            raise IndexCorrupt(f"{named(path)} holds {vectors.shape[0]} vectors for "
                               f"{len(self._rows)} words; rebuild the index")
        return vectors

    @cached_property
    def _passages(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        arrays = []
        for name in (PASSAGE_PTR_FILE, PASSAGE_WORDS_FILE, PASSAGE_STARTS_FILE):
            path = self.folder / name
            try:
                arrays.append(np.load(path, mmap_mode="r", allow_pickle=False))
            except (OSError, ValueError) as exc:
                raise IndexCorrupt(f"{named(path)} is unreadable ({exc}); rebuild the "
                                   "index") from None
        # Plain arrays over the same mapped pages: slicing a memmap costs a Python object.
        ptr, words, starts = (np.asarray(a) for a in arrays)
        if len(words) != len(starts) or (len(ptr) and int(ptr[-1]) != len(words)):
            raise IndexCorrupt(f"{named(self.folder / PASSAGE_PTR_FILE)} disagrees with "
                               "the passages' words; rebuild the index")
        return ptr, words, starts

    def passage_words(self, row: int) -> tuple[np.ndarray, np.ndarray]:
        """Return a passage's words (rows of the word vectors) and their start offsets."""
        ptr, words, starts = self._passages
        if not 0 <= row < len(ptr) - 1:
            raise IndexCorrupt(f"{named(self.folder / PASSAGE_PTR_FILE)} has no passage "
                               f"{row}; rebuild the index")
        a, b = int(ptr[row]), int(ptr[row + 1])
        return words[a:b], starts[a:b]

    def __len__(self) -> int:
        return len(self._rows) if self.available else 0

    def rows(self, words: list[str]) -> dict[str, int]:
        """Return the row of each of `words` that has a vector."""
        known = self._rows
        return {w: known[w] for w in words if w in known}

    def vectors(self, rows: list[int]) -> np.ndarray:
        """Return the unit vectors of the given rows, as float32."""
        return self._vectors[np.asarray(rows, dtype=np.int64)].astype(np.float32)

    def table(self) -> dict[str, int]:
        """Return every word with its row (a build reuses the vectors of words it knows)."""
        return dict(self._rows)
