"""Text analysis shared by ingest, indexing and search: normalising, tokens, stems, names."""

from qa_service.text.normalize import Span, fold, join_spans, normalize, normalize_span, slice_span
from qa_service.text.plural import counted
from qa_service.text.stem import KEY_SCHEME, content_key, content_keys, key, stem
from qa_service.text.tokens import (
    STOPWORDS,
    TOKEN_RE,
    approx_tokens,
    has_vector,
    located_vector_words,
    terms,
    tokens,
    vector_words,
)
from qa_service.text.variants import (
    VARIANT_MIN_LENGTH,
    are_variants,
    may_have_variants,
    name_tokens,
    variant_key,
)

__all__ = [
    "KEY_SCHEME", "STOPWORDS", "TOKEN_RE", "VARIANT_MIN_LENGTH", "Span", "approx_tokens",
    "are_variants",
    "content_key", "content_keys", "counted", "fold", "join_spans", "key", "may_have_variants",
    "name_tokens", "normalize", "normalize_span", "slice_span", "stem", "terms", "tokens",
    "variant_key", "vector_words", "located_vector_words", "has_vector",
]
