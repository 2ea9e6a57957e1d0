"""A ranking: the passages chosen for a query and every signal behind their order."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from qa_service.search.query import Query


@dataclass
class Ranking:
    """Passages ranked for a query, with the signals behind the order."""

    query: Query
    rows: list[int]  # best first
    records: dict[int, Any]  # row -> passage record with its document's metadata
    fused: dict[int, float]  # every candidate's fused score: the order
    scores: dict[int, float]  # the ranked rows' scores as an answer shows them
    signals: dict[str, dict[int, float]]  # signal name -> {row: score}
    highlights: dict[int, tuple[int, int]]  # row -> best sentence span in the text
    confidence: float  # P(the first passage answers the question)
    matched: dict[int, list[str]]  # row -> the query terms it contains
    duplicates: dict[int, list[int]]  # row -> near-copies folded into it
    answers: float = 0.0  # P(the corpus answers the question), against the answer threshold
    weights: dict[str, float] | None = None  # the query's terms and their weights (idf)
