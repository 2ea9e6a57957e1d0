"""Filters on document metadata, applied before ranking."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from qa_service.errors import InvalidInput
from qa_service.store import PassageStore

MAX_SOURCES = 50
MAX_FIELDS = 10  # fields in one `where`
MAX_VALUES = 50  # values of one field
SHOWN_VALUES = 20  # existing values named when a filter value matches nothing
# Fields every document has, as columns; any other is looked up in its metadata.
COLUMNS = ("doc_id", "title", "source", "date", "url")
FIELD_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_ .-]{0,63}")
DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")  # not ISO week or ordinal dates (2016-W23-1)
DATE_GLOB = "[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]"


@dataclass(frozen=True)
class Condition:
    """One field's condition: one of `values` (case-insensitive), or a date range.

    A field that holds a list (tags) meets it when any of its items does.
    """

    field: str
    values: tuple[str, ...] = ()
    date_from: str | None = None  # YYYY-MM-DD, inclusive
    date_to: str | None = None

    def sql(self) -> tuple[str, list]:
        """Return a condition on `documents d` and its parameters."""
        if self.field in COLUMNS:
            value, source, params = f"d.{self.field}", "", []
        else:
            value = "CAST(j.value AS TEXT)"
            source = "EXISTS (SELECT 1 FROM json_each(d.meta, ?) j WHERE "
            params = [f'$."{self.field}"']
        clauses = []
        if self.values:
            clauses.append(f"lower({value}) IN ({','.join('?' * len(self.values))})")
            params += [v.casefold() for v in self.values]
        if self.date_from or self.date_to:
            # Only values that are dates fall in a range ("Culture desk" sorts after "2").
            clauses.append(f"{value} GLOB '{DATE_GLOB}*'")
        for bound, op in ((self.date_from, ">="), (self.date_to, "<=")):
            if bound:
                clauses.append(f"substr({value}, 1, 10) {op} ?")
                params.append(bound)
        body = " AND ".join(clauses) or "1"
        return (f"{source}{body})" if source else f"({body})"), params


@dataclass(frozen=True)
class Filters:
    """Which documents may answer: by source (any of, case-insensitive), date range and
    conditions on any other field.

    A document without a date is left out when a date bound is set: nothing says it
    falls inside the range.
    """

    sources: tuple[str, ...] = ()
    date_from: str | None = None  # YYYY-MM-DD, inclusive
    date_to: str | None = None
    where: tuple[Condition, ...] = ()

    @property
    def active(self) -> bool:
        return bool(self.sources or self.date_from or self.date_to or self.where)

    def conditions(self) -> list[Condition]:
        """Every condition, `sources` and the date range included."""
        found = list(self.where)
        if self.sources:
            found.insert(0, Condition("source", self.sources))
        if self.date_from or self.date_to:
            found.insert(1 if self.sources else 0,
                         Condition("date", (), self.date_from, self.date_to))
        return found

    def sql(self) -> tuple[str, list]:
        """Return a condition on the `documents` table (alias d) and its parameters."""
        clauses, params = [], []
        for condition in self.conditions():
            clause, values = condition.sql()
            clauses.append(clause)
            params += values
        return " AND ".join(clauses) or "1", params


def check_values(filters: Filters, store: PassageStore) -> None:
    """Raise InvalidInput naming the values that exist when a filter value matches no
    document, or a field no document has."""
    for condition in filters.conditions():
        name = condition.field
        if name not in COLUMNS and not store.field_exists(name):
            fields = store.field_names(SHOWN_VALUES)
            names = list(COLUMNS) + fields
            raise InvalidInput(f"no document has a field {name!r}; the fields are: "
                               f"{_listing(names, len(names))}")
        if not condition.values:
            continue
        column = f"d.{name}" if name in COLUMNS else None
        # All the field's values in one query; compared as Condition.sql compares them.
        present = store.values_present(name, column, [v.casefold() for v in condition.values])
        missing = next((v for v in condition.values if v.casefold() not in present), None)
        if missing is not None:
            values, total = store.field_values(name, column, SHOWN_VALUES)
            raise InvalidInput(f"no document has {name} {missing[:80]!r}; its values are: "
                               f"{_listing(values, total)}")


def parse_filters(value, prefix: str = "filters.") -> Filters:
    """Validate a request's `filters` object (or None) and return Filters.

    `prefix` names the fields in errors: "filters." in a body, "" for the documents
    listing's query parameters.
    """
    if value is None:
        return Filters()
    if not isinstance(value, dict):
        raise InvalidInput("filters must be an object")
    unknown = set(value) - {"sources", "date_from", "date_to", "where"}
    if unknown:
        raise InvalidInput(f"unknown filter {sorted(unknown)[0][:80]!r}: expected sources, "
                           "date_from, date_to or where")
    sources = value.get("sources")
    sources = [] if sources is None else sources
    if not isinstance(sources, list) or not all(
        isinstance(s, str) and s.strip() for s in sources
    ):
        raise InvalidInput(f"{prefix}sources must be a list of non-empty strings")
    if len(sources) > MAX_SOURCES:
        raise InvalidInput(f"{prefix}sources holds more than {MAX_SOURCES} sources")
    sources = [_text(s) for s in sources]
    date_from = _date(value.get("date_from"), f"{prefix}date_from")
    date_to = _date(value.get("date_to"), f"{prefix}date_to")
    if date_from and date_to and date_from > date_to:
        raise InvalidInput(f"{prefix}date_from is after {prefix}date_to")
    return Filters(tuple(s.strip() for s in sources), date_from, date_to,
                   _where(value.get("where", {}), f"{prefix}where"))


WHERE_RE = re.compile(r"\s*([^=<>]+?)\s*(=|>=|<=)\s*(.*)", re.DOTALL)


def where_of(items: list[str], name: str = "where") -> dict:
    """Turn `FIELD=VALUE`, `FIELD>=DATE` and `FIELD<=DATE` (the CLI's --where, the
    documents listing's `where`) into a `filters.where` object; a field given several
    values takes any of them."""
    where: dict = {}
    for item in items:
        match = WHERE_RE.fullmatch(item)
        if not match or not match.group(3).strip():
            raise InvalidInput(f"{name} {item[:80]!r}: expected FIELD=VALUE, "
                               "FIELD>=YYYY-MM-DD or FIELD<=YYYY-MM-DD")
        field, op, value = match.group(1), match.group(2), match.group(3).strip()
        kind = list if op == "=" else dict
        current = where.setdefault(field, kind())
        if not isinstance(current, kind):
            raise InvalidInput(f"{name} {field[:80]!r}: give values or a date range, not both")
        if op == "=":
            current.append(value)
        else:
            current["from" if op == ">=" else "to"] = value
    return where


def _where(value, label: str = "filters.where") -> tuple[Condition, ...]:
    if not isinstance(value, dict):
        raise InvalidInput(f"{label} must be an object of field: value")
    if len(value) > MAX_FIELDS:
        raise InvalidInput(f"{label} holds more than {MAX_FIELDS} fields")
    found = []
    for name, wanted in value.items():
        if not FIELD_RE.fullmatch(name):
            raise InvalidInput(f"{label}: {name[:80]!r} is not a field name (letters, "
                               "digits, _ . - and spaces, up to 64)")
        where = f"{label}.{name}"
        if isinstance(wanted, dict):
            extra = set(wanted) - {"from", "to"}
            if extra or not wanted:
                raise InvalidInput(f"{where} must be a value, a list of values, or "
                                   '{"from": date, "to": date}')
            start, end = _date(wanted.get("from"), where + ".from"), _date(
                wanted.get("to"), where + ".to")
            if start and end and start > end:
                raise InvalidInput(f"{where}.from is after {where}.to")
            found.append(Condition(name, (), start, end))
            continue
        values = wanted if isinstance(wanted, list) else [wanted]
        if not values or len(values) > MAX_VALUES or not all(
                isinstance(v, str | int | float) and not isinstance(v, bool)
                and str(v).strip() for v in values):
            raise InvalidInput(f"{where} must be a non-empty string or number, or a list of "
                               f"1 to {MAX_VALUES} of them")
        found.append(Condition(name, tuple(_text(str(v)).strip() for v in values)))
    return tuple(found)


def _text(value: str) -> str:
    """Return `value` with any lone surrogate (JSON's "\\ud800") as "?": a value no
    document has, said so, rather than one the database cannot take."""
    return value.encode("utf-8", "replace").decode("utf-8")


def _listing(values: list[str], total: int) -> str:
    if not values:
        return "(none)"
    shown = ", ".join(repr(v) if v != v.strip() or not v else v for v in values)
    return shown + (f" and {total - len(values)} more" if total > len(values) else "")


def _date(value, name: str) -> str | None:
    if value is None:
        return None
    try:
        if isinstance(value, str) and DATE_RE.fullmatch(value):
            return dt.date.fromisoformat(value).isoformat()
    except ValueError:
        pass
    raise InvalidInput(f"{name} must be a date as YYYY-MM-DD")
