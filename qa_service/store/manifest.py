"""The index manifest: written last by a build, read first on load."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from qa_service.errors import IndexCorrupt
from qa_service.ingest.readers import corpus_files, file_sha256

FORMAT = 1
MANIFEST = "manifest.json"


@dataclass
class Manifest:
    """What an index holds and how it was made."""

    format: int
    model: dict  # name, dimension, max_tokens, backend
    corpus: dict  # path, fingerprint, files: {relpath: [size, mtime_ns, sha256]}
    chunking: dict  # max_tokens, min_chars
    counts: dict  # documents, passages, sentences
    vectors: dict  # type, metric, parameters
    files: dict  # file name -> size in bytes
    versions: dict
    built_at: str
    build_seconds: float
    name: str = ""
    extra: dict = field(default_factory=dict)

    def write(self, folder: Path) -> None:
        path = Path(folder) / MANIFEST
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2, ensure_ascii=False) + "\n", "utf-8")
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)

    @classmethod
    def read(cls, folder: Path) -> Manifest:
        path = Path(folder) / MANIFEST
        try:
            data = json.loads(path.read_text("utf-8"))
            if data.get("format") != FORMAT:
                raise IndexCorrupt(
                    f"{path}: index format {data.get('format')!r} is not {FORMAT}; rebuild it"
                )
            return cls(**data)
        except FileNotFoundError:
            raise IndexCorrupt(f"{path} is missing: the index is incomplete; rebuild it") from None
        except (ValueError, TypeError, UnicodeDecodeError) as exc:
            raise IndexCorrupt(f"{path} is unreadable ({exc}); rebuild the index") from None


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
    return "corpus files " + ", ".join(parts or ["changed"])
