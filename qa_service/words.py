"""Words as search sees them: tokens, stopwords, crude stems and spelling-variant keys.

Shared by the index build (which records the corpus's vocabulary) and the search
(which matches questions against it).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator

import jellyfish

from qa_service.ingest.normalize import normalize

# Tokens as FTS5's unicode61 tokenizer sees them: runs of letters and digits.
TOKEN_RE = re.compile(r"[^\W_]+")

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

# Spelling variants are sought only for words at least this long (shorter words have too
# many real neighbours), within this many edits.
VARIANT_MIN_LENGTH = 5
VARIANT_MAX_EDITS = 2


def fold(word: str) -> str:
    """Lower-case a word and strip its diacritics (as FTS5's remove_diacritics does)."""
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def terms(text: str) -> list[str]:
    """Return the distinct content words of `text`, lower-cased, in order."""
    tokens = TOKEN_RE.findall(normalize(text).casefold())
    seen = dict.fromkeys(t for t in tokens if t not in STOPWORDS and (len(t) > 1 or t.isdigit()))
    # A question made only of stopwords still deserves a lexical search.
    return list(seen or dict.fromkeys(tokens))


def stem(word: str) -> str:
    """Cut a word to a crude stem, enough to match 'injured' with 'injuries' and 'shops'
    with 'shop'."""
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        word = word[:-1]
    return word[:5] if len(word) > 5 else word


def variant_key(word: str) -> str:
    """Return a phonetic key shared by transliterations of one name.

    Metaphone already folds q/k, doubled letters and most vowels (Aqtobe, Aktobe ->
    AKTB); dropping its Y and H also joins Tokayev/Toqaev and Nazarbayev/Nazarbaev.
    """
    return jellyfish.metaphone(fold(word)).replace("Y", "").replace("H", "")


def are_variants(a: str, b: str) -> bool:
    """Say whether two different words are likely spellings of one name."""
    a, b = fold(a), fold(b)
    return (a != b and min(len(a), len(b)) >= VARIANT_MIN_LENGTH
            and variant_key(a) == variant_key(b)
            and jellyfish.damerau_levenshtein_distance(a, b) <= VARIANT_MAX_EDITS)


def name_tokens(text: str) -> Iterator[tuple[str, bool | None]]:
    """Yield each alphabetic token long enough to have variants, folded, and whether it
    is capitalised where it stands (None at the start of a sentence, where it says
    nothing)."""
    for match in TOKEN_RE.finditer(text):
        token = match.group(0)
        if len(token) < VARIANT_MIN_LENGTH or not token.isalpha():
            continue
        before = text[: match.start()].rstrip(" \t\"'“‘(«")
        sentence_start = not before or before[-1] in ".!?:\n"
        yield fold(token), None if sentence_start else token[0].isupper()
