"""A corpus snapshot: every file's size, mtime and content hash, and how two differ."""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from pathlib import Path

from qa_service.ingest import CorpusFile, corpus_files, file_sha256

log = logging.getLogger(__name__)

# A recorded mtime this close to (or after) the moment its file was hashed cannot tell a
# rewrite in the same clock tick apart (file systems stamp mtimes coarsely, FAT to 2 s):
# such a file is hashed again at the next check ("racily clean", as git calls it).
RACY_NS = 2_000_000_000


def same_stat(recorded: list, size: int, mtime_ns: int, hashed_ns: int | None) -> bool:
    """Say whether a file is as a snapshot recorded it: same size and mtime, and not
    racily so (an mtime within RACY_NS of the recording; None: no time was recorded)."""
    return (recorded[0] == size and recorded[1] == mtime_ns
            and (hashed_ns is None or recorded[1] < hashed_ns - RACY_NS))


def snapshot_corpus(corpus: Path, previous: dict | None = None,
                    hashed_later: Callable[[CorpusFile], bool] | None = None) -> dict:
    """Describe the corpus files: size, mtime and content hash, reusing unchanged hashes.

    `hashed_later`: files a build hashes as it reads them; their hash is left None here,
    for as_indexed to fill in (a build would otherwise read each of them twice).
    """
    known = (previous or {}).get("files", {})
    hashed = (previous or {}).get("hashed_ns")  # absent in manifests written before it
    files = {}
    for f in corpus_files(corpus):
        old = known.get(f.relpath)
        if old and same_stat(old, f.size, f.mtime_ns, hashed):
            digest = old[2]  # unchanged size and mtime: trust the recorded hash (as git does)
        elif hashed_later is not None and hashed_later(f):
            digest = None
        else:
            digest = file_sha256(f.path)
        files[f.relpath] = [f.size, f.mtime_ns, digest]
    return _described(corpus, files)


def as_indexed(snapshot: dict, read: dict[str, list]) -> dict:
    """Return `snapshot` with the size, mtime and hash of the bytes a build indexed.

    `read` maps a file to [size, mtime_ns] from a stat made before reading it, and the
    hash of the bytes read: a file rewritten between the snapshot and the read is then
    recorded as indexed, and one rewritten after the read differs at the next check.
    """
    files = dict(snapshot["files"])
    for rel, entry in read.items():
        old = files.get(rel)
        # A file left to be hashed as read has only its stat to compare.
        if old and (old[:2] != entry[:2] if old[2] is None else old[2] != entry[2]):
            log.warning("%s changed while the build read it; the index holds the text read",
                        rel)
        files[rel] = list(entry)
    # A file left to be hashed as read that was not read (gone, unreadable, grown past the
    # size limit since) is not in the index: left out here too, the next check sees it as
    # added and a build takes it then.
    files = {rel: entry for rel, entry in files.items() if entry[2] is not None}
    return _described(Path(snapshot["path"]), files)


def _described(corpus: Path, files: dict) -> dict:
    fingerprint = hashlib.sha256(
        "\n".join(f"{rel}\t{v[2]}" for rel, v in sorted(files.items())).encode()
    ).hexdigest()
    # Files whose mtime is not older than this by RACY_NS are hashed again next time.
    return {"path": str(Path(corpus).resolve()), "fingerprint": fingerprint, "files": files,
            "hashed_ns": time.time_ns()}


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
