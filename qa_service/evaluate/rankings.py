"""The rankings every report compares: each retrieval signal alone, and each fusion."""

from __future__ import annotations

from qa_service.config import Settings
from qa_service.search.signals import SIGNALS


def _only(signal: str) -> dict:
    """Settings changes that rank by one signal alone."""
    return {"fusion": "weighted",
            "weights": ",".join(f"{s.name}={float(s.name == signal)}" for s in SIGNALS)}


def ranking_settings(settings: Settings) -> dict[str, Settings]:
    """Return the settings of each compared ranking: the retrieval signals alone (dense,
    lexical), the hand-set weighted fusion and the learned ranker, and the configured
    fusion if it is another."""
    changes = {s.name: _only(s.name) for s in SIGNALS if s.alone}
    changes |= {"weighted": {"fusion": "weighted"}, "learned": {"fusion": "learned"}}
    if settings.ranking.fusion not in changes:
        changes[settings.ranking.fusion] = {}
    return {name: settings.with_(**change) for name, change in changes.items()}
