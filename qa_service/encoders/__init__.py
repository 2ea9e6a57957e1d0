"""Encoders: texts -> unit vectors, behind one interface; `select` picks one by settings."""

from qa_service.encoders.backends import (
    BACKEND_CHOICES,
    BACKENDS,
    check_backend,
    cpu_has_bf16,
    effective_backend,
    question_backend,
    resolve_backend,
    vector_kind,
)
from qa_service.encoders.base import Encoder, TokenCount
from qa_service.encoders.cached import CachedEncoder
from qa_service.encoders.hashing import HashEncoder
from qa_service.encoders.select import encoder_for, get_encoder, is_model_free, prepare

__all__ = [
    "BACKENDS", "BACKEND_CHOICES", "CachedEncoder", "Encoder", "HashEncoder", "TokenCount",
    "check_backend", "cpu_has_bf16", "effective_backend", "encoder_for", "get_encoder",
    "is_model_free", "prepare", "question_backend", "resolve_backend", "vector_kind",
]
