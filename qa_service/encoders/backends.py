"""Which backend runs the model: the names, the policy for "auto", and what each one gives."""

from __future__ import annotations

import functools

from qa_service.config import BACKEND_CHOICES, BACKENDS, ModelSettings
from qa_service.errors import ModelError

__all__ = ["BACKENDS", "BACKEND_CHOICES", "TORCH_BACKENDS", "check_backend", "cpu_has_bf16",
           "effective_backend", "question_backend", "resolve_backend", "vector_kind"]
# Backends on torch; the others run the ONNX export on onnxruntime.
TORCH_BACKENDS = frozenset({"torch", "bf16"})


def check_backend(backend: str) -> None:
    """Refuse a backend name that is not one of BACKEND_CHOICES."""
    if backend not in BACKEND_CHOICES:
        raise ModelError(f"unknown backend {backend!r}: expected one of "
                         f"{', '.join(BACKEND_CHOICES)}")


def resolve_backend(backend: str, device: str = "cpu", serving: bool = False) -> str:
    """Return the backend that will run `backend` on `device` ("auto" made concrete).

    "auto" is bf16 on a GPU and on a CPU that multiplies bf16 in hardware (AMX: 2.6
    times the passages a second of onnx), else int8 for a build (2.8 times onnx's on a
    2-core CPU without AMX, one text a core; rankings within noise once the ranker is
    fitted on int8 indexes: both in docs/performance.md); a server that encodes
    questions takes onnx, which keeps torch out of its memory.
    """
    if device != "cpu":  # onnxruntime here is the CPU build: a GPU runs torch
        return "bf16" if backend in ("auto", "bf16") else "torch"
    if backend == "auto":
        if serving:
            return "onnx"
        return "bf16" if cpu_has_bf16() else "int8"
    return backend


@functools.cache  # the processor does not change while a process runs
def cpu_has_bf16() -> bool:
    """Say whether this CPU has AMX bf16 tiles (read from /proc/cpuinfo, importing nothing)."""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as fh:
            return any(line.startswith("flags") and "amx_bf16" in line.split()
                       for line in fh)
    except OSError:
        return False


def question_backend(model: ModelSettings) -> str:
    """Return the backend a server encodes questions with."""
    return resolve_backend(model.query_backend or model.backend, model.device, serving=True)


def effective_backend(model: ModelSettings) -> str:
    """Return the backend that builds will run on (a GPU device always runs on torch)."""
    return resolve_backend(model.backend, model.device)


def vector_kind(backend: str | None) -> str:
    """Return which vectors a backend computes: "int8" or "full" precision.

    onnx computes the vectors torch does, and bf16 comes within 1e-4 cosine of them, so
    vectors of one kind stand for each other; int8 vectors of a text differ (cosine about
    0.99). An index that recorded no backend was built before backends existed: torch.
    """
    return "int8" if backend == "int8" else "full"
