"""Sentence vectors pooled from their passage's own token states: one pass for both.

A passage's sentences used to be embedded again, one by one, after the passage: on SQuAD
paragraphs that second pass cost twice the first (7,905 sentences against 1,794
passages), on SciFact as much as the first. The transformer has already computed every
token of each sentence in its passage's pass; the mean of a sentence's token states is
its vector ("late chunking"), read in the context of the passage around it. Ranked by
their best sentence alone, passages were found better with these vectors than with
sentences embedded alone (MRR@10 on 1,000 SQuAD questions 0.811 against 0.801, on 1,500
RealTime QA ones 0.698 against 0.677; benchmarks/sentence_vectors.py, docs/performance.md).
A sentence past the model's window (a passage longer than it) is embedded alone, as
before.
"""

from __future__ import annotations

import numpy as np

Spans = list[tuple[int, int]]

# How sentence vectors are made (BuildSettings.sentence_vectors).
POOLED, SEPARATE = "pooled", "separate"
SENTENCE_VECTORS = (POOLED, SEPARATE)


def span_starts(spans: list[Spans]) -> np.ndarray:
    """Return where each text's spans start among all of them, and their count last."""
    return np.concatenate([[0], np.cumsum([len(s) for s in spans])]).astype(np.int64)


def span_texts(texts: list[str], spans: list[Spans]) -> list[str]:
    """Return every span's text, passage by passage."""
    return [text[s:e] for text, own in zip(texts, spans) for s, e in own]


def pool_spans(hidden: np.ndarray, encoding, spans: Spans, truncated: bool
               ) -> tuple[np.ndarray, list[int]]:
    """Return the unit mean of each span's token states (`hidden`: the text's, one row a
    token of `encoding`), and the spans the window does not hold whole (left zero).

    A token belongs to a span when its characters lie inside it; special and padding
    tokens belong to none. With the text cut at the window (`truncated`), a span ending
    past its last token is missed.
    """
    out = np.zeros((len(spans), hidden.shape[-1]), dtype=np.float32)
    missed: list[int] = []
    if not spans:
        return out, missed
    offsets = np.asarray(encoding.offsets, dtype=np.int64).reshape(-1, 2)[: len(hidden)]
    real = (np.asarray(encoding.attention_mask[: len(hidden)], dtype=bool)
            & ~np.asarray(encoding.special_tokens_mask[: len(hidden)], dtype=bool)
            & (offsets[:, 1] > offsets[:, 0]))
    reach = int(offsets[real, 1].max()) if truncated and real.any() else None
    starts, ends = offsets[:, 0], offsets[:, 1]
    for i, (s, e) in enumerate(spans):
        inside = real & (starts >= s) & (ends <= e)
        if (reach is not None and e > reach) or not inside.any():
            missed.append(i)
            continue
        vector = hidden[inside].mean(axis=0)
        out[i] = vector / max(float(np.linalg.norm(vector)), 1e-12)
    return out, missed


def embed_with_spans(encoder, texts: list[str], spans: list[Spans], batch_size: int = 64,
                     progress=None, how: str = POOLED) -> tuple[np.ndarray, np.ndarray]:
    """Return the texts' vectors and every span's vector (passage by passage): pooled
    from one pass where the encoder can, else each span embedded alone."""
    if not can_pool(encoder, how):
        vectors = encoder.encode(texts, batch_size=batch_size, progress=progress)
        return vectors, encoder.encode(span_texts(texts, spans), batch_size=batch_size)
    vectors, sentences, missed = encoder.encode_spans(texts, spans, batch_size, progress)
    if missed:
        flat = span_texts(texts, spans)
        sentences[missed] = encoder.encode([flat[i] for i in missed], batch_size=batch_size)
    return vectors, sentences


def can_pool(encoder, how: str) -> bool:
    """Whether `encoder` pools sentence vectors from its passages' pass under `how`."""
    return how == POOLED and getattr(encoder, "encode_spans", None) is not None


class SpanPool:
    """Collect pooled span vectors batch by batch, row by row, in passage order."""

    def __init__(self, spans: list[Spans], dimension: int):
        self.spans = spans
        self.first = span_starts(spans)
        self.vectors = np.zeros((int(self.first[-1]), dimension), dtype=np.float32)
        self.missed: list[int] = []

    def add(self, row: int, hidden: np.ndarray, encoding, truncated: bool) -> None:
        """Pool text `row`'s spans from its token states."""
        pooled, missed = pool_spans(hidden, encoding, self.spans[row], truncated)
        start = int(self.first[row])
        self.vectors[start:start + len(pooled)] = pooled
        self.missed += [start + i for i in missed]
