"""Alike: the question's words met by words of like meaning, in a sentence or the passage.

"How many people died?" is answered by "killed five", which shares no word with it: the
term signals miss it, a sentence's cosine blurs it with every other death toll. Here a
word counts as met by a word whose vector is close to its own (search.alike).
"""

from qa_service.search.candidates import Candidates, Scores
from qa_service.search.signals.base import Signal


def _read(c: Candidates, which: int) -> Scores:
    scores = dict.fromkeys(c.rows, 0.0)
    if c.alike_shares is not None:  # both signals are worked out together (search.alike)
        scores.update(c.alike_shares[which])
    return scores


def _alike_sentence(c: Candidates) -> Scores:
    return _read(c, 0)


def _alike_passage(c: Candidates) -> Scores:
    return _read(c, 1)


ALIKE_SENTENCE = Signal("alike_sentence", "Share of the question's term weight met in the "
                        "passage's best sentence by the same words or words of like meaning "
                        "(word vectors).", _alike_sentence)
ALIKE_PASSAGE = Signal("alike_passage", "Share of the question's term weight met in the "
                       "passage or its document's title by the same words or words of like "
                       "meaning.", _alike_passage)
