"""Copy reused documents' rows from the build before, renumbered, a run at a time.

An incremental build keeps most documents as they were. Their rows (document, hash, keys,
passages, sentences, FTS text) are copied by SQL from the build before's file, attached
to the new one, instead of being cleaned, keyed and written again; consecutive documents
whose rows follow each other there go in one statement per table (thousands of
documents: a handful of statements, not tens of thousands).
"""

from __future__ import annotations

from pathlib import Path

# Tables of one row per document, copied by doc_id.
_BY_DOCUMENT = ("documents", "document_keys", "doc_lines")


class RowCopier:
    """Copy documents of the build before (`old`) into the writer's database `db`."""

    def __init__(self, db, old: Path):
        self.db = db
        db.execute("ATTACH DATABASE ? AS old", (str(old),))
        # doc_id -> (first row, last row, passages, first sentence, sentences)
        self.ranges = {r[0]: r[1:] for r in db.execute(
            "SELECT doc_id, min(rowid), max(rowid), count(*), min(sent_first), "
            "sum(sent_count) FROM old.passages GROUP BY doc_id")}
        self._run: list[int] | None = None  # [first, last, sentence first, sentence end]
        self._at: tuple[int, int] = (0, 0)  # where the run goes: new passage, sentence rows
        self._docs: list[tuple[str, str]] = []  # the run's (doc_id, content hash)

    def span(self, doc_id: str) -> tuple[int, int, int, int, int] | None:
        """Return a document's rows there, or None if it has none in one block."""
        found = self.ranges.get(doc_id)
        if found is None or found[2] != found[1] - found[0] + 1:
            return None  # a document's passages are written together; if not, go slowly
        return found

    def copy(self, doc_id: str, content_hash: str, passage_at: int, sentence_at: int) -> None:
        """Copy document `doc_id` to new passage row `passage_at` and sentence row
        `sentence_at` (with the run it continues, if its rows follow the run's)."""
        first, last, _, s_first, sentences = self.ranges[doc_id]
        run = self._run
        if run is None or first != run[1] + 1 or s_first != run[3]:
            self.flush()
            run = self._run = [first, last, s_first, s_first]
            self._at = (passage_at, sentence_at)
        run[1], run[3] = last, s_first + sentences
        self._docs.append((doc_id, content_hash))

    def flush(self) -> None:
        """Write the run gathered so far."""
        if self._run is None:
            return
        first, last, s_first, _ = self._run
        shift = {"f": first, "l": last, "p0": self._at[0], "sf": s_first, "s0": self._at[1]}
        db = self.db
        for table in _BY_DOCUMENT:
            db.executemany(f"INSERT INTO {table} SELECT * FROM old.{table} WHERE doc_id = ?",
                           [(doc_id,) for doc_id, _ in self._docs])
        db.executemany("INSERT INTO doc_hashes VALUES (?, ?)", self._docs)
        db.execute("INSERT INTO passages SELECT rowid - :f + :p0, id, doc_id, paragraph, "
                   "start, end, text, sent_first - :sf + :s0, sent_count, page "
                   "FROM old.passages WHERE rowid BETWEEN :f AND :l", shift)
        db.execute("INSERT INTO sentences SELECT rowid - :sf + :s0, passage - :f + :p0, "
                   "start, end FROM old.sentences WHERE passage BETWEEN :f AND :l", shift)
        db.execute("INSERT INTO passages_fts (rowid, title, text) SELECT p.rowid - :f + :p0, "
                   "d.title, p.text FROM old.passages p JOIN old.documents d "
                   "ON d.doc_id = p.doc_id WHERE p.rowid BETWEEN :f AND :l", shift)
        db.execute("INSERT INTO passage_keys SELECT rowid - :f + :p0, offsets, keys, spans, "
                   "types FROM old.passage_keys WHERE rowid BETWEEN :f AND :l", shift)
        self._run, self._docs = None, []

    def close(self) -> None:
        """Write what is left and let go of the build before's file."""
        self.flush()
        self.db.commit()
        self.db.execute("DETACH DATABASE old")
