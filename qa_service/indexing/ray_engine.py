"""The Ray build engine: read, clean, chunk and embed on a Ray cluster's nodes.

Connects to the cluster named by RAY_ADDRESS (`ray start --head` / a KubeRay cluster),
or starts a one-node cluster in this process when there is none. Every node needs the
corpus at the same path and the same environment (qa-service[ray], the model package).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from qa_service.config import Settings
from qa_service.encoders import Encoder, get_encoder
from qa_service.encoders.pooling import (
    Spans,
    can_pool,
    embed_with_spans,
    span_starts,
    span_texts,
)
from qa_service.errors import QAError
from qa_service.indexing.ray_documents import RayIngest, RayReads
from qa_service.indexing.stages import Stage, record
from qa_service.ingest import RawDocument
from qa_service.ingest.readers import Skips
from qa_service.ingest.worker import Facts
from qa_service.progress import Progress

log = logging.getLogger(__name__)

# Seconds the embedding actors have to start and load the model before the job fails
# (the cluster has no room for them, or a node cannot load the model).
ACTORS_START_S = 600


class _EmbedBatches:
    """A Ray Data actor: loads the encoder once, then embeds the batches it is given."""

    def __init__(self, model: str, device: str, backend: str, cache_dir: str,
                 batch_size: int, sentence_vectors: str):
        import ray

        # The same backend as the driver's encoder: vectors of one index are made alike.
        self.encoder = get_encoder(model, device, backend, 0, cache_dir)
        self.batch_size = batch_size
        self.how = sentence_vectors
        self.node = ray.get_runtime_context().get_node_id()

    def __call__(self, batch: dict) -> dict:
        texts = list(batch["text"])
        done = {"row": batch["row"], "node": [self.node] * len(texts)}
        if "spans" not in batch:
            return {**done, "vector": list(self.encoder.encode(texts,
                                                               batch_size=self.batch_size))}
        # Passages with their sentences: each row's sentence vectors go back as bytes
        # (a row holds any number of them).
        spans = [json.loads(s) for s in batch["spans"]]
        vectors, sentences = embed_with_spans(self.encoder, texts, spans, self.batch_size,
                                              how=self.how)
        cuts = span_starts(spans)[1:-1]
        return {**done, "vector": list(vectors),
                "sentences": [part.tobytes() for part in np.split(sentences, cuts)]}


class RayEngine:
    """Read, clean and chunk as Ray tasks (indexing.ray_documents), and embed as a Ray
    Data job: one encoder per actor, batches spread over the cluster."""

    def __init__(self, encoder: Encoder, settings: Settings, progress: bool = False):
        try:
            import ray
        except ImportError:
            raise QAError("--engine ray needs Ray: pip install 'qa-service[ray]'") from None
        self.ray = ray
        self.model = encoder.name
        self.dimension = encoder.dimension
        self.device = settings.model.device
        # The driver's concrete backend ("auto" resolved once): one index, one kind of vector.
        self.backend = encoder.backend or settings.model.backend
        self.cache_dir = str(settings.model.cache)
        self.batch_size = settings.build.batch_size
        self.sentence_vectors = settings.build.sentence_vectors
        self.pooled = can_pool(encoder, self.sentence_vectors)
        self.actors = settings.build.ray_actors
        self.progress = progress
        self.stages: dict[str, Stage] = {}
        self._reads: RayReads | None = None

    def _init(self) -> RayReads:
        if not self.ray.is_initialized():
            self.ray.init(ignore_reinit_error=True, include_dashboard=False,
                          log_to_driver=False, logging_level=logging.WARNING)
        if self._reads is None:
            self._reads = RayReads(self.ray, self.stages, self.progress)
        return self._reads

    def read(self, corpus: Path, max_file_bytes: int | None = None,
             skips: Skips | None = None, **options) -> Iterator[RawDocument]:
        return self._init().read(corpus, max_file_bytes, skips, **options)

    def facts(self, raw: RawDocument) -> Facts:
        return self._init().facts(raw)

    def ingest(self, count_tokens: Callable[[str], int], max_tokens: int, min_chars: int,
               shareable: bool, boilerplate: frozenset[str]) -> RayIngest:
        if not shareable:
            log.warning("Ray: the model's token counter cannot be sent to the cluster; "
                        "documents are cleaned and chunked in this process")
        return RayIngest(self.ray, self._init(), self.stages, count_tokens, max_tokens,
                         min_chars, shareable, boilerplate)

    def embed(self, texts: list[str], what: str) -> np.ndarray:
        return self._embed(texts, what)[0]

    def embed_passages(self, texts: list[str], spans: list[Spans]
                       ) -> tuple[np.ndarray, np.ndarray]:
        if not self.pooled:
            return (self.embed(texts, "passages"),
                    self.embed(span_texts(texts, spans), "sentences"))
        return self._embed(texts, "passages", spans)

    def _embed(self, texts: list[str], what: str, spans: list[Spans] | None = None
               ) -> tuple[np.ndarray, np.ndarray | None]:
        """Embed `texts` on the cluster; with `spans`, their sentences' vectors too."""
        first = span_starts(spans or []).tolist()
        sentences = np.zeros((first[-1], self.dimension), dtype=np.float32) \
            if spans is not None else None
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32), sentences
        self._init()
        import ray.data

        started = time.perf_counter()
        unit = "GPU" if self.device.startswith("cuda") else "CPU"
        actors = self.actors or max(1, int(self.ray.cluster_resources().get(unit, 1)))
        log.info("Ray: embedding %d %s on %d actors", len(texts), what, actors)
        context = ray.data.DataContext.get_current()
        waited = context.wait_for_min_actors_s
        # Every actor up (its model loaded) before the first batch is handed out, and one
        # batch at a time each: else the first one up takes a small job's every batch.
        # A dataset keeps a copy of the context it is made in: this one's only.
        context.wait_for_min_actors_s = ACTORS_START_S
        try:
            data = ray.data.from_items([
                {"row": i, "text": t} if spans is None
                else {"row": i, "text": t, "spans": json.dumps(spans[i])}
                for i, t in enumerate(texts)])
        finally:
            context.wait_for_min_actors_s = waited
        done = data.map_batches(
            _EmbedBatches,
            fn_constructor_kwargs={"model": self.model, "device": self.device,
                                   "backend": self.backend, "cache_dir": self.cache_dir,
                                   "batch_size": self.batch_size,
                                   "sentence_vectors": self.sentence_vectors},
            # Rows split over the actors, so that a small job keeps each one busy too.
            batch_size=min(max(self.batch_size, 256), -(-len(texts) // actors)),
            compute=ray.data.ActorPoolStrategy(size=actors, max_tasks_in_flight_per_actor=1),
            # One actor a GPU when embedding on GPUs, else one a CPU.
            **({"num_gpus": 1} if self.device.startswith("cuda") else {"num_cpus": 1}),
        )
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        seen = np.zeros(len(texts), dtype=bool)
        nodes: set[str] = set()
        # A total of 0 shows nothing: the same loop with progress off.
        with Progress(len(texts) if self.progress else 0, "Embedding", what) as progress:
            # Rows come back in any order; each carries its position.
            for batch in done.iter_batches(batch_format="numpy", batch_size=4096):
                rows = np.asarray(batch["row"], dtype=np.int64)
                out[rows] = np.stack(batch["vector"]).astype(np.float32)
                if sentences is not None:
                    for row, raw in zip(rows.tolist(), batch["sentences"]):
                        start = first[row]
                        part = np.frombuffer(raw, dtype=np.float32)
                        sentences[start:start + len(spans[row])] = part.reshape(
                            -1, self.dimension)
                seen[rows] = True
                nodes.update(str(n) for n in batch["node"])
                progress.update(len(rows))
        if not seen.all():
            raise QAError(f"Ray job returned {int(seen.sum())} of {len(texts)} {what} vectors")
        record(self.stages, f"embed {what}", started, len(texts), nodes)
        return out, sentences
