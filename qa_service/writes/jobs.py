"""Jobs: each write's state and each file's outcome, kept in SQLite beside the index.

Every worker process of a server, and `qa-service add`, share one jobs file per
collection: a job queued by one is run by whichever takes it first (`claim`), one
build at a time (the build lock). A job left `running` by a process that is gone (a
crash, kill -9) is marked failed when the next process opens the file: the served
index was never touched by it, as a build publishes in one rename or not at all.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import secrets
import socket
import sqlite3
import time
from pathlib import Path

from qa_service.errors import NotFound

log = logging.getLogger(__name__)

FILE = "jobs.sqlite"
# Jobs kept: the oldest finished ones beyond this are dropped as new ones come.
KEEP_JOBS = 1_000
ACTIONS = ("add", "replace", "delete")
STATES = ("queued", "running", "done", "failed")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY, seq INTEGER, action TEXT NOT NULL, state TEXT NOT NULL,
    created REAL NOT NULL, started REAL, finished REAL, files TEXT NOT NULL,
    version TEXT, error TEXT, owner TEXT)
"""
LOST = ("the server stopped during this job's build; the served index is as it was. "
        "Its files are in the corpus: the next build indexes them")


def _owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _alive(owner: str | None) -> bool:
    host, _, pid = (owner or "").rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class JobStore:
    """The jobs of one collection, in `folder`/jobs.sqlite."""

    def __init__(self, folder: Path):
        self.path = Path(folder) / FILE
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute(_SCHEMA)
        self.fail_lost()

    def _connect(self) -> sqlite3.Connection:
        # A connection per call: called from request threads and the runner's thread.
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        db.row_factory = sqlite3.Row
        db.execute("PRAGMA journal_mode = WAL")
        return db

    def create(self, action: str, files: list[dict]) -> dict:
        """Queue a job for `files` ([{name, doc_id}]); return it."""
        job_id = "j-" + secrets.token_hex(8)
        now = time.time()
        rows = [{**f, "outcome": "pending"} for f in files]
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            seq = db.execute("SELECT coalesce(max(seq), 0) + 1 FROM jobs").fetchone()[0]
            db.execute("INSERT INTO jobs (id, seq, action, state, created, files) VALUES "
                       "(?, ?, ?, 'queued', ?, ?)",
                       (job_id, seq, action, now, json.dumps(rows, ensure_ascii=False)))
            db.execute("DELETE FROM jobs WHERE seq <= ? AND state IN ('done', 'failed')",
                       (seq - KEEP_JOBS,))
            db.execute("COMMIT")
        return self.get(job_id)

    def get(self, job_id: str) -> dict:
        """Return job `job_id` as the API shows it, or raise NotFound."""
        with self._connect() as db:
            row = db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        if row is None:
            raise NotFound(f"no job {job_id[:40]!r}")
        return _public(row)

    def claim(self) -> list[dict]:
        """Take every queued job for a build by this process (oldest first)."""
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            rows = db.execute("SELECT * FROM jobs WHERE state = 'queued' ORDER BY seq"
                              ).fetchall()
            db.executemany("UPDATE jobs SET state = 'running', started = ?, owner = ? "
                           "WHERE id = ?", [(time.time(), _owner(), r["id"]) for r in rows])
            db.execute("COMMIT")
        return [{"id": r["id"], "action": r["action"], "files": json.loads(r["files"])}
                for r in rows]

    def pending(self) -> bool:
        """Say whether a job waits to be claimed."""
        with self._connect() as db:
            return db.execute("SELECT 1 FROM jobs WHERE state = 'queued' LIMIT 1"
                              ).fetchone() is not None

    def finish(self, job_id: str, files: list[dict], version: str | None,
               error: str | None = None) -> None:
        """Record a job's end: done with each file's outcome and the version, or failed."""
        with self._connect() as db:
            db.execute("UPDATE jobs SET state = ?, finished = ?, files = ?, version = ?, "
                       "error = ? WHERE id = ?",
                       ("failed" if error else "done", time.time(),
                        json.dumps(files, ensure_ascii=False), version, error, job_id))

    def fail_lost(self) -> int:
        """Mark failed the jobs left running by a process that is gone; return how many."""
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            rows = db.execute("SELECT id, owner FROM jobs WHERE state = 'running'").fetchall()
            lost = [r["id"] for r in rows if not _alive(r["owner"])]
            db.executemany("UPDATE jobs SET state = 'failed', finished = ?, error = ? "
                           "WHERE id = ?", [(time.time(), LOST, i) for i in lost])
            db.execute("COMMIT")
        if lost:
            log.warning("marked %d job(s) failed: their build was cut off (%s)",
                        len(lost), ", ".join(lost))
        return len(lost)


def _iso(seconds: float | None) -> str | None:
    if seconds is None:
        return None
    return dt.datetime.fromtimestamp(seconds, dt.UTC).isoformat(timespec="milliseconds")


def _public(row: sqlite3.Row) -> dict:
    return {"id": row["id"], "action": row["action"], "state": row["state"],
            "created_at": _iso(row["created"]), "started_at": _iso(row["started"]),
            "finished_at": _iso(row["finished"]), "files": json.loads(row["files"]),
            "index_version": row["version"], "error": row["error"]}
