"""Passages, sentences and documents in SQLite, with an FTS5 table for BM25 search.

The schema is the file format: qa_service.indexing.writer fills it, this module reads it.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path

from qa_service.errors import IndexCorrupt
from qa_service.ingest import Document, Passage
from qa_service.store.keys import StoredKeys
from qa_service.store.names import named

FILE = "passages.sqlite"
# Porter stemming over unicode61 with diacritics removed (Aqtöbe matches Aqtobe).
TOKENIZER = "porter unicode61 remove_diacritics 2"

# Up to this many matching passages, a term's matches among some rows are found by
# reading all its matches (see PassageStore.matching).
SCAN_LIMIT = 2000
COUNT_CACHE = 4096  # match counts remembered per open file
# Read the file through a memory map of up to this many bytes rather than a read call per
# page: a question reads its candidates' rows scattered over the file (on 10k passages,
# the first read of 84 rows took 2.1 ms, 1.6 mapped). Address space, not memory: the
# pages are the OS's file cache, shared by every worker.
MMAP_BYTES = 1 << 32

SCHEMA = f"""
CREATE TABLE documents (
    doc_id TEXT PRIMARY KEY, title TEXT NOT NULL, source TEXT NOT NULL,
    date TEXT, url TEXT, paragraphs INTEGER NOT NULL, meta TEXT NOT NULL DEFAULT '{{}}'
);
CREATE TABLE passages (
    rowid INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, doc_id TEXT NOT NULL,
    paragraph INTEGER NOT NULL, start INTEGER NOT NULL, end INTEGER NOT NULL,
    text TEXT NOT NULL, sent_first INTEGER NOT NULL, sent_count INTEGER NOT NULL,
    page INTEGER
);
CREATE INDEX passages_doc ON passages (doc_id, paragraph);
CREATE TABLE sentences (
    rowid INTEGER PRIMARY KEY, passage INTEGER NOT NULL,
    start INTEGER NOT NULL, end INTEGER NOT NULL
);
CREATE INDEX sentences_passage ON sentences (passage);
CREATE VIRTUAL TABLE passages_fts USING fts5(title, text, content='', tokenize='{TOKENIZER}');
CREATE TABLE vocab (
    term TEXT PRIMARY KEY, key TEXT NOT NULL, df INTEGER NOT NULL, capitalized REAL
) WITHOUT ROWID;
CREATE TABLE passage_keys (
    rowid INTEGER PRIMARY KEY, offsets BLOB NOT NULL, keys TEXT NOT NULL, spans BLOB NOT NULL,
    types BLOB
);
CREATE TABLE document_keys (
    doc_id TEXT PRIMARY KEY, title TEXT NOT NULL, lead TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE doc_hashes (doc_id TEXT PRIMARY KEY, hash TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE vocab_counts (
    term TEXT PRIMARY KEY, df INTEGER NOT NULL, caps INTEGER NOT NULL, uses INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE doc_lines (
    doc_id TEXT PRIMARY KEY, content TEXT NOT NULL, source TEXT NOT NULL, keys TEXT NOT NULL,
    meta TEXT NOT NULL
) WITHOUT ROWID;
"""


def document_fields(row: sqlite3.Row) -> dict:
    """Return a document row's other metadata fields (none in indexes built before them)."""
    return json.loads(row["meta"]) if "meta" in row.keys() and row["meta"] else {}


def page_of(row: sqlite3.Row) -> int | None:
    """Return a passage row's page (None: no pages, or built before pages were kept)."""
    return row["page"] if "page" in row.keys() else None


def _bm25_select(match: str, rows: list[int] | None, where: tuple[str, list] | None,
                 weights: tuple[float, float]) -> tuple[str, list]:
    """Return a SELECT of (rowid, score) for an FTS5 MATCH, among `rows` and `where`."""
    sql, params = "passages_fts MATCH ?", [match]
    if rows is not None:
        sql += f" AND rowid IN ({','.join('?' * len(rows))})"
        params += list(rows)
    if where is not None:
        sql += (" AND rowid IN (SELECT p.rowid FROM passages p JOIN documents d "
                f"USING (doc_id) WHERE {where[0]})")
        params += where[1]
    return (f"SELECT rowid, -bm25(passages_fts, {float(weights[0])}, {float(weights[1])}) "
            f"AS score FROM passages_fts WHERE {sql}"), params


class PassageStore(StoredKeys):
    """Read-only access to a built SQLite file, one connection per thread."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._local = threading.local()
        # Read once (the file is read-only); counting now also fails early, naming the
        # file, if it is not a database.
        self.passage_count = self.count("passages")
        # Indexes of older versions have no vocabulary: they search without variants.
        self.has_vocabulary = bool(self._query(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'vocab'"))
        # Documents' other metadata fields and passages' pages (older builds: none).
        self.has_fields = any(r[1] == "meta" for r in self._query(
            "PRAGMA table_info(documents)"))
        self._detect_keys()
        # A built file never changes, and a question's terms are counted for their weights
        # and again to choose how to match them: counted once.
        self._counts: dict[str, int] = {}

    @property
    def db(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True,
                                   check_same_thread=False)
            conn.row_factory = sqlite3.Row
            conn.execute(f"PRAGMA mmap_size = {MMAP_BYTES}")
            self._local.conn = conn
        return conn

    def _query(self, sql: str, params=()) -> list[sqlite3.Row]:
        try:
            return self.db.execute(sql, params).fetchall()
        except sqlite3.DatabaseError as exc:
            raise IndexCorrupt(f"{named(self.path)} is unreadable ({exc}); "
                               "rebuild the index") from None

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    def content_hashes(self) -> dict[str, str]:
        """Return each document's content hash (none for indexes built before hashes)."""
        if not self._query("SELECT 1 FROM sqlite_master WHERE name = 'doc_hashes'"):
            return {}
        return {r[0]: r[1] for r in self._query("SELECT doc_id, hash FROM doc_hashes")}

    def vocabulary_counts(self) -> dict[str, list[int]] | None:
        """Return the raw word counts of the vocabulary (None: built before they were kept)."""
        if not self._query("SELECT 1 FROM sqlite_master WHERE name = 'vocab_counts'"):
            return None
        return {r[0]: [r[1], r[2], r[3]]
                for r in self._query("SELECT term, df, caps, uses FROM vocab_counts")}

    def stored_document(self, doc_id: str) -> tuple[Document, list[Passage], list[int]]:
        """Return a document as stored, its passages and their rows, for reuse in a build."""
        row = self._query("SELECT * FROM documents WHERE doc_id = ?", (doc_id,))[0]
        doc = Document(row["doc_id"], row["title"], row["source"], row["date"], row["url"],
                       row["paragraphs"], document_fields(row))
        rows = self._query("SELECT * FROM passages WHERE doc_id = ? ORDER BY rowid", (doc_id,))
        spans: dict[int, list[tuple[int, int]]] = {r["rowid"]: [] for r in rows}
        if rows:
            for s in self._query(
                    "SELECT passage, start, end FROM sentences WHERE passage BETWEEN ? AND ? "
                    "ORDER BY rowid", (rows[0]["rowid"], rows[-1]["rowid"])):
                if s[0] in spans:
                    spans[s[0]].append((s[1], s[2]))
        passages = [Passage(doc_id, r["paragraph"], r["start"], r["end"], r["text"],
                            spans[r["rowid"]], page_of(r)) for r in rows]
        return doc, passages, [r["rowid"] for r in rows]

    def line_rows(self) -> dict[str, tuple[str, str, frozenset[str], str]]:
        """Return what the next build needs to reuse a document without reading its file:
        doc_id -> (content hash, source, keys of its short lines, its sources.toml entry
        as JSON). Empty for builds before these were stored."""
        if not self._query("SELECT 1 FROM sqlite_master WHERE name = 'doc_lines'"):
            return {}
        return {r[0]: (r[1], r[2], frozenset(r[3].split("\n")) if r[3] else frozenset(), r[4])
                for r in self._query("SELECT doc_id, content, source, keys, meta "
                                     "FROM doc_lines")}

    def sentence_rows(self, rows: list[int]) -> list[int]:
        """Return the sentence rows of the given passage rows, in order."""
        found = []
        for r in self._query("SELECT sent_first, sent_count FROM passages WHERE rowid IN "
                             f"({','.join('?' * len(rows))}) ORDER BY rowid", list(rows)):
            found.extend(range(r[0], r[0] + r[1]))
        return found

    def count(self, table: str) -> int:
        return self._query(f"SELECT count(*) FROM {table}")[0][0]

    def bm25(self, match: str, limit: int, rows: list[int] | None = None,
             where: tuple[str, list] | None = None,
             weights: tuple[float, float] = (1.0, 1.0)) -> list[tuple[int, float]]:
        """Return (rowid, score) for an FTS5 MATCH expression, best first; higher is better.

        `rows` limits the search to those passages; `where` to passages whose document
        meets a condition on `documents d` (see search.filters); `weights` are those of
        the title and text columns.
        """
        sql, params = _bm25_select(match, rows, where, weights)
        found = self._query(f"{sql} ORDER BY score DESC LIMIT ?", (*params, limit))
        return [(r[0], r[1]) for r in found]

    def bm25_all(self, match: str, limit: int, where: tuple[str, list] | None = None,
                 weights: tuple[float, float] = (1.0, 1.0)) -> dict[int, float] | None:
        """Return {rowid: score} of every passage an FTS5 MATCH expression matches (as
        `bm25` scores them), or None when more than `limit` do."""
        sql, params = _bm25_select(match, None, where, weights)
        found = self._query(f"{sql} LIMIT ?", (*params, limit + 1))
        return None if len(found) > limit else {r[0]: r[1] for r in found}

    def matching(self, match: str, rows: list[int]) -> list[int]:
        """Return which of `rows` an FTS5 MATCH expression matches."""
        if not rows:
            return []
        # FTS5 answers `rowid IN (...)` with one lookup per listed row (~0.2 ms for 60
        # rows); reading a short posting list whole and filtering here costs a tenth.
        if self.match_count(match) <= SCAN_LIMIT:
            wanted = set(rows)
            return [r[0] for r in self._query(
                "SELECT rowid FROM passages_fts WHERE passages_fts MATCH ?", (match,))
                if r[0] in wanted]
        return [r[0] for r in self._query(
            "SELECT rowid FROM passages_fts WHERE passages_fts MATCH ? AND rowid IN "
            f"({','.join('?' * len(rows))})", (match, *rows))]

    def rows_where(self, where: tuple[str, list]) -> list[int]:
        """Return the rows of passages whose document meets a condition on `documents d`."""
        return [r[0] for r in self._query(
            f"SELECT p.rowid FROM passages p JOIN documents d USING (doc_id) WHERE {where[0]}",
            where[1],
        )]

    def vocabulary(self, keys: list[str]) -> dict[str, float | None]:
        """Return the corpus words with these variant keys and the share of their uses
        (not opening a sentence) that are capitalised."""
        if not keys:
            return {}
        return {r[0]: r[1] for r in self._query(
            f"SELECT term, capitalized FROM vocab WHERE key IN ({','.join('?' * len(keys))})",
            keys)}

    def doc_ids(self, rows: list[int]) -> dict[int, str]:
        """Return the document of each given passage row."""
        if not rows:
            return {}
        return {r[0]: r[1] for r in self._query(
            f"SELECT rowid, doc_id FROM passages WHERE rowid IN ({','.join('?' * len(rows))})",
            list(rows))}

    def leads(self, doc_ids: list[str]) -> dict[str, int]:
        """Return the row of each given document's first passage."""
        if not doc_ids:
            return {}
        marks = ",".join("?" * len(doc_ids))
        return {r[0]: r[1] for r in self._query(
            f"SELECT doc_id, min(rowid) FROM passages WHERE doc_id IN ({marks}) "
            "GROUP BY doc_id", list(doc_ids))}

    def capitalized(self, terms: list[str]) -> dict[str, float]:
        """Return the share of capitalised uses (not opening a sentence) of corpus words."""
        if not terms or not self.has_vocabulary:
            return {}
        return {r[0]: r[1] for r in self._query(
            f"SELECT term, capitalized FROM vocab WHERE term IN ({','.join('?' * len(terms))})"
            " AND capitalized IS NOT NULL", list(terms))}

    def match_count(self, match: str) -> int:
        """Return how many passages an FTS5 MATCH expression matches."""
        count = self._counts.get(match)
        if count is None:
            count = self._query("SELECT count(*) FROM passages_fts WHERE passages_fts "
                                "MATCH ?", (match,))[0][0]
            if len(self._counts) < COUNT_CACHE:  # bounded: questions bring new words
                self._counts[match] = count
        return count

    def passages(self, rowids: list[int], keys: bool = False) -> dict[int, sqlite3.Row]:
        """Return passage rows with their document's fields; `keys`: with the stored keys
        of each passage and document too (see StoredKeys.record_keys)."""
        if not rowids:
            return {}
        marks = ",".join("?" * len(rowids))
        columns, joins = self.key_columns() if keys else ("", "")
        rows = self._query(
            f"SELECT p.*, d.title, d.source, d.date, d.url{', d.meta' if self.has_fields else ''}"
            f"{columns} FROM passages p JOIN documents d USING (doc_id){joins} "
            f"WHERE p.rowid IN ({marks})",
            list(rowids),
        )
        return {r["rowid"]: r for r in rows}

    def check_readable(self) -> None:
        """Raise IndexCorrupt unless the file still reads (one page, not a count)."""
        self._query("SELECT 1 FROM documents LIMIT 1")

    def values_present(self, name: str, column: str | None, wanted: list[str]) -> set[str]:
        """Return those of `wanted` (lower case) that some document's field has, by lower()."""
        source = self._field_source(name, column)
        if source is None or not wanted:
            return set()
        value, tables, params = source
        marks = ",".join("?" * len(wanted))
        return {r[0] for r in self._query(
            f"SELECT DISTINCT lower({value}) FROM {tables} WHERE lower({value}) IN ({marks})",
            (*params, *wanted))}

    def field_exists(self, name: str) -> bool:
        """Say whether any document's metadata has the field `name`."""
        return self.has_fields and bool(self._query(
            "SELECT 1 FROM documents d, json_each(d.meta) j WHERE j.key = ? LIMIT 1", (name,)))

    def field_names(self, limit: int) -> list[str]:
        """Return the names of the documents' metadata fields, sorted (at most `limit`)."""
        if not self.has_fields:
            return []
        return [r[0] for r in self._query(
            "SELECT DISTINCT j.key FROM documents d, json_each(d.meta) j ORDER BY 1 LIMIT ?",
            (limit,))]

    def field_values(self, name: str, column: str | None, limit: int) -> tuple[list[str], int]:
        """Return the first `limit` distinct values of a field, sorted, and their number.

        `column` names it when it is a column of `documents d`; else it is looked up in the
        metadata (each item of a list).
        """
        found = self._field_source(name, column)
        if found is None:
            return [], 0
        value, tables, params = found
        source = f"SELECT DISTINCT {value} AS v FROM {tables}"
        values = [r[0] for r in self._query(
            f"SELECT v FROM ({source}) WHERE v IS NOT NULL ORDER BY v LIMIT ?",
            (*params, limit))]
        total = self._query(f"SELECT count(*) FROM ({source}) WHERE v IS NOT NULL", params)
        return values, total[0][0]

    def _field_source(self, name: str, column: str | None) -> tuple[str, str, list] | None:
        """Return a field's value expression, the tables it comes from and their parameters."""
        if column is not None:
            return column, "documents d", []
        if self.has_fields:  # each item of a list is a value
            return "CAST(j.value AS TEXT)", "documents d, json_each(d.meta, ?) j", [
                f'$."{name}"']
        return None

    def documents(self, limit: int = -1, offset: int = 0,
                  where: tuple[str, list] | None = None) -> list[sqlite3.Row]:
        """Return the documents by doc_id, `limit` of them from `offset` (-1: all), those
        meeting `where` (a condition on `documents d`, see search.filters) when given."""
        clause, params = where or ("1", [])
        return self._query(f"SELECT * FROM documents d WHERE {clause} ORDER BY doc_id "
                           "LIMIT ? OFFSET ?", (*params, limit, offset))

    def document_count(self, where: tuple[str, list]) -> int:
        """Return how many documents meet `where`."""
        return self._query(f"SELECT count(*) FROM documents d WHERE {where[0]}", where[1])[0][0]

    def source_counts(self, limit: int) -> tuple[list[tuple[str, int]], int]:
        """Return the sources with most documents first (at most `limit`), and how many
        sources there are."""
        rows = self._query("SELECT source, count(*) FROM documents GROUP BY source "
                           "ORDER BY 2 DESC, 1")
        return [(r[0], r[1]) for r in rows[:limit]], len(rows)

    def date_span(self) -> tuple[str | None, str | None]:
        """Return the earliest and the latest document date (None, None: no dates)."""
        row = self._query("SELECT min(substr(date, 1, 10)), max(substr(date, 1, 10)) "
                          "FROM documents WHERE date GLOB "
                          "'[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]*'")[0]
        return row[0], row[1]

    def document(self, doc_id: str) -> tuple[sqlite3.Row | None, list[sqlite3.Row]]:
        doc = self._query("SELECT * FROM documents WHERE doc_id = ?", (doc_id,))
        paras = self._query(
            "SELECT * FROM passages WHERE doc_id = ? ORDER BY paragraph", (doc_id,),
        )
        return (doc[0] if doc else None), paras
