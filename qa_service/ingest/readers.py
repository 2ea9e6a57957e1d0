"""Read a corpus: a folder of text, Markdown and HTML files, or a BEIR-style corpus.jsonl."""

from __future__ import annotations

import hashlib
import json
import logging
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from qa_service.errors import CorpusError

log = logging.getLogger(__name__)

KINDS = {
    ".txt": "text", ".md": "markdown", ".markdown": "markdown", ".html": "html", ".htm": "html",
}
METADATA_FILE = "sources.toml"


@dataclass
class RawDocument:
    """One document as read from disk, before cleaning."""

    doc_id: str
    kind: str  # text | markdown | html | beir
    raw: str
    metadata: dict = field(default_factory=dict)
    default_source: str = ""


@dataclass(frozen=True)
class CorpusFile:
    relpath: str
    path: Path
    size: int
    mtime_ns: int


def corpus_files(corpus: Path) -> list[CorpusFile]:
    """List the files that make up `corpus` (documents and metadata), sorted by path."""
    corpus = Path(corpus)
    if not corpus.exists():
        raise CorpusError(f"corpus not found: {corpus}")
    if corpus.is_file():
        paths = [corpus]
        root = corpus.parent
    else:
        root = corpus.resolve()
        paths = []
        for path in sorted(corpus.rglob("*")):
            if not path.is_file():
                continue
            # Symlinks that leave the corpus folder are not followed.
            if not path.resolve().is_relative_to(root):
                log.warning("skipping %s: it points outside the corpus folder", path)
                continue
            if path.suffix.lower() in KINDS or path.name == METADATA_FILE:
                if not any(part.startswith(".") for part in path.relative_to(corpus).parts):
                    paths.append(path)
    files = []
    for path in paths:
        st = path.stat()
        rel = path.name if corpus.is_file() else path.relative_to(corpus).as_posix()
        files.append(CorpusFile(rel, path, st.st_size, st.st_mtime_ns))
    return files


def file_sha256(path: Path) -> str:
    """Return the hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def read_corpus(corpus: Path, max_file_bytes: int | None = None) -> Iterator[RawDocument]:
    """Yield the raw documents of a folder or of a BEIR corpus.jsonl.

    In a folder, files over `max_file_bytes`, binary files and exact copies of an
    earlier file are skipped with a warning that names them.
    """
    corpus = Path(corpus)
    if corpus.is_file() or (corpus / "corpus.jsonl").is_file() and not _has_documents(corpus):
        path = corpus if corpus.is_file() else corpus / "corpus.jsonl"
        if path.suffix.lower() != ".jsonl":
            raise CorpusError(f"unsupported corpus file {path}: expected a folder or corpus.jsonl")
        yield from _read_beir(path)
        return
    if not corpus.is_dir():
        raise CorpusError(f"corpus not found: {corpus}")
    files = corpus_files(corpus)
    metadata = _read_metadata(corpus / METADATA_FILE)
    default_source = corpus.resolve().name
    first_with: dict[str, str] = {}  # content hash -> the file indexed with that content
    for f in files:
        if f.relpath == METADATA_FILE:
            continue
        if max_file_bytes is not None and f.size > max_file_bytes:
            log.warning("skipping %s: %d bytes is over the limit of %d (QA_MAX_FILE_BYTES)",
                        f.relpath, f.size, max_file_bytes)
            continue
        data = f.path.read_bytes()
        if _looks_binary(data):
            log.warning("skipping %s: it is a binary file, not text", f.relpath)
            continue
        digest = hashlib.sha256(data).hexdigest()
        if digest in first_with:
            log.warning("skipping %s: same content as %s, which is indexed once",
                        f.relpath, first_with[digest])
            continue
        first_with[digest] = f.relpath
        yield RawDocument(
            doc_id=f.relpath,
            kind=KINDS[f.path.suffix.lower()],
            raw=_decode(data, f.relpath),
            metadata=metadata.get(f.relpath, {}),
            default_source=default_source,
        )


def _has_documents(folder: Path) -> bool:
    return any(p.suffix.lower() in KINDS for p in folder.rglob("*") if p.is_file())


def _looks_binary(data: bytes) -> bool:
    # Git's test: a NUL byte near the start. Text in UTF-16 also fails it, and is not
    # supported either.
    return b"\x00" in data[:8192]


def _decode(data: bytes, name: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        log.warning("%s is not valid UTF-8 (byte %d); undecodable bytes were replaced",
                    name, exc.start)
        return data.decode("utf-8", errors="replace")


def _read_metadata(path: Path) -> dict[str, dict]:
    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise CorpusError(f"invalid metadata file {path}: {exc}") from None
    return {str(k): v for k, v in data.items() if isinstance(v, dict)}


def _read_beir(path: Path) -> Iterator[RawDocument]:
    source = path.parent.resolve().name
    seen: set[str] = set()
    with open(path, encoding="utf-8", errors="replace") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                doc_id = str(row["_id"])
                text = str(row.get("text") or "")
            except (json.JSONDecodeError, KeyError, TypeError) as exc:
                raise CorpusError(f"{path}:{lineno}: not a BEIR document line ({exc})") from None
            if doc_id in seen:
                log.warning("%s:%d: duplicate _id %r skipped", path, lineno, doc_id)
                continue
            seen.add(doc_id)
            meta = row.get("metadata") if isinstance(row.get("metadata"), dict) else {}
            meta = {**meta, "title": row.get("title") or meta.get("title") or ""}
            yield RawDocument(doc_id, "beir", text, meta, default_source=source)
