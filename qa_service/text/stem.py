"""Word keys: a folded word's Snowball stem, as sentences are matched against questions.

The stem is English Snowball (Porter2, from PyStemmer), cut to KEY_LENGTH characters:
Snowball leaves "injured" and "injuries" apart (injur, injuri), the cut joins them. On
the training collections (1,000 squad-train-sample questions on each of two seeds, and
all 2,963 realtimeqa-train questions), Snowball alone scored 0.001-0.002 nDCG@10 below
the cut stem and the cut stem equal, within 0.001, to the hand-written rule it replaced.
"""

from __future__ import annotations

import hashlib
import threading
from functools import lru_cache

import Stemmer

from qa_service.text.normalize import fold
from qa_service.text.tokens import STOPWORDS, TOKEN_RE

KEY_LENGTH = 5
# Builds store each passage's keys; an index whose keys were made another way (another cut,
# stopword list or token pattern) has them worked out again from the text when read.
KEY_SCHEME = hashlib.sha256(repr(
    ("snowball-english", KEY_LENGTH, sorted(STOPWORDS), TOKEN_RE.pattern)).encode()
).hexdigest()[:16]
# A stemmer object keeps state between calls: one per thread (a server answers several
# questions at once).
_local = threading.local()


def stem(word: str) -> str:
    """Return the Snowball stem of a lower-case word, cut to KEY_LENGTH characters."""
    stemmer = getattr(_local, "stemmer", None)
    if stemmer is None:
        stemmer = _local.stemmer = Stemmer.Stemmer("english")
    return stemmer.stemWord(word)[:KEY_LENGTH]


# Caches are bounded: questions bring words without end (names, numbers, typos), and a
# cache that grew with them would be a slow leak in a long-running server.
@lru_cache(maxsize=4096)
def key(token: str) -> str:
    """Return the key of a word: its folded stem (cached: words recur across passages)."""
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
