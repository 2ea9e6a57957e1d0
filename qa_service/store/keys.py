"""Stored word keys: each passage's content words and sentences, each document's title
and lead, as a build wrote them so that a question need not stem candidates' text.

Indexes built before a table or column was kept, or whose keys were made another way
(another `KEY_SCHEME`), have what is missing made from the text or read as before: the
ranking is the same either way.
"""

from __future__ import annotations

import numpy as np

from qa_service.text import KEY_SCHEME, content_keys
from qa_service.text.entities import KINDS

# Passages whose word keys are remembered per open file (about 20 KB each for a 200-word
# passage): a small corpus's all, a large one's first asked.
KEYS_CACHE = 2048

# Stored word keys: the content words' character offsets, and their keys space-separated;
# sentence spans as (start, end) pairs of offsets.
OFFSET_TYPE = "<u4"
WordKeys = tuple[list[int] | tuple[int, ...], list[str] | tuple[str, ...]]
Spans = list[tuple[int, int]]
# Typed spans (text.entities.typed_spans) as (start, end, kind code) triples of offsets;
# a kind's code is its place in KINDS, and the meta row `span_kinds` records that tuple,
# so an index whose codes meant other kinds is read as one without typed spans.
TypedSpans = list[tuple[int, int, str]]
SPAN_KINDS = ",".join(KINDS)


def pack_types(spans) -> bytes:
    """Return typed spans (start, end, kind) as a build stores them."""
    return pack_offsets([n for start, end, kind in spans
                         for n in (start, end, KINDS.index(kind))])


def unpack_types(data: bytes) -> TypedSpans:
    """Return typed spans as `pack_types` stored them, in order of their start."""
    flat = unpack_offsets(data)
    return [(flat[i], flat[i + 1], KINDS[flat[i + 2]]) for i in range(0, len(flat), 3)]


def pack_offsets(offsets) -> bytes:
    """Return offsets as a build stores them."""
    return np.asarray(offsets, dtype=OFFSET_TYPE).tobytes()


def unpack_offsets(data: bytes) -> list[int]:
    """Return offsets as `pack_offsets` stored them."""
    return np.frombuffer(data, dtype=OFFSET_TYPE).tolist()


def document_row(doc_id: str, title: str, lead: str | None) -> tuple[str, str, str]:
    """Return a document's stored keys: its title's, and those of its first passage."""
    lead_keys = dict.fromkeys(content_keys(lead)[1]) if lead is not None else ()
    return doc_id, " ".join(content_keys(title)[1]), " ".join(lead_keys)


class StoredKeys:
    """The key reads of a passage store (mixed into PassageStore, which runs `_query`)."""

    def _detect_keys(self) -> None:
        # Keys stored by a build that made them as this version does (older builds: none).
        self.has_keys = bool(self._query(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'")) and bool(
            self._query("SELECT 1 FROM meta WHERE name = 'key_scheme' AND value = ?",
                        (KEY_SCHEME,)))
        # Sentence spans beside the keys, and documents' title and lead keys (later builds).
        stored = {r[1] for r in self._query("PRAGMA table_info(passage_keys)")}
        self.has_spans = self.has_keys and "spans" in stored
        # Typed spans of each passage (later builds, unless a build was told not to).
        self.has_types = "types" in stored and bool(self._query(
            "SELECT 1 FROM meta WHERE name = 'span_kinds' AND value = ?", (SPAN_KINDS,)))
        self.has_document_keys = self.has_keys and bool(self._query(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'document_keys'"))
        self._keys: dict[int, WordKeys] = {}

    def key_columns(self) -> tuple[str, str]:
        """Return the columns and joins that bring the stored keys along with passage rows
        `p` (see `passages(rows, keys=True)`): one read for all a question needs."""
        if not (self.has_keys or self.has_types):
            return "", ""
        columns = ", k.types AS key_types" if self.has_types else ""
        joins = " LEFT JOIN passage_keys k ON k.rowid = p.rowid"
        if not self.has_keys:
            return columns, joins
        columns += ", k.offsets AS key_offsets, k.keys AS key_words"
        if self.has_spans:
            columns += ", k.spans AS key_spans"
        if self.has_document_keys:
            columns += ", dk.title AS title_keys, dk.lead AS lead_keys"
            joins += " LEFT JOIN document_keys dk ON dk.doc_id = p.doc_id"
        return columns, joins

    def record_keys(self, records: dict) -> tuple[dict[int, WordKeys], dict[int, Spans] | None]:
        """Return the word keys and, where stored, the sentence spans of passage records
        read with `keys=True` (records without them: the keys as `word_keys` gives them)."""
        sample = next(iter(records.values()), None)
        if sample is None or "key_words" not in sample.keys():
            return self.word_keys(list(records)), None
        keys = {row: (unpack_offsets(r["key_offsets"]), r["key_words"].split())
                for row, r in records.items()}
        if "key_spans" not in sample.keys():
            return keys, None
        spans = {}
        for row, r in records.items():
            ends = unpack_offsets(r["key_spans"])
            spans[row] = list(zip(ends[::2], ends[1::2]))
        return keys, spans

    @staticmethod
    def record_types(records: dict) -> dict[int, TypedSpans] | None:
        """Return the typed spans of passage records read with `keys=True` (None when
        the build stored none: the answer type is then read from the text)."""
        sample = next(iter(records.values()), None)
        if sample is None or "key_types" not in sample.keys():
            return None
        return {row: unpack_types(r["key_types"] or b"") for row, r in records.items()}

    @staticmethod
    def record_documents(records: dict) -> dict[str, tuple[list[str], list[str]]]:
        """Return the title keys and lead keys of the documents of passage records read
        with `keys=True` (empty when the build stored none)."""
        sample = next(iter(records.values()), None)
        if sample is None or "title_keys" not in sample.keys():
            return {}
        # A document's keys are read once however many of its passages are candidates.
        first = {r["doc_id"]: r for r in records.values()}
        return {doc: (r["title_keys"].split(), r["lead_keys"].split())
                for doc, r in first.items()}

    def word_keys(self, rows: list[int]) -> dict[int, WordKeys]:
        """Return the offsets and word keys of the content words of each given passage.

        A build stores them (stemming at question time cost more than the rest of the
        ranking on 10k passages); an index without them has them made from the text.
        """
        cache = self._keys
        found = {row: cache[row] for row in rows if row in cache}
        missing = [row for row in rows if row not in found]
        if not missing:
            return found
        marks = ",".join("?" * len(missing))
        if self.has_keys:
            read = {r[0]: (unpack_offsets(r[1]), r[2].split())
                    for r in self._query("SELECT rowid, offsets, keys FROM passage_keys "
                                         f"WHERE rowid IN ({marks})", missing)}
        else:
            read = {r[0]: content_keys(r[1]) for r in self._query(
                f"SELECT rowid, text FROM passages WHERE rowid IN ({marks})", missing)}
        if len(cache) + len(read) <= KEYS_CACHE:
            cache.update(read)
        found.update(read)
        return found

    def stored_types(self, rows: list[int]) -> dict[int, bytes]:
        """Return the packed typed spans of the given passages (for reuse in a build)."""
        return {r[0]: r[1] or b"" for r in self._query(
            f"SELECT rowid, types FROM passage_keys WHERE rowid IN ({','.join('?' * len(rows))})",
            list(rows))}

    def sentence_spans(self, rows: list[int]) -> list[tuple[int, int, int, int]]:
        """Return (sentence row, passage row, start, end) of the given passages' sentences."""
        if not rows:
            return []
        found = self._query(
            "SELECT rowid, passage, start, end FROM sentences "
            f"WHERE passage IN ({','.join('?' * len(rows))}) ORDER BY rowid", list(rows),
        )
        return [(r[0], r[1], r[2], r[3]) for r in found]
