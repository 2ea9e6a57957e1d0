"""Word vectors: one embedding for each content word of the corpus, as the build wrote them.

`words.txt` lists the words (one a line, in row order) and `word_vectors.npy` their unit
vectors in float32, memory-mapped so that server processes share one copy. An index built
before they were written has neither: `available` is false and the signals that read them
score every passage alike.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

import numpy as np

from qa_service.errors import IndexCorrupt
from qa_service.store.names import named
from qa_service.text import located_vector_words

WORDS_FILE = "words.txt"
VECTORS_FILE = "word_vectors.npy"
# Each passage's words (their rows in VECTORS_FILE) and where in its text they start,
# passage after passage in row order, and where each passage's run begins: a question
# reads its candidates' words without tokenizing their text.
PASSAGE_WORDS_FILE = "passage_words.npy"
PASSAGE_STARTS_FILE = "passage_word_starts.npy"
PASSAGE_PTR_FILE = "passage_words_ptr.npy"
# Each passage's document title's words (each once), and where each passage's run begins:
# a title is read with every candidate, and tokenizing it cost more than the rest.
TITLE_WORDS_FILE = "passage_title_words.npy"
TITLE_PTR_FILE = "passage_title_words_ptr.npy"
FILES = (WORDS_FILE, VECTORS_FILE, PASSAGE_WORDS_FILE, PASSAGE_STARTS_FILE, PASSAGE_PTR_FILE,
         TITLE_WORDS_FILE, TITLE_PTR_FILE)


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

    def _load(self, ptr_file: str, *files: str) -> tuple[np.ndarray, ...]:
        """Return a pointer array and the runs it indexes, checked against each other."""
        arrays = []
        for name in (ptr_file, *files):
            path = self.folder / name
            try:
                arrays.append(np.load(path, mmap_mode="r", allow_pickle=False))
            except (OSError, ValueError) as exc:
                raise IndexCorrupt(f"{named(path)} is unreadable ({exc}); rebuild the "
                                   "index") from None
        # Plain arrays over the same mapped pages: slicing a memmap costs a Python object.
        ptr, *runs = (np.asarray(a) for a in arrays)
        if any(len(r) != (int(ptr[-1]) if len(ptr) else 0) for r in runs):
            raise IndexCorrupt(f"{named(self.folder / ptr_file)} disagrees with the "
                               f"runs it points into; rebuild the index")
        return ptr, *runs

    @cached_property
    def _passages(self) -> tuple[np.ndarray, ...]:
        return self._load(PASSAGE_PTR_FILE, PASSAGE_WORDS_FILE, PASSAGE_STARTS_FILE)

    @cached_property
    def _titles(self) -> tuple[np.ndarray, ...]:
        return self._load(TITLE_PTR_FILE, TITLE_WORDS_FILE)

    def _gather(self, loaded: tuple[np.ndarray, ...], rows: list[int], ptr_file: str
                ) -> tuple[list[np.ndarray], np.ndarray]:
        """Return the runs of the given passages run together, and each one's length."""
        ptr, *runs = loaded
        at = np.asarray(rows, dtype=np.int64)
        wrong = at[(at < 0) | (at >= len(ptr) - 1)]
        if wrong.size:
            raise IndexCorrupt(f"{named(self.folder / ptr_file)} has no passage "
                               f"{int(wrong[0])}; rebuild the index")
        first = ptr[at]
        lengths = ptr[at + 1] - first
        # Every item's place in the stored run: its passage's first, then a step an item.
        ends = np.cumsum(lengths)
        total = int(ends[-1]) if at.size else 0
        where = np.repeat(first - (ends - lengths), lengths) + np.arange(total)
        return [r[where] for r in runs], lengths

    def passages_words(self, rows: list[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return the words and start offsets of passages, run together in the order of
        `rows`, and how many words each has."""
        (words, starts), lengths = self._gather(self._passages, rows, PASSAGE_PTR_FILE)
        return words, starts, lengths

    def titles_words(self, rows: list[int]) -> tuple[np.ndarray, np.ndarray]:
        """Return the words of passages' document titles (each once a title), run
        together in the order of `rows`, and how many words each has."""
        (words,), lengths = self._gather(self._titles, rows, TITLE_PTR_FILE)
        return words, lengths

    def __len__(self) -> int:
        return len(self._rows) if self.available else 0

    def rows(self, words: list[str]) -> dict[str, int]:
        """Return the row of each of `words` that has a vector."""
        known = self._rows
        return {w: known[w] for w in words if w in known}

    def text_rows(self, text: str) -> np.ndarray:
        """Return the rows of a text's words that have a vector, each word once."""
        rows = self.rows(list(dict.fromkeys(located_vector_words(text)[1])))
        return np.fromiter(rows.values(), dtype=np.int64, count=len(rows))

    def vectors(self, rows: list[int]) -> np.ndarray:
        """Return the unit vectors of the given rows, as float32."""
        return self._vectors[np.asarray(rows, dtype=np.int64)].astype(np.float32, copy=False)

    def table(self) -> dict[str, int]:
        """Return every word with its row (a build reuses the vectors of words it knows)."""
        return dict(self._rows)
