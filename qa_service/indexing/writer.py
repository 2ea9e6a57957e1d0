"""Write a build's passages, sentences, documents and vocabulary into a new SQLite file."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from qa_service.indexing.reuse import RowCopier
from qa_service.ingest import Document, Passage
from qa_service.store.keys import SPAN_KINDS, document_row, pack_offsets
from qa_service.store.passages import SCHEMA
from qa_service.text import KEY_SCHEME, content_keys, name_tokens, variant_key


class PassageWriter:
    """Append documents and passages to a new SQLite file during a build."""

    def __init__(self, path: Path):
        self.db = sqlite3.connect(path)
        self.db.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;" + SCHEMA)
        self.db.execute("INSERT INTO meta VALUES ('key_scheme', ?)", (KEY_SCHEME,))
        self.passages = 0
        self.sentences = 0
        self.documents = 0
        # term -> [passages holding it, capitalised uses, uses not opening a sentence]
        self.vocab: dict[str, list[int]] = {}
        self._copier: RowCopier | None = None  # the build before's rows, for copy_document

    def seed_vocabulary(self, counts: dict[str, list[int]]) -> None:
        """Start from a previous build's word counts (its reused documents' share)."""
        self.vocab = counts

    def uncount(self, text: str) -> None:
        """Remove a passage of the previous build (changed or deleted) from the counts."""
        self._count_words(text, -1)

    def add(self, doc: Document, passages: list[Passage], content_hash: str | None = None,
            counted: bool = False, lines: tuple[str, str, frozenset[str], str] | None = None
            ) -> None:
        """Append a document; `counted`: its words are already in the seeded counts;
        `lines`: what a later build needs to reuse it unread (see store line_rows)."""
        if self._copier is not None:
            self._copier.flush()  # a run of copied documents ends where this one starts
        if lines is not None:
            content, source, keys, meta = lines
            self.db.execute("INSERT INTO doc_lines VALUES (?,?,?,?,?)",
                            (doc.doc_id, content, source, "\n".join(sorted(keys)), meta))
        self.db.execute(
            "INSERT INTO documents VALUES (?,?,?,?,?,?,?)",
            (doc.doc_id, doc.title, doc.source, doc.date, doc.url, doc.paragraphs,
             json.dumps(doc.metadata, ensure_ascii=False, sort_keys=True, default=str)),
        )
        if content_hash is not None:
            # What the next build compares to reuse this document's passages and vectors.
            self.db.execute("INSERT INTO doc_hashes VALUES (?,?)", (doc.doc_id, content_hash))
        self.documents += 1
        self.db.execute("INSERT INTO document_keys VALUES (?,?,?)",
                        document_row(doc.doc_id, doc.title, passages[0].text if passages else None))
        for p in passages:
            row = self.passages
            self.db.execute(
                "INSERT INTO passages VALUES (?,?,?,?,?,?,?,?,?,?)",
                (row, p.id, p.doc_id, p.paragraph, p.start, p.end, p.text,
                 self.sentences, len(p.sentences), p.page),
            )
            self.db.executemany(
                "INSERT INTO sentences VALUES (?,?,?,?)",
                [(self.sentences + i, row, s, e) for i, (s, e) in enumerate(p.sentences)],
            )
            self.db.execute(
                "INSERT INTO passages_fts (rowid, title, text) VALUES (?,?,?)",
                (row, doc.title, p.text),
            )
            offsets, keys = content_keys(p.text)
            self.db.execute("INSERT INTO passage_keys (rowid, offsets, keys, spans) "
                            "VALUES (?,?,?,?)",
                            (row, pack_offsets(offsets), " ".join(keys),
                             pack_offsets([at for span in p.sentences for at in span])))
            self.passages += 1
            self.sentences += len(p.sentences)
            if not counted:
                self._count_words(p.text)

    def copy_document(self, old: Path, doc_id: str, content_hash: str
                      ) -> tuple[list[int], list[int]] | None:
        """Copy a document's rows from the build before (SQLite file `old`), renumbered;
        return its passages' and sentences' rows there, or None if they cannot be copied
        (the caller adds the document the slow way). Its words are already counted.

        Nothing is worked out again (keys, sentence spans): a reused document costs a
        share of a few statements (indexing.reuse), not its text's processing, so a
        write to a large corpus stays quick.
        """
        if self._copier is None:
            self._copier = RowCopier(self.db, old)
        span = self._copier.span(doc_id)
        if span is None:
            return None
        first, last, passages, s_first, sentences = span
        self._copier.copy(doc_id, content_hash, self.passages, self.sentences)
        self.documents += 1
        self.passages += passages
        self.sentences += sentences
        # A document's sentences follow each other as its passages do (written together).
        return list(range(first, last + 1)), list(range(s_first, s_first + sentences))

    def texts(self, rows: list[int]) -> list[str]:
        """Return the texts of passages written so far, in the order of `rows`."""
        if self._copier is not None:
            self._copier.flush()  # copied rows, written once read
        found = dict(self.db.execute(
            f"SELECT rowid, text FROM passages WHERE rowid IN ({','.join('?' * len(rows))})",
            rows).fetchall())
        return [found[row] for row in rows]

    def add_types(self, types: list[tuple[int, bytes]]) -> None:
        """Store packed typed spans (store.keys.pack_types) of passage rows written."""
        if self._copier is not None:
            self._copier.flush()
        self.db.executemany("UPDATE passage_keys SET types = ? WHERE rowid = ?",
                            [(blob, row) for row, blob in types])

    def types_done(self) -> None:
        """Mark every passage's typed spans stored, with the kinds their codes stand for."""
        self.db.execute("INSERT INTO meta VALUES ('span_kinds', ?)", (SPAN_KINDS,))

    def _count_words(self, text: str, sign: int = 1) -> None:
        seen = set()
        for term, capitalized in name_tokens(text):
            counts = self.vocab.setdefault(term, [0, 0, 0])
            if term not in seen:
                counts[0] += sign
                seen.add(term)
            if capitalized is not None:
                counts[1] += sign * capitalized
                counts[2] += sign

    def close(self) -> None:
        if self._copier is not None:
            self._copier.close()
        self.vocab = {term: c for term, c in self.vocab.items() if c[0] > 0}
        # Raw counts, so that the next incremental build can add and remove documents.
        self.db.executemany("INSERT INTO vocab_counts VALUES (?,?,?,?)",
                            ((term, *c) for term, c in self.vocab.items()))
        self.db.executemany(
            "INSERT INTO vocab VALUES (?,?,?,?)",
            ((term, variant_key(term), df, caps / uses if uses else None)
             for term, (df, caps, uses) in self.vocab.items()),
        )
        self.db.execute("CREATE INDEX vocab_key ON vocab (key)")
        self.db.execute("INSERT INTO passages_fts (passages_fts) VALUES ('optimize')")
        self.db.commit()
        self.db.close()
