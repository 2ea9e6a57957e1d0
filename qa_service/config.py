"""Settings: defaults, then `QA_*` environment variables, then explicit overrides."""

from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace
from pathlib import Path

from qa_service.errors import InvalidInput

DEFAULT_MODEL = "all-MiniLM-L6-v2"
# How an embedding model can run; see Settings.backend. "auto" picks one of them.
BACKENDS = ("onnx", "int8", "torch", "bf16")
BACKEND_CHOICES = ("auto", *BACKENDS)


@dataclass(frozen=True)
class Settings:
    """Everything the pipeline can be told; one instance per process or test."""

    corpus: Path = Path("corpus")
    index_dir: Path = Path("index")
    model: str = DEFAULT_MODEL
    device: str = "cpu"
    # How the model runs: "onnx" (the model exported once to ONNX and run by onnxruntime:
    # the same vectors as torch, a fraction of its per-call overhead and memory), "int8"
    # (that export with 8-bit weights: faster, vectors within 0.99 cosine), "torch"
    # (sentence-transformers' model in fp32), "bf16" (that model with bfloat16 matrix
    # products: vectors within 1e-4 cosine of fp32, twice as fast as onnx where the
    # processor multiplies bf16 natively, e.g. AMX, and on GPUs), or "auto": bf16 on a GPU
    # or a CPU with AMX, else onnx (see docs/performance.md).
    backend: str = "auto"
    # How a server encodes questions (empty: as `backend`). int8 halves the cost of a
    # question on the CPU, within 0.2 points of fp32 questions on every evaluation set;
    # each question is encoded alone, so its vector depends on it only (docs/performance.md).
    query_backend: str = "int8"
    # Threads for one encoding call; 0: one per request when serving (requests run side
    # by side), every core when building.
    encode_threads: int = 0
    # Where exported ONNX models are kept between runs (made from the local weights).
    model_cache: Path = Path("~/.cache/qa-service")
    # Question vectors remembered by the server: a repeated question skips the model.
    query_cache: int = 1024
    top_k: int = 5
    # Chunking: passages longer than the model window are split at sentences;
    # fragments shorter than min_chars are merged with a neighbour.
    max_tokens: int = 256
    min_chars: int = 60
    # Embed each passage after its document's title, so that a passage that never names
    # its subject ("It was founded in 1852") is still found by it.
    embed_title: bool = False
    # Above this many passages the vector index is approximate (IVF) instead of exact:
    # exact search costs ~0.4 ms per 1k passages a query on 2 cores, IVF stays under 1 ms
    # with recall@10 >= 0.99 (benchmarks/growth.py, docs/scaling.md).
    exact_limit: int = 20_000
    # Minimum relevance for `answerable`; see docs/architecture.md for its calibration.
    answer_threshold: float = 0.55
    batch_size: int = 64
    # `build --engine ray`: embedding actors (0: one per CPU of the Ray cluster).
    ray_actors: int = 0
    # Retrieval: candidates taken from each of dense and lexical search, then fused.
    candidates: int = 50
    fusion: str = "weighted"
    # Fusion weights, measured in docs/evaluation.md: passage cosine, BM25, best-sentence
    # cosine, share of the question's term weight in the passage and in its best
    # sentence, its adjacent word pairs found adjacent, an answer of the kind asked, and
    # the share of the question's names (words the corpus capitalises) in the passage.
    weight_dense: float = 0.3
    weight_lexical: float = 0.25
    weight_sentence: float = 0.3
    weight_coverage: float = 0.1
    weight_terms: float = 0.2
    weight_phrases: float = 0.1
    weight_answer_type: float = 0.1
    weight_names: float = 0.1
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
    # A server checks this often (seconds) whether `current` names a new build, and then
    # serves it without a restart; 0 leaves the switch to SIGHUP alone.
    reload_interval: float = 1.0
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
                "sentence": self.weight_sentence, "coverage": self.weight_coverage,
                "terms": self.weight_terms, "phrases": self.weight_phrases,
                "answer_type": self.weight_answer_type, "names": self.weight_names}

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
