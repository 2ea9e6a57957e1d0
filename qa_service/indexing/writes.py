"""One line for a build's failed write (a full disk, no inodes left), naming the file."""

from __future__ import annotations

import os
import sqlite3
from contextlib import contextmanager
from pathlib import Path

from qa_service.errors import QAError


class WriteFailed(QAError):
    """A build could not write a file of the new index; the live one is untouched."""

    code = "index_write_failed"


@contextmanager
def writing(name: str, root: Path, faiss: bool = False):
    """Turn a failed write of index file `name` under `root` into one WriteFailed line.

    SQLite says "database or disk is full", FAISS raises RuntimeError with a C++ trace
    ("52992 requested and 14304 written"), numpy and the file system raise OSError:
    none of them names the file. `faiss`: catch FAISS's RuntimeError too.
    """
    caught = (OSError, sqlite3.Error, RuntimeError) if faiss else (OSError, sqlite3.Error)
    try:
        yield
    except caught as exc:
        raise WriteFailed(f"cannot write {name} of the new index in {root}: {_reason(exc, root)}; "
                          "the live index was left as it was") from None


def _reason(exc: Exception, root: Path) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    text = " ".join(str(exc).split()) or type(exc).__name__
    if isinstance(exc, RuntimeError):  # FAISS: a C++ trace whose last clause says what
        text = f"FAISS: {text.rsplit(': ', 1)[-1]}"
    if _full(root):
        return f"No space left on device ({text})"
    return text


def _full(root: Path) -> bool:
    """Say whether the file system of `root` has no block or no inode left for us."""
    try:
        stat = os.statvfs(root)
    except OSError:
        return False
    return stat.f_bavail == 0 or (stat.f_files > 0 and stat.f_favail == 0)
