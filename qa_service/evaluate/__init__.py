"""Measure retrieval quality: question files (dev.jsonl format) and BEIR collections.

Every report compares the same rankings side by side: dense only (passage cosine),
lexical only (BM25) and the default hybrid.
"""

from __future__ import annotations

from qa_service.config import Settings

# Each ranking is the default settings with these changes.
RANKINGS: dict[str, dict] = {
    "dense": {"fusion": "weighted", "weight_dense": 1.0, "weight_lexical": 0.0,
              "weight_sentence": 0.0},
    "lexical": {"fusion": "weighted", "weight_dense": 0.0, "weight_lexical": 1.0,
                "weight_sentence": 0.0},
    "default": {},
}


def ranking_settings(settings: Settings) -> dict[str, Settings]:
    """Return the settings of each compared ranking."""
    return {name: settings.with_(**changes) for name, changes in RANKINGS.items()}
