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


class WordVectors:
    """The corpus's words and their vectors, read on first use."""

    def __init__(self, folder: Path, files: dict[str, int] | tuple = ()):
        self.folder = Path(folder)
        self.available = WORDS_FILE in files and VECTORS_FILE in files

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
        if vectors.ndim != 2 or len(vectors) != len(self._rows):
            raise IndexCorrupt(f"{named(path)} holds {vectors.shape[0]} vectors for "
                               f"{len(self._rows)} words; rebuild the index")
        return vectors

    def __len__(self) -> int:
        return len(self._rows) if self.available else 0

    def rows(self, words: list[str]) -> dict[str, int]:
        """Return the row of each of `words` that has a vector."""
        known = self._rows
        return {w: known[w] for w in words if w in known}

    def vectors(self, rows: list[int]) -> np.ndarray:
        """Return the unit vectors of the given rows, as float32."""
        return np.asarray(self._vectors[np.asarray(rows, dtype=np.int64)], dtype=np.float32)

    def table(self) -> dict[str, int]:
        """Return every word with its row (a build reuses the vectors of words it knows)."""
        return dict(self._rows)
