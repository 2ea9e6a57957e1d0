"""Who embeds the passages of a build: this process, or a Ray Data job across a cluster.

Both return the same vectors in the same order, so the index format is one whatever
the engine; `get_engine` picks one by name.
"""

from __future__ import annotations

import logging
from typing import Protocol

import numpy as np

from qa_service.config import ENGINES, Settings
from qa_service.encoders import Encoder, get_encoder
from qa_service.errors import QAError
from qa_service.progress import Progress

log = logging.getLogger(__name__)


class Engine(Protocol):
    """Turns a list of texts into their unit vectors, in order."""

    def embed(self, texts: list[str], what: str) -> np.ndarray: ...


def get_engine(name: str, encoder: Encoder, settings: Settings, progress: bool = False
               ) -> Engine:
    """Return the embedding engine called `name`."""
    if name == "local":
        return LocalEngine(encoder, settings.build.batch_size, progress)
    if name == "ray":
        return RayEngine(encoder, settings, progress)
    raise QAError(f"unknown build engine {name!r}: expected one of {', '.join(ENGINES)}")


class LocalEngine:
    """Embed in this process with the already loaded encoder; with `progress`, show it."""

    def __init__(self, encoder: Encoder, batch_size: int, progress: bool):
        self.encoder, self.batch_size, self.progress = encoder, batch_size, progress

    def embed(self, texts: list[str], what: str) -> np.ndarray:
        if not self.progress:
            return self.encoder.encode(texts, batch_size=self.batch_size)
        with Progress(len(texts), "Embedding", what) as progress:
            return self.encoder.encode(texts, batch_size=self.batch_size, progress=progress)


class _EmbedBatches:
    """A Ray Data actor: loads the encoder once, then embeds the batches it is given."""

    def __init__(self, model: str, device: str, backend: str, cache_dir: str,
                 batch_size: int):
        # The same backend as the driver's encoder: vectors of one index are made alike.
        self.encoder = get_encoder(model, device, backend, 0, cache_dir)
        self.batch_size = batch_size

    def __call__(self, batch: dict) -> dict:
        out = self.encoder.encode(list(batch["text"]), batch_size=self.batch_size)
        return {"row": batch["row"], "vector": list(out)}


class RayEngine:
    """Embed as a Ray Data job: one encoder per actor, batches spread over the cluster.

    Connects to the cluster named by RAY_ADDRESS (`ray start --head` / a KubeRay
    cluster), or starts a one-node cluster in this process when there is none.
    """

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
        self.actors = settings.build.ray_actors
        self.progress = progress

    def _init(self) -> None:
        if not self.ray.is_initialized():
            self.ray.init(ignore_reinit_error=True, include_dashboard=False,
                          log_to_driver=False, logging_level=logging.WARNING)

    def embed(self, texts: list[str], what: str) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        self._init()
        import ray.data

        unit = "GPU" if self.device.startswith("cuda") else "CPU"
        actors = self.actors or max(1, int(self.ray.cluster_resources().get(unit, 1)))
        log.info("Ray: embedding %d %s on %d actors", len(texts), what, actors)
        data = ray.data.from_items([{"row": i, "text": t} for i, t in enumerate(texts)])
        done = data.map_batches(
            _EmbedBatches,
            fn_constructor_kwargs={"model": self.model, "device": self.device,
                                   "backend": self.backend, "cache_dir": self.cache_dir,
                                   "batch_size": self.batch_size},
            batch_size=max(self.batch_size, 256), concurrency=actors,
            # One actor a GPU when embedding on GPUs, else one a CPU.
            **({"num_gpus": 1} if self.device.startswith("cuda") else {"num_cpus": 1}),
        )
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        seen = np.zeros(len(texts), dtype=bool)
        # A total of 0 shows nothing: the same loop with progress off.
        with Progress(len(texts) if self.progress else 0, "Embedding", what) as progress:
            # Rows come back in any order; each carries its position.
            for batch in done.iter_batches(batch_format="numpy", batch_size=4096):
                rows = np.asarray(batch["row"], dtype=np.int64)
                out[rows] = np.stack(batch["vector"]).astype(np.float32)
                seen[rows] = True
                progress.update(len(rows))
        if not seen.all():
            raise QAError(f"Ray job returned {int(seen.sum())} of {len(texts)} {what} vectors")
        return out
