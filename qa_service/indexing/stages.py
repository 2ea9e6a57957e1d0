"""Time a build's stages: how long each took, for how many items, and on which Ray nodes."""

from __future__ import annotations

import logging
import time
from collections.abc import Collection
from dataclasses import dataclass, field

log = logging.getLogger(__name__)


@dataclass
class Stage:
    """How long one stage of a build took, for how many items, and on which Ray nodes."""

    seconds: float = 0.0
    items: int = 0
    nodes: set[str] = field(default_factory=set)


def record(stages: dict[str, Stage], name: str, started: float, items: int,
           nodes: Collection[str] = ()) -> None:
    """Add a stage's time since `started` (time.perf_counter) to `stages`, and log it."""
    stage = stages.setdefault(name, Stage())
    seconds = time.perf_counter() - started
    stage.seconds += seconds
    stage.items += items
    stage.nodes.update(nodes)
    where = f" on {len(stage.nodes)} Ray node(s)" if stage.nodes else ""
    log.info("%s: %d in %.2f s%s", name, items, seconds, where)
