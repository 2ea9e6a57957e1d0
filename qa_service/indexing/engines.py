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
from qa_service.encoders.pooling import SENTENCE_VECTORS, Spans, can_pool, span_texts
from qa_service.errors import InvalidInput, QAError
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

    def embed_passages(self, texts: list[str], spans: list[Spans]
                       ) -> tuple[np.ndarray, np.ndarray]:
        """Return the passages' vectors and their sentences' (`spans`: each passage's
        sentences in its text), both in order (encoders.pooling)."""


def get_engine(name: str, encoder: Encoder, settings: Settings, progress: bool = False
               ) -> Engine:
    """Return the build engine called `name`."""
    how = settings.build.sentence_vectors
    if how not in SENTENCE_VECTORS:
        raise InvalidInput(f"sentence_vectors {how!r}: expected one of "
                           f"{', '.join(SENTENCE_VECTORS)}")
    if name == "local":
        return LocalEngine(encoder, settings.build.batch_size, progress, how)
    if name == "ray":
        from qa_service.indexing.ray_engine import RayEngine

        return RayEngine(encoder, settings, progress)
    raise QAError(f"unknown build engine {name!r}: expected one of {', '.join(ENGINES)}")


class LocalEngine:
    """Read here, clean and chunk in a pool of this machine's processes (ingest.parallel),
    and embed here with the already loaded encoder; with `progress`, show embedding."""

    def __init__(self, encoder: Encoder, batch_size: int, progress: bool,
                 sentence_vectors: str = SENTENCE_VECTORS[0]):
        self.encoder, self.batch_size, self.progress = encoder, batch_size, progress
        self.sentence_vectors = sentence_vectors
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

    def embed_passages(self, texts: list[str], spans: list[Spans]
                       ) -> tuple[np.ndarray, np.ndarray]:
        if not can_pool(self.encoder, self.sentence_vectors):
            return (self.embed(texts, "passages"),
                    self.embed(span_texts(texts, spans), "sentences"))
        started = time.perf_counter()
        # A total of 0 shows nothing: the same call with progress off.
        with Progress(len(texts) if self.progress else 0, "Embedding", "passages") as progress:
            vectors, sentences, missed = self.encoder.encode_spans(
                texts, spans, self.batch_size, progress)
        record(self.stages, "embed passages", started, len(texts))
        if missed:  # past the model's window: embedded alone
            flat = span_texts(texts, spans)
            sentences[missed] = self.embed([flat[i] for i in missed], "sentences")
        return vectors, sentences
