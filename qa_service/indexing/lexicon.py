"""Write an index's term-passage postings for in-memory BM25 (store.lexicon reads them).

A full build reads every posting out of FTS5. An incremental one keeps the build
before's postings of the passages it reused (their rows renumbered, those of changed and
deleted documents dropped) and reads out of FTS5 only those of its new passages, put in
a small table of their own with the same tokenizer: the same arrays, in a fraction of
the time, so that one document added to a large corpus is indexed in seconds.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np

from qa_service.store.lexicon import (
    DOCS_FILE,
    FILES,
    HITS_FILE,
    LENGTHS_FILE,
    PTR_FILE,
    TERMS_TABLE,
)
from qa_service.store.passages import TOKENIZER


def write_lexicon(path: Path, previous: Path | None = None,
                  old_rows: list[int] | None = None) -> None:
    """Write the postings of the FTS5 table in the SQLite file `path` beside it.

    `previous`: the SQLite file of the build before, beside its postings, and
    `old_rows`: for each passage row written, its row there (-1: new): its postings
    are then reused instead of read again.
    """
    db = sqlite3.connect(path)
    try:
        rows = db.execute("SELECT count(*) FROM passages").fetchone()[0]
        if previous is not None and old_rows is not None and _reusable(previous):
            terms, ptr, docs, hits, lengths = _merged(db, rows, Path(previous), old_rows)
        else:
            terms, ptr, docs, hits, lengths = _postings(db, "passages_fts", rows)
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
    np.save(folder / LENGTHS_FILE, np.asarray(lengths, dtype=np.int32), allow_pickle=False)


def _postings(db: sqlite3.Connection, table: str, rows: int):
    """Return the postings of FTS5 table `table`: terms, ptr, docs, hits, lengths."""
    db.execute(f"CREATE VIRTUAL TABLE temp.instances_{table} USING "
               f"fts5vocab({'temp' if table != 'passages_fts' else 'main'}, {table}, "
               "'instance')")
    terms: list[str] = []
    ptr, docs, hits = [0], [], []
    last_term, last_doc = None, None
    lengths = np.zeros(rows, dtype=np.int32)
    for term, doc, column in db.execute(
            f"SELECT term, doc, col FROM temp.instances_{table} ORDER BY term, doc"):
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
    return terms, ptr, docs, hits, lengths


def _reusable(previous: Path) -> bool:
    folder = previous.parent
    return all((folder / name).is_file() for name in FILES)


def _merged(db: sqlite3.Connection, rows: int, previous: Path, old_rows: list[int]):
    """Return the postings of the build before, renumbered, merged with the new passages'."""
    folder = previous.parent
    old_ptr = np.load(folder / PTR_FILE)
    old_docs = np.load(folder / DOCS_FILE)
    old_hits = np.load(folder / HITS_FILE)
    old_lengths = np.load(folder / LENGTHS_FILE)
    with sqlite3.connect(f"file:{previous}?mode=ro", uri=True) as old:
        old_terms = [t for t, in old.execute(f"SELECT term FROM {TERMS_TABLE} ORDER BY id")]
    came_from = np.asarray(old_rows, dtype=np.int64)
    new_of_old = np.full(len(old_lengths), -1, dtype=np.int64)
    kept = came_from >= 0
    new_of_old[came_from[kept]] = np.flatnonzero(kept)
    # The new passages alone, in a table of their own with the same tokenizer.
    fresh = np.flatnonzero(~kept)
    db.execute(f"CREATE VIRTUAL TABLE temp.fresh USING fts5(title, text, content='', "
               f"tokenize='{TOKENIZER}')")
    for start in range(0, len(fresh), 500):
        chunk = fresh[start:start + 500].tolist()
        db.execute("INSERT INTO temp.fresh (rowid, title, text) SELECT p.rowid, d.title, "
                   "p.text FROM passages p JOIN documents d ON d.doc_id = p.doc_id WHERE "
                   f"p.rowid IN ({','.join('?' * len(chunk))})", chunk)
    new_terms, new_ptr, new_docs, new_hits, new_lengths = _postings(db, "fresh", rows)
    # Old postings, renumbered; those of passages not kept dropped.
    old_term_of = np.repeat(np.arange(len(old_terms)), np.diff(old_ptr))
    moved = new_of_old[old_docs]
    keep = moved >= 0
    terms = sorted(set(old_terms).union(new_terms))  # SQLite's order: UTF-8 bytes
    index = {t: i for i, t in enumerate(terms)}
    old_ids = np.asarray([index[t] for t in old_terms], dtype=np.int64)
    new_ids = np.asarray([index[t] for t in new_terms], dtype=np.int64)
    term = np.concatenate([old_ids[old_term_of[keep]],
                           np.repeat(new_ids, np.diff(new_ptr)).astype(np.int64)])
    doc = np.concatenate([moved[keep], np.asarray(new_docs, dtype=np.int64)])
    hit = np.concatenate([old_hits[keep], np.asarray(new_hits, dtype=np.int32).reshape(-1, 2)])
    order = np.lexsort((doc, term))
    term, doc, hit = term[order], doc[order], hit[order]
    counts = np.bincount(term, minlength=len(terms))
    ptr = np.concatenate([[0], np.cumsum(counts)])
    # A term only old, deleted with every passage that held it, is no term any more.
    present = counts > 0
    if not present.all():
        terms = [t for t, p in zip(terms, present, strict=True) if p]
        ptr = np.concatenate([[0], np.cumsum(counts[present])])
    lengths = new_lengths
    lengths[kept] = old_lengths[came_from[kept]]
    return terms, ptr, doc, hit, lengths
