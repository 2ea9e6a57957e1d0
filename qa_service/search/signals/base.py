"""The signal interface: one number per candidate passage, higher meaning a likelier answer."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from qa_service.search.candidates import Candidates, Scores


@dataclass(frozen=True)
class Signal:
    """A named score over the candidates of a question, and what it means."""

    name: str
    description: str  # one line, as explain, the OpenAPI document and the CLI show it
    compute: Callable[[Candidates], Scores]
    # Its weight in the hand-set fusion (`fusion=weighted`); 0 leaves it to the learned one.
    weight: float = 0.0
    # A retrieval method on its own (dense, lexical): evaluation ranks by it alone too.
    alone: bool = False
