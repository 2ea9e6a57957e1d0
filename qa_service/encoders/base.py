"""The encoder interface, and a token counter that worker processes can share."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import numpy as np

from qa_service.progress import Progress


class Encoder(Protocol):
    """Turns texts into unit-length float32 vectors."""

    name: str
    dimension: int
    max_tokens: int
    backend: str | None  # what computes the vectors (None: no model)

    def encode(self, texts: list[str], batch_size: int = 64, progress: Progress | None = None
               ) -> np.ndarray:
        """Return the texts' vectors, counting each text done in `progress` if given.

        A false `progress` (None, or False from older callers) counts nothing.
        """
        ...

    def count_tokens(self, text: str) -> int: ...


class TokenCount:
    """Count every token of a text (nothing cut) with a tokenizer.json file.

    Pickles as its path, so that ingest workers each load their own copy.
    """

    def __init__(self, path: Path | str):
        self.path = str(path)
        self._tokenizer = None

    def __getstate__(self) -> dict:
        return {"path": self.path}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["path"])

    def __call__(self, text: str) -> int:
        if self._tokenizer is None:
            from tokenizers import Tokenizer

            tokenizer = Tokenizer.from_file(self.path)
            tokenizer.no_truncation()
            tokenizer.no_padding()
            self._tokenizer = tokenizer
        return len(self._tokenizer.encode(text, add_special_tokens=False).ids)
