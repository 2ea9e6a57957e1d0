"""Which connections a worker takes, refuses and closes when clients hold too many."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TypeVar

# When a worker holds this share of its connections (gunicorn's worker_connections, 1,000),
# it closes the connections that have sent nothing yet, those waiting longest first,
# down to ROOM_SHARE: otherwise idle connections fill every slot, gunicorn stops
# accepting, and a real request waits in the kernel's queue until they time out (issue
# 26: 1,500 idle connections held /api/health past 15 s). Closing a connection that has
# sent no byte of a request loses nothing; its client opens another when it has one.
FULL_SHARE = 0.9
ROOM_SHARE = 0.7
# A client holding over this share of a worker's connections pays first when it is full:
# its idle connections are closed, then its half-sent requests refused.
HOG_SHARE = 0.1
# A refused client is told to come back after this many seconds (Retry-After): a full
# worker or a client's cap frees up as soon as requests are answered.
RETRY_AFTER = 1

Conn = TypeVar("Conn")


@dataclass(frozen=True)
class Refusal:
    """An answer for a connection the worker will not take."""

    reason: str  # a label of qa_connections_refused_total
    status: int
    message: str


@dataclass(frozen=True)
class Room:
    """What to give up to make room: connections to close, and to refuse (503)."""

    close: list
    refuse: list


class Admission:
    """Count each client's connections; say which new ones to refuse."""

    def __init__(self, capacity: int, per_client: int):
        self.capacity = capacity  # gunicorn's worker_connections
        self.per_client = per_client  # 0: no cap (behind a proxy every client is one)
        self.held: Counter[str] = Counter()

    def opened(self, address: str) -> None:
        self.held[address] += 1

    def closed(self, address: str) -> None:
        self.held[address] -= 1
        if self.held[address] <= 0:
            del self.held[address]

    def refusal(self, address: str, open_: int) -> Refusal | None:
        """Say why a new connection from `address` is refused (None: take it), with
        `open_` connections open besides those already refused."""
        if self.per_client and self.held[address] >= self.per_client:
            return Refusal("client_cap", 429, f"too many connections from this address: at most "
                                f"{self.per_client} at once; send requests on fewer")
        if open_ >= self.capacity:
            return Refusal("full", 503, "the server is full; try again in a moment")
        return None

    def room(self, waiting: Iterable[Conn], open_: int, address: Callable[[Conn], str],
             has_bytes: Callable[[Conn], bool]) -> Room:
        """Pick, from the connections `waiting` for a request (oldest first), what to give
        up when `open_` nears capacity: first the idle connections of the clients holding
        over HOG_SHARE, then their half-sent requests, then anyone's idle connections.
        One client's thousands of connections cannot push out another client's few."""
        if open_ < int(self.capacity * FULL_SHARE):
            return Room([], [])
        waiting = list(waiting)
        excess = open_ - int(self.capacity * ROOM_SHARE)
        held = Counter(address(c) for c in waiting)
        cap = int(self.capacity * HOG_SHARE)
        idle = [c for c in waiting if not has_bytes(c)]
        hog_idle = sorted((c for c in idle if held[address(c)] > cap),
                          key=lambda c: -held[address(c)])[:excess]  # stable: oldest first
        slow = sorted((c for c in waiting if has_bytes(c) and held[address(c)] > cap),
                      key=lambda c: -held[address(c)])[:excess - len(hog_idle)]
        taken = set(hog_idle)
        others = [c for c in idle if c not in taken][:excess - len(hog_idle) - len(slow)]
        return Room(hog_idle + others, slow)
