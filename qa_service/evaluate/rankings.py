"""The rankings every report compares: dense only, lexical only and the default hybrid."""

from __future__ import annotations

from qa_service.config import RankingSettings, Settings


def _only(signal: str) -> dict:
    """Settings changes that rank by one fusion signal alone."""
    weights = {f"weight_{name}": float(name == signal)
               for name in RankingSettings().fusion_weights}
    return {"fusion": "weighted", **weights}


# Each ranking is the default settings with these changes.
RANKINGS: dict[str, dict] = {"dense": _only("dense"), "lexical": _only("lexical"), "default": {}}


def ranking_settings(settings: Settings) -> dict[str, Settings]:
    """Return the settings of each compared ranking."""
    return {name: settings.with_(**changes) for name, changes in RANKINGS.items()}
