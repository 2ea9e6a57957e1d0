"""Word keys: a folded word cut to its stem, as sentences are matched against questions."""

from __future__ import annotations

from functools import lru_cache

from qa_service.text.normalize import fold
from qa_service.text.tokens import STOPWORDS, TOKEN_RE


def stem(word: str) -> str:
    """Cut a word to a crude stem, enough to match 'injured' with 'injuries' and 'shops'
    with 'shop'."""
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        word = word[:-1]
    return word[:5] if len(word) > 5 else word


# Caches are bounded: questions bring words without end (names, numbers, typos), and a
# cache that grew with them would be a slow leak in a long-running server.
@lru_cache(maxsize=4096)
def key(token: str) -> str:
    """Return the stem of a folded word (cached: the same words recur across passages)."""
    return stem(fold(token))


@lru_cache(maxsize=16384)
def content_key(token: str) -> str | None:
    """Return the key of a content word; None for a stopword."""
    folded = fold(token)
    return None if folded in STOPWORDS else stem(folded)


def content_keys(text: str) -> tuple[tuple[int, ...], tuple[str, ...]]:
    """Return the offsets and keys of the content words of `text`, in order."""
    found = [(m.start(), content_key(m.group())) for m in TOKEN_RE.finditer(text)]
    found = [(at, k) for at, k in found if k is not None]
    return tuple(at for at, _ in found), tuple(k for _, k in found)
