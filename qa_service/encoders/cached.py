"""An encoder wrapper that remembers recent vectors: a repeated question skips the model."""

from __future__ import annotations

import threading
from collections import OrderedDict

import numpy as np

from qa_service.encoders.base import Encoder


class CachedEncoder:
    """An encoder that remembers the vectors of the last `size` texts it encoded."""

    def __init__(self, encoder: Encoder, size: int):
        self.encoder = encoder
        self.name = encoder.name
        self.dimension = encoder.dimension
        self.max_tokens = encoder.max_tokens
        self.backend = encoder.backend
        self.size = size
        # A build through this wrapper pools sentence vectors as the encoder would
        # (encoders.pooling); passages are not remembered.
        if hasattr(encoder, "encode_spans"):
            self.encode_spans = encoder.encode_spans
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def encode(self, texts, batch_size=64, progress=None) -> np.ndarray:
        texts = list(texts)
        with self._lock:
            found = {t: self._vectors.get(t) for t in texts}
            for t, v in found.items():
                if v is not None:
                    self._vectors.move_to_end(t)
        missing = [t for t, v in found.items() if v is None]
        if progress:  # remembered texts, and repeats of ones to encode
            progress.update(len(texts) - len(missing))
        if missing:
            new = self.encoder.encode(missing, batch_size, progress)
            with self._lock:
                for t, v in zip(missing, new, strict=True):
                    found[t] = v
                    self._vectors[t] = v
                while len(self._vectors) > self.size:
                    self._vectors.popitem(last=False)
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.stack([found[t] for t in texts])

    def count_tokens(self, text: str) -> int:
        return self.encoder.count_tokens(text)
