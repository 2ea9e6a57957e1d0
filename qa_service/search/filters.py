"""Filters on document metadata, applied before ranking."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from qa_service.errors import InvalidInput

MAX_SOURCES = 50


@dataclass(frozen=True)
class Filters:
    """Which documents may answer: by source (any of, case-insensitive) and date range.

    A document without a date is left out when a date bound is set: nothing says it
    falls inside the range.
    """

    sources: tuple[str, ...] = ()
    date_from: str | None = None  # YYYY-MM-DD, inclusive
    date_to: str | None = None

    @property
    def active(self) -> bool:
        return bool(self.sources or self.date_from or self.date_to)

    def sql(self) -> tuple[str, list]:
        """Return a condition on the `documents` table (alias d) and its parameters."""
        clauses, params = [], []
        if self.sources:
            clauses.append(f"lower(d.source) IN ({','.join('?' * len(self.sources))})")
            params += [s.casefold() for s in self.sources]
        if self.date_from:
            clauses.append("d.date >= ?")
            params.append(self.date_from)
        if self.date_to:
            clauses.append("d.date <= ?")
            params.append(self.date_to)
        return " AND ".join(clauses) or "1", params


def parse_filters(value) -> Filters:
    """Validate a request's `filters` object (or None) and return Filters."""
    if value is None:
        return Filters()
    if not isinstance(value, dict):
        raise InvalidInput("filters must be an object")
    unknown = set(value) - {"sources", "date_from", "date_to"}
    if unknown:
        raise InvalidInput(f"unknown filter {sorted(unknown)[0]!r}: expected sources, "
                           "date_from or date_to")
    sources = value.get("sources") or []
    if not isinstance(sources, list) or not all(
        isinstance(s, str) and s.strip() for s in sources
    ):
        raise InvalidInput("filters.sources must be a list of non-empty strings")
    if len(sources) > MAX_SOURCES:
        raise InvalidInput(f"filters.sources holds more than {MAX_SOURCES} sources")
    date_from = _date(value.get("date_from"), "date_from")
    date_to = _date(value.get("date_to"), "date_to")
    if date_from and date_to and date_from > date_to:
        raise InvalidInput("filters.date_from is after filters.date_to")
    return Filters(tuple(s.strip() for s in sources), date_from, date_to)


def _date(value, name: str) -> str | None:
    if value is None:
        return None
    try:
        if isinstance(value, str) and len(value) == 10:
            return dt.date.fromisoformat(value).isoformat()
    except ValueError:
        pass
    raise InvalidInput(f"filters.{name} must be a date as YYYY-MM-DD")
