"""Consensus: the passage's cosine with the centroid of the best few dense candidates.

The nearest passages to a question, taken together, say how the corpus writes about its
topic (pseudo-relevance feedback, after Rocchio): a passage close to them and to the
question is on topic even when its own words differ from the question's.
"""

import numpy as np

from qa_service.search.candidates import Candidates, Scores
from qa_service.search.signals.base import Signal

DEPTH = 3  # how many of the best dense candidates make the centroid


def _consensus(c: Candidates) -> Scores:
    dense = c.retrieved["dense"]
    if not c.rows:
        return {}
    top = sorted(c.rows, key=lambda r: -dense.get(r, 0.0))[:DEPTH]
    vectors = c.index.vectors.vectors(c.rows)
    centroid = vectors[[c.rows.index(r) for r in top]].mean(axis=0)
    norm = float(np.linalg.norm(centroid))
    if not norm:
        return dict.fromkeys(c.rows, 0.0)
    return dict(zip(c.rows, (vectors @ (centroid / norm)).tolist()))


CONSENSUS = Signal("consensus", "Cosine of the passage with the centroid of the "
                   f"{DEPTH} passages nearest the question.", _consensus)
