"""Alike: the question's words met by words of like meaning, in a sentence or the passage.

"How many people died?" is answered by "killed five", which shares no word with it: the
term signals miss it, a sentence's cosine blurs it with every other death toll. Here a
word counts as met by a word whose vector is close to its own (search.alike).
"""

from bisect import bisect_left

from qa_service.search.alike import located_words
from qa_service.search.candidates import Candidates, Scores
from qa_service.search.signals.base import Signal


def _alike_sentence(c: Candidates) -> Scores:
    if c.alike is None or not c.rows:
        return dict.fromkeys(c.rows, 0.0)
    owners, texts, words = [], [], []
    for row, rec in c.records.items():
        # The passage read once; each sentence takes the words that start within it.
        starts, found = located_words(rec["text"])
        for (start, end), _ in c.sentences[row]:
            owners.append(row)
            texts.append(rec["text"][start:end])
            words.append(found[bisect_left(starts, start):bisect_left(starts, end)])
    best = dict.fromkeys(c.records, 0.0)
    for row, share in zip(owners, c.alike.shares(texts, words).tolist()):
        best[row] = max(best[row], share)
    return best


def _alike_passage(c: Candidates) -> Scores:
    if c.alike is None or not c.rows:
        return dict.fromkeys(c.rows, 0.0)
    rows = list(c.records)
    texts = [f"{c.records[r]['title'] or ''}\n{c.records[r]['text']}" for r in rows]
    words = [located_words(c.records[r]["title"] or "")[1] + located_words(c.records[r]["text"])[1]
             for r in rows]
    return dict(zip(rows, c.alike.shares(texts, words).tolist()))


ALIKE_SENTENCE = Signal("alike_sentence", "Share of the question's term weight met in the "
                        "passage's best sentence by the same words or words of like meaning "
                        "(word vectors).", _alike_sentence)
ALIKE_PASSAGE = Signal("alike_passage", "Share of the question's term weight met in the "
                       "passage or its document's title by the same words or words of like "
                       "meaning.", _alike_passage)
