"""Alike: the question's words met by words of like meaning, in a sentence or the passage.

"How many people died?" is answered by "killed five", which shares no word with it: the
term signals miss it, a sentence's cosine blurs it with every other death toll. Here a
word counts as met by a word whose vector is close to its own (search.alike).
"""

import numpy as np

from qa_service.search.candidates import Candidates, Scores
from qa_service.search.signals.base import Signal


def _alike_sentence(c: Candidates) -> Scores:
    if c.alike is None or not c.rows:
        return dict.fromkeys(c.rows, 0.0)
    owners, pieces, bounds, texts = [], [], [], []
    base = 0
    plain = bool(c.alike.plain)  # question words without a vector, found in the text
    for row, rec in c.records.items():
        # The passage's words as the build stored them; a sentence takes those starting
        # within it.
        words, starts = c.index.words.passage_words(row)
        spans = np.array([span for span, _ in c.sentences[row]], dtype=np.int64)
        bounds.append(base + np.searchsorted(starts, spans))
        pieces.append(words)
        owners.extend([row] * len(spans))
        if plain:
            texts.extend(rec["text"][a:b] for a, b in spans.tolist())
        base += len(words)
    every = np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.int64)
    shares = c.alike.segment_shares(every, np.concatenate(bounds),
                                    texts if plain else None)
    best = dict.fromkeys(c.records, 0.0)
    for row, share in zip(owners, shares.tolist()):
        best[row] = max(best[row], share)
    return best


def _alike_passage(c: Candidates) -> Scores:
    if c.alike is None or not c.rows:
        return dict.fromkeys(c.rows, 0.0)
    rows = list(c.records)
    texts = [f"{c.records[r]['title'] or ''}\n{c.records[r]['text']}" for r in rows]
    words = [np.concatenate([c.alike.rows_of(c.records[r]["title"] or ""),
                             c.index.words.passage_words(r)[0]]) for r in rows]
    return dict(zip(rows, c.alike.shares(texts, words).tolist()))


ALIKE_SENTENCE = Signal("alike_sentence", "Share of the question's term weight met in the "
                        "passage's best sentence by the same words or words of like meaning "
                        "(word vectors).", _alike_sentence)
ALIKE_PASSAGE = Signal("alike_passage", "Share of the question's term weight met in the "
                       "passage or its document's title by the same words or words of like "
                       "meaning.", _alike_passage)
