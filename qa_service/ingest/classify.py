"""Classify a document's blocks as story or furniture, in the manner of jusText.

jusText (Pomikálek 2011) labels each paragraph of a page by its length, its share of
stopwords and its share of link text, then lets short and borderline paragraphs take
the class of their neighbours. Plain text has no links, so here a block's features are
its length, its stopword density (jusText's English stoplist), whether it reads as a
sentence, and whether a furniture rule names it; the neighbour revision is jusText's.
"""

from __future__ import annotations

import re
from functools import lru_cache

from qa_service.ingest.furniture import is_sentence

GOOD, NEAR, SHORT, BAD = "good", "neargood", "short", "bad"

# jusText's defaults for English.
LENGTH_LOW = 70
LENGTH_HIGH = 200
STOPWORDS_LOW = 0.30
STOPWORDS_HIGH = 0.32
# A sentence this long is a paragraph of the story whatever its stopwords: news prose
# full of names and figures ("Chelsea beat Arsenal 4-0 in 2018 ...") has few of them.
SENTENCE_MIN_CHARS = 40

_WORD_RE = re.compile(r"[\w'’-]+")


@lru_cache(maxsize=1)
def stopwords() -> frozenset[str]:
    """Return jusText's English stoplist (a small built-in list if jusText is absent)."""
    try:
        import justext

        return frozenset(w.casefold() for w in justext.get_stoplist("English"))
    except (ImportError, ValueError):  # jusText is optional: a core of function words
        return frozenset(
            "a about after all also an and are as at be been but by can could for from had "
            "has have he her his i if in into is it its more not of on one or our she so "
            "than that the their there they this to was we were what when which who will "
            "with would you".split()
        )


def stopword_density(text: str) -> float:
    """Return the share of the words of `text` that are stopwords."""
    words = _WORD_RE.findall(text.casefold())
    if not words:
        return 0.0
    stop = stopwords()
    return sum(w in stop for w in words) / len(words)


def initial_class(text: str, furniture: bool) -> str:
    """Return a block's class from its own features alone."""
    if furniture:
        return BAD
    density = stopword_density(text)
    if is_sentence(text) and len(text) >= SENTENCE_MIN_CHARS:
        return GOOD if len(text) >= LENGTH_HIGH or density >= STOPWORDS_LOW / 2 else NEAR
    if len(text) < LENGTH_LOW:
        return SHORT
    if density >= STOPWORDS_HIGH:
        return GOOD if len(text) > LENGTH_HIGH else NEAR
    return NEAR if density >= STOPWORDS_LOW else BAD


def revise(classes: list[str]) -> list[str]:
    """Let short and near-good blocks take their neighbours' class (jusText's revision)."""
    out = list(classes)
    for i, cls in enumerate(classes):
        if cls != SHORT:
            continue
        prev, nxt = _neighbour(classes, i, -1, True), _neighbour(classes, i, 1, True)
        if prev == nxt:
            out[i] = prev
        elif BAD in (prev, nxt) and GOOD in (prev, nxt):
            # Between the story and furniture: story only when a near-good block is beside it.
            near = (_neighbour(classes, i, -1, False) == NEAR
                    or _neighbour(classes, i, 1, False) == NEAR)
            out[i] = GOOD if near else BAD
        else:
            out[i] = GOOD  # good on one side, the document's edge or near-good on the other
    for i, cls in enumerate(out):
        if cls != NEAR:
            continue
        prev, nxt = _neighbour(out, i, -1, True), _neighbour(out, i, 1, True)
        out[i] = GOOD if GOOD in (prev, nxt) else BAD
    return out


def _neighbour(classes: list[str], i: int, step: int, skip_near: bool) -> str:
    """Return the class of the nearest block that is not short (nor near-good if asked)."""
    j = i + step
    while 0 <= j < len(classes):
        if classes[j] not in (SHORT, NEAR) or (classes[j] == NEAR and not skip_near):
            return classes[j]
        j += step
    return BAD  # the edges of the page count as furniture, as in jusText
