"""A model-free encoder: deterministic bag-of-words hashing vectors, for tests and trials."""

from __future__ import annotations

import hashlib
import re

import numpy as np

from qa_service.errors import ModelError
from qa_service.text import approx_tokens


class HashEncoder:
    """Deterministic bag-of-words hashing vectors: fast, model-free, for tests and trials."""

    max_tokens = 256
    backend = None
    _TOKEN_RE = re.compile(r"\w+")

    def __init__(self, dimension: int = 64):
        if dimension < 2:
            raise ModelError("hash encoder dimension must be at least 2")
        self.name = f"hash:{dimension}"
        self.dimension = dimension

    def _vector(self, text: str) -> np.ndarray:
        vec = np.zeros(self.dimension, dtype=np.float32)
        for token in self._TOKEN_RE.findall(text.lower()):
            h = int.from_bytes(hashlib.blake2b(token.encode(), digest_size=8).digest(), "little")
            vec[h % self.dimension] += 1.0 if (h >> 32) & 1 else -1.0
        norm = np.linalg.norm(vec)
        return vec / norm if norm else vec

    def encode(self, texts, batch_size=64, progress=None) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = []
        for text in texts:
            vectors.append(self._vector(text))
            if progress:  # text by text, as a model's batches would count
                progress.update()
        return np.stack(vectors).astype(np.float32)

    def encode_spans(self, texts, spans, batch_size=64, progress=None
                     ) -> tuple[np.ndarray, np.ndarray, list[int]]:
        """Return the texts' vectors and their spans' (encoders.pooling): a bag of words
        has no token states, so a span's vector is its own text's, as embedded alone; a
        build takes the pooled path all the same (its plumbing is what tests exercise)."""
        vectors = self.encode(list(texts), batch_size, progress)
        flat = [text[s:e] for text, own in zip(texts, spans) for s, e in own]
        return vectors, self.encode(flat), []

    def count_tokens(self, text: str) -> int:
        return approx_tokens(text)

    token_counter = staticmethod(approx_tokens)  # a module function: pickles for workers


def parse_hash_name(name: str) -> HashEncoder:
    """Return the hash encoder that `hash:DIM` names."""
    try:
        return HashEncoder(int(name.split(":", 1)[1]))
    except ValueError:
        raise ModelError(f"bad hash encoder name {name!r}: expected hash:DIM") from None
