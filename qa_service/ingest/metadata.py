"""Document metadata: from the corpus metadata file, else derived from the text."""

from __future__ import annotations

import datetime as dt
import re

from dateutil import parser as date_parser

from qa_service.ingest.furniture import (
    is_byline,
    is_dateline,
    is_nav_bar,
    is_notice,
    is_photo_credit,
    is_sentence,
    is_widget,
)
from qa_service.text.calendar import MONTH_PATTERN

_DATE_PATTERNS = [
    re.compile(r"\b\d{4}-\d{2}-\d{2}\b"),
    re.compile(r"\b" + MONTH_PATTERN + r"\s+\d{1,2},?\s+\d{4}\b", re.IGNORECASE),
    re.compile(r"\b\d{1,2}\s+" + MONTH_PATTERN + r",?\s+\d{4}\b", re.IGNORECASE),
    re.compile(r"\b\d{1,2}[./]\d{1,2}[./]\d{4}\b"),
]


def parse_date(value) -> str | None:
    """Return an ISO date (YYYY-MM-DD) for a date, datetime or date-like string, else None."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value).strip()
    for pattern in _DATE_PATTERNS:
        match = pattern.search(text)
        if match:
            found = match.group(0)
            # Numeric dates are read day-first (the order most of the world writes).
            day_first = bool(re.fullmatch(r"\d{1,2}[./]\d{1,2}[./]\d{4}", found))
            try:
                return date_parser.parse(found, dayfirst=day_first).date().isoformat()
            except (ValueError, OverflowError):
                continue
    return None


def find_date(lines: list[str], limit: int = 15) -> str | None:
    """Return the date of the first dated line among the first `limit` lines."""
    for line in lines[:limit]:
        if is_dateline(line) or is_byline(line) or len(line.split()) <= 12:
            found = parse_date(line)
            if found:
                return found
    return None


def find_title(lines: list[str]) -> str | None:
    """Return the first line that reads as a headline (a few words, not site furniture)."""
    for line in lines[:20]:
        words = line.split()
        if not 3 <= len(words) <= 25:
            continue
        if is_widget(line) or is_byline(line) or is_dateline(line):
            continue
        if is_nav_bar(line) or is_notice(line):
            continue  # a menu ("Home | News | Sport") or a cookie notice is never a title
        if is_photo_credit(line):
            continue
        if (len(words) > 15 and is_sentence(line)) or (
            len(words) > 6 and line.rstrip("\"'”’»)").endswith(".")
        ):
            continue  # a lead paragraph, not a headline (headlines do not end in a period)
        return line
    return None
