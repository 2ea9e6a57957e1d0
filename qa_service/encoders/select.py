"""Pick the encoder that settings ask for: the one place a name and a backend become a model."""

from __future__ import annotations

from pathlib import Path

from qa_service.config import ModelSettings
from qa_service.encoders.backends import (
    TORCH_BACKENDS,
    check_backend,
    effective_backend,
    question_backend,
    resolve_backend,
)
from qa_service.encoders.base import Encoder
from qa_service.encoders.cached import CachedEncoder
from qa_service.encoders.hashing import parse_hash_name
from qa_service.encoders.models import check_device, resolve_model_path

_DEFAULTS = ModelSettings()


def is_model_free(name: str) -> bool:
    """Say whether `name` is the hashing encoder (no model, no backend)."""
    return name.startswith("hash:")


def encoder_for(model: ModelSettings, name: str | None = None, serving: bool = False
                ) -> Encoder:
    """Return the encoder that `model` asks for, set up to serve questions or to build.

    `name` names another model than `model.name` (the one an index was built with).
    """
    # Serving: one thread per call, since requests run side by side on the cores.
    threads = model.encode_threads or (1 if serving else 0)
    backend = question_backend(model) if serving else model.backend
    encoder = get_encoder(name or model.name, model.device, backend, threads, model.cache)
    if serving and model.query_cache > 0:
        return CachedEncoder(encoder, model.query_cache)
    return encoder


def get_encoder(name: str, device: str = "cpu", backend: str = _DEFAULTS.backend,
                threads: int = 0, cache_dir: Path | str = _DEFAULTS.cache) -> Encoder:
    """Return the encoder called `name` (`hash:DIM` or a model), run by `backend`.

    A device other than the CPU always runs on torch: onnxruntime here is the CPU build.
    `threads` is the threads of one call (0: the library's default, every core).
    """
    check_backend(backend)
    if is_model_free(name):
        return parse_hash_name(name)
    if device != "cpu":
        check_device(device)
    backend = resolve_backend(backend, device)
    if backend in TORCH_BACKENDS:
        from qa_service.encoders.torch_model import SentenceTransformerEncoder

        return SentenceTransformerEncoder(name, device, threads, bf16=backend == "bf16")
    from qa_service.encoders.onnx_model import OnnxEncoder

    return OnnxEncoder(name, resolve_model_path(name, local_only=True), Path(cache_dir),
                       quantized=backend == "int8", threads=threads)


def prepare(model: ModelSettings, name: str) -> None:
    """Make the cached ONNX file now, once, rather than in each server worker at its start."""
    for backend in (model.backend, model.query_backend):
        check_backend(backend or "auto")  # a clear error now, not workers failing to boot
    backends = {effective_backend(model), question_backend(model)} - TORCH_BACKENDS
    if is_model_free(name) or not backends or model.device != "cpu":
        return
    from qa_service.encoders.onnx_export import cached_export

    for backend in sorted(backends):
        cached_export(Path(resolve_model_path(name, local_only=True)), Path(model.cache),
                      quantized=backend == "int8")
