"""A corpus snapshot: every file's size, mtime and content hash, and how two differ."""

from __future__ import annotations

import hashlib
from pathlib import Path

from qa_service.ingest import corpus_files, file_sha256


def snapshot_corpus(corpus: Path, previous: dict | None = None) -> dict:
    """Describe the corpus files: size, mtime and content hash, reusing unchanged hashes."""
    known = (previous or {}).get("files", {})
    files = {}
    for f in corpus_files(corpus):
        old = known.get(f.relpath)
        if old and old[0] == f.size and old[1] == f.mtime_ns:
            digest = old[2]  # unchanged size and mtime: trust the recorded hash (as git does)
        else:
            digest = file_sha256(f.path)
        files[f.relpath] = [f.size, f.mtime_ns, digest]
    fingerprint = hashlib.sha256(
        "\n".join(f"{rel}\t{v[2]}" for rel, v in sorted(files.items())).encode()
    ).hexdigest()
    return {"path": str(Path(corpus).resolve()), "fingerprint": fingerprint, "files": files}


def describe_changes(old: dict, new: dict) -> str | None:
    """Say how the corpus changed between two snapshots, or None when it did not."""
    if old.get("fingerprint") == new.get("fingerprint"):
        return None
    a, b = old.get("files", {}), new.get("files", {})
    added = len(b.keys() - a.keys())
    removed = len(a.keys() - b.keys())
    changed = sum(1 for k in a.keys() & b.keys() if a[k][2] != b[k][2])
    parts = [f"{n} {what}" for n, what in ((changed, "changed"), (added, "added"),
                                           (removed, "removed")) if n]
    if not parts:
        return "corpus files changed"
    return f"corpus {'file' if changed + added + removed == 1 else 'files'} " + ", ".join(parts)
