"""Measure retrieval quality: question files (dev.jsonl format) and BEIR collections.

Every report compares the same rankings side by side: dense only (passage cosine),
lexical only (BM25), the hand-weighted fusion and the learned ranker.
"""

from qa_service.evaluate.beir import Collection, evaluate_beir, load_collection, sample_ids
from qa_service.evaluate.questions import (
    Question,
    describe_miss,
    evaluate_questions,
    load_questions,
    misses,
)
from qa_service.evaluate.rankings import ranking_settings

__all__ = [
    "Collection", "Question", "describe_miss", "evaluate_beir",
    "evaluate_questions", "load_collection", "load_questions", "misses", "ranking_settings",
    "sample_ids",
]
