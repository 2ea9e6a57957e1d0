"""Write an index's term-passage postings for in-memory BM25 (store.lexicon reads them)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np

from qa_service.store.lexicon import (
    DOCS_FILE,
    HITS_FILE,
    LENGTHS_FILE,
    PTR_FILE,
    TERMS_TABLE,
)


def write_lexicon(path: Path) -> None:
    """Write the postings of the FTS5 table in the SQLite file `path` beside it."""
    db = sqlite3.connect(path)
    try:
        db.execute("CREATE VIRTUAL TABLE temp.instances USING "
                   "fts5vocab(main, passages_fts, 'instance')")
        rows = db.execute("SELECT count(*) FROM passages").fetchone()[0]
        terms: list[str] = []
        ptr, docs, hits = [0], [], []
        last_term, last_doc = None, None
        lengths = np.zeros(rows, dtype=np.int32)
        for term, doc, column in db.execute(
                "SELECT term, doc, col FROM temp.instances ORDER BY term, doc"):
            if term != last_term:
                if last_term is not None:
                    ptr.append(len(docs))
                terms.append(term)
                last_term, last_doc = term, None
            if doc != last_doc:
                docs.append(doc)
                hits.append([0, 0])
                last_doc = doc
            hits[-1][0 if column == "title" else 1] += 1
            lengths[doc] += 1
        ptr.append(len(docs))
        db.execute(f"CREATE TABLE {TERMS_TABLE} (term TEXT PRIMARY KEY, id INTEGER NOT NULL)"
                   " WITHOUT ROWID")
        db.executemany(f"INSERT INTO {TERMS_TABLE} VALUES (?, ?)",
                       ((t, i) for i, t in enumerate(terms)))
        db.commit()
    finally:
        db.close()
    folder = Path(path).parent
    np.save(folder / PTR_FILE, np.asarray(ptr, dtype=np.int64), allow_pickle=False)
    np.save(folder / DOCS_FILE, np.asarray(docs, dtype=np.int32), allow_pickle=False)
    np.save(folder / HITS_FILE, np.asarray(hits, dtype=np.int32).reshape(-1, 2),
            allow_pickle=False)
    np.save(folder / LENGTHS_FILE, lengths, allow_pickle=False)
