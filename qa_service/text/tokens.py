"""Tokens as search sees them: words, stopwords, content terms and a model-free token count."""

from __future__ import annotations

import re

from qa_service.text.normalize import fold, normalize

# Tokens as FTS5's unicode61 tokenizer sees them: runs of letters and digits.
TOKEN_RE = re.compile(r"[^\W_]+")
# Words and punctuation marks: about what a WordPiece model counts, without the model.
_WORD_OR_MARK_RE = re.compile(r"\w+|[^\w\s]")

# Function words and question words: they match nearly every passage, so an OR query
# over them costs time and adds noise that BM25's inverse document frequency only
# partly removes in a small corpus.
STOPWORDS = frozenset("""
a about above after again against all also am an and any are as at be because been before
being below between both but by can could did do does doing done down during each either
few for from further get got had has have having he her here hers herself him himself his
how i if in into is it its itself just let many me might more most much must my myself no
nor not now of off on once only or other ought our ours ourselves out over own per same
shall she should so some such than that the their theirs them themselves then there these
they this those through to too under until up upon us very was we were what when where
which while who whom whose why will with would yet you your yours yourself yourselves
""".split())


def approx_tokens(text: str) -> int:
    """Count words and punctuation marks: a tokenizer-free estimate of model tokens."""
    return len(_WORD_OR_MARK_RE.findall(text))


def tokens(text: str) -> list[str]:
    """Return the words of `text`, folded (lower case, no diacritics), in order."""
    return TOKEN_RE.findall(fold(text))


def terms(text: str) -> list[str]:
    """Return the distinct content words of `text`, folded, in order."""
    words = tokens(normalize(text))
    seen = dict.fromkeys(t for t in words if t not in STOPWORDS and (len(t) > 1 or t.isdigit()))
    # A question made only of stopwords still deserves a lexical search.
    return list(seen or dict.fromkeys(words))


# Words shorter than this are left without a word vector: "war" and "gun" matter, but
# two-letter words are abbreviations and particles whose vectors say little.
VECTOR_WORD_MIN = 3


def has_vector(word: str) -> bool:
    """Whether a folded token gets a word vector: letters only, at least VECTOR_WORD_MIN
    long, no stopword."""
    return len(word) >= VECTOR_WORD_MIN and word.isalpha() and word not in STOPWORDS


def vector_words(text: str) -> list[str]:
    """Return the distinct content words of `text` that get a word vector, folded, in order."""
    return list(dict.fromkeys(t for t in tokens(text) if has_vector(t)))


def located_vector_words(text: str) -> tuple[tuple[int, ...], tuple[str, ...]]:
    """Return where in `text` each of its words with a vector starts, and those words
    (folded, as `vector_words` reads them), in order and each time they occur."""
    if text.isascii():  # folding keeps every offset: one pass over the folded text
        found = [(m.start(), m.group()) for m in TOKEN_RE.finditer(fold(text))]
    else:
        found = [(m.start(), fold(m.group())) for m in TOKEN_RE.finditer(text)]
    kept = [(at, w) for at, w in found if has_vector(w)]
    return tuple(at for at, _ in kept), tuple(w for _, w in kept)
