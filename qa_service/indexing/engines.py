"""Who reads, cleans, chunks and embeds a build's documents: this process, or a Ray cluster.

Both give the same documents, passages and vectors in the same order, so the index is
one whatever the engine; `get_engine` picks one by name. The build itself (SQLite, the
lexicon, FAISS) is written by the build process in either case (indexing.build).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Protocol

import numpy as np

from qa_service.config import ENGINES, Settings
from qa_service.encoders import Encoder
from qa_service.errors import QAError
from qa_service.indexing.stages import Stage, record
from qa_service.ingest import RawDocument, read_corpus
from qa_service.ingest.parallel import OrderedIngest
from qa_service.ingest.readers import Skips
from qa_service.ingest.worker import Facts, document_facts
from qa_service.progress import Progress


class Ingest(Protocol):
    """Clean and chunk documents, handing results back in the order they were put."""

    def __enter__(self) -> Ingest: ...

    def __exit__(self, *exc) -> None: ...

    def put(self, item, raw: RawDocument | None) -> Iterator[tuple]: ...

    def drain(self) -> Iterator[tuple]: ...


class Engine(Protocol):
    """Read and ingest a build's documents, and embed its texts, in corpus order.

    `stages`: what each stage took so far (build.BuildReport shows them).
    """

    stages: dict[str, Stage]

    def read(self, corpus: Path, max_file_bytes: int | None = None,
             skips: Skips | None = None, **options) -> Iterator[RawDocument]:
        """Yield the corpus's documents as read_corpus (with these arguments) does."""

    def facts(self, raw: RawDocument) -> Facts:
        """Return document_facts of a document that read yielded."""

    def ingest(self, count_tokens: Callable[[str], int], max_tokens: int, min_chars: int,
               shareable: bool, boilerplate: frozenset[str]) -> Ingest:
        """Return an Ingest as OrderedIngest (with these arguments) is one."""

    def embed(self, texts: list[str], what: str) -> np.ndarray:
        """Return the unit vectors of `texts`, in order."""


def get_engine(name: str, encoder: Encoder, settings: Settings, progress: bool = False
               ) -> Engine:
    """Return the build engine called `name`."""
    if name == "local":
        return LocalEngine(encoder, settings.build.batch_size, progress)
    if name == "ray":
        from qa_service.indexing.ray_engine import RayEngine

        return RayEngine(encoder, settings, progress)
    raise QAError(f"unknown build engine {name!r}: expected one of {', '.join(ENGINES)}")


class LocalEngine:
    """Read here, clean and chunk in a pool of this machine's processes (ingest.parallel),
    and embed here with the already loaded encoder; with `progress`, show embedding."""

    def __init__(self, encoder: Encoder, batch_size: int, progress: bool):
        self.encoder, self.batch_size, self.progress = encoder, batch_size, progress
        self.stages: dict[str, Stage] = {}

    read = staticmethod(read_corpus)
    facts = staticmethod(document_facts)

    def ingest(self, count_tokens: Callable[[str], int], max_tokens: int, min_chars: int,
               shareable: bool, boilerplate: frozenset[str]) -> OrderedIngest:
        return OrderedIngest(count_tokens, max_tokens, min_chars, shareable=shareable,
                             boilerplate=boilerplate)

    def embed(self, texts: list[str], what: str) -> np.ndarray:
        started = time.perf_counter()
        if not self.progress:
            out = self.encoder.encode(texts, batch_size=self.batch_size)
        else:
            with Progress(len(texts), "Embedding", what) as progress:
                out = self.encoder.encode(texts, batch_size=self.batch_size,
                                          progress=progress)
        record(self.stages, f"embed {what}", started, len(texts))
        return out
