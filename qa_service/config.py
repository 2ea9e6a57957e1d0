"""Settings: defaults, then `QA_*` environment variables, then explicit overrides."""

from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace
from pathlib import Path

from qa_service.errors import InvalidInput

DEFAULT_MODEL = "all-MiniLM-L6-v2"


@dataclass(frozen=True)
class Settings:
    """Everything the pipeline can be told; one instance per process or test."""

    corpus: Path = Path("corpus")
    index_dir: Path = Path("index")
    model: str = DEFAULT_MODEL
    device: str = "cpu"
    top_k: int = 5
    # Chunking: passages longer than the model window are split at sentences;
    # fragments shorter than min_chars are merged with a neighbour.
    max_tokens: int = 256
    min_chars: int = 60
    # Embed each passage after its document's title, so that a passage that never names
    # its subject ("It was founded in 1852") is still found by it.
    embed_title: bool = False
    # Above this many passages the vector index is approximate (HNSW) instead of exact.
    exact_limit: int = 100_000
    # Minimum relevance for `answerable`; see docs/architecture.md for its calibration.
    answer_threshold: float = 0.55
    batch_size: int = 64
    # Retrieval: candidates taken from each of dense and lexical search, then fused.
    candidates: int = 50
    fusion: str = "weighted"
    weight_dense: float = 0.3
    weight_lexical: float = 0.4
    weight_sentence: float = 0.3
    # Maximal marginal relevance: 1 keeps the fused order; lower values trade score for
    # passages unlike those above them.
    mmr_weight: float = 1.0

    # Corpus files larger than this are skipped with a warning: a stray dump or archive
    # would otherwise stall a build and flood the index with one document's fragments.
    max_file_bytes: int = 10 * 1024 * 1024

    # HTTP: origins allowed to call the API from a browser (comma-separated; empty: none),
    # and the largest request body accepted.
    cors_origins: str = ""
    max_request_bytes: int = 256 * 1024
    # Requests allowed per client address, in Flask-Limiter's notation ("60/minute",
    # "10/second;300/hour"); empty: no limit. Counted in each worker's memory, so with
    # several workers a client gets up to that many times the limit.
    rate_limit: str = ""

    @property
    def cors_origin_list(self) -> list[str]:
        return [o.strip() for o in self.cors_origins.split(",") if o.strip()]

    @property
    def fusion_weights(self) -> dict[str, float]:
        return {"dense": self.weight_dense, "lexical": self.weight_lexical,
                "sentence": self.weight_sentence}

    @classmethod
    def from_env(cls, environ: os._Environ | dict | None = None, **overrides) -> Settings:
        """Read `QA_<FIELD>` variables, then apply non-None overrides."""
        environ = os.environ if environ is None else environ
        values = {}
        for f in fields(cls):
            raw = environ.get(f"QA_{f.name.upper()}")
            if raw not in (None, ""):
                values[f.name] = _coerce(f.name, f.type, raw)
        values.update({k: _coerce(k, None, v) for k, v in overrides.items() if v is not None})
        return cls(**values)

    def with_(self, **changes) -> Settings:
        """Return a copy with the non-None changes applied."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


def _coerce(name: str, type_name, value):
    default = getattr(Settings, name)
    if isinstance(default, Path):
        return Path(value)
    try:
        if isinstance(default, bool):
            return str(value).lower() in ("1", "true", "yes", "on")
        if isinstance(default, int):
            return int(value)
        if isinstance(default, float):
            return float(value)
    except (TypeError, ValueError):
        raise InvalidInput(f"setting {name} must be a number, got {value!r}") from None
    return str(value)
