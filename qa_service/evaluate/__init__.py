"""Measure retrieval quality: question files (dev.jsonl format) and BEIR collections.

Every report compares the same rankings side by side: dense only (passage cosine),
lexical only (BM25) and the default hybrid.
"""

from __future__ import annotations

from dataclasses import fields

from qa_service.config import Settings


def _only(signal: str) -> dict:
    """Settings changes that rank by one fusion signal alone."""
    weights = [f.name for f in fields(Settings) if f.name.startswith("weight_")]
    return {"fusion": "weighted", **{w: float(w == f"weight_{signal}") for w in weights}}


# Each ranking is the default settings with these changes.
RANKINGS: dict[str, dict] = {"dense": _only("dense"), "lexical": _only("lexical"), "default": {}}


def ranking_settings(settings: Settings) -> dict[str, Settings]:
    """Return the settings of each compared ranking."""
    return {name: settings.with_(**changes) for name, changes in RANKINGS.items()}
