"""Spelling variants of names: phonetic keys shared by transliterations, and name tokens.

Shared by the index build (which records the corpus's vocabulary with its keys) and the
search (which offers a question's names in the corpus's other spellings).
"""

from __future__ import annotations

from collections.abc import Iterator

import jellyfish

from qa_service.text.normalize import fold
from qa_service.text.tokens import TOKEN_RE

# Spelling variants are sought only for words at least this long (shorter words have too
# many real neighbours), within this many edits (RankingSettings.variant_edits).
VARIANT_MIN_LENGTH = 5
VARIANT_MAX_EDITS = 2


def variant_key(word: str) -> str:
    """Return a phonetic key shared by transliterations of one name.

    Metaphone already folds q/k, doubled letters and most vowels (Aqtobe, Aktobe ->
    AKTB); dropping its Y and H also joins Tokayev/Toqaev and Nazarbayev/Nazarbaev.
    """
    return jellyfish.metaphone(fold(word)).replace("Y", "").replace("H", "")


def are_variants(a: str, b: str, max_edits: int = VARIANT_MAX_EDITS) -> bool:
    """Say whether two different words are likely spellings of one name."""
    a, b = fold(a), fold(b)
    return (a != b and min(len(a), len(b)) >= VARIANT_MIN_LENGTH
            and variant_key(a) == variant_key(b)
            and jellyfish.damerau_levenshtein_distance(a, b) <= max_edits)


def may_have_variants(word: str) -> bool:
    """Say whether a word is long enough, and alphabetic, to be looked up for variants."""
    return len(word) >= VARIANT_MIN_LENGTH and word.isalpha()


def name_tokens(text: str) -> Iterator[tuple[str, bool | None]]:
    """Yield each alphabetic token long enough to have variants, folded, and whether it
    is capitalised where it stands (None at the start of a sentence, where it says
    nothing)."""
    for match in TOKEN_RE.finditer(text):
        token = match.group(0)
        if not may_have_variants(token):
            continue
        before = text[: match.start()].rstrip(" \t\"'“‘(«")
        sentence_start = not before or before[-1] in ".!?:\n"
        yield fold(token), None if sentence_start else token[0].isupper()
