"""Walk a corpus (a folder, one file, or a BEIR corpus.jsonl) and read each document."""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from pathlib import Path

from qa_service.errors import CorpusError
from qa_service.ingest.readers.base import CorpusFile, RawDocument, Skips
from qa_service.ingest.readers.beir import read_beir
from qa_service.ingest.readers.files import (
    Fetch,
    raw_document,
    reading_here,
    settle,
    skip_file,
)
from qa_service.ingest.readers.registry import SUFFIXES, reader_for
from qa_service.ingest.readers.sandbox import ReadLimits

METADATA_FILE = "sources.toml"


def corpus_files(corpus: Path) -> list[CorpusFile]:
    """List the files that make up `corpus` (documents and metadata), sorted by path."""
    corpus = Path(corpus)
    paths, _, _, _ = _walk(corpus)
    single = corpus.is_file()  # a corpus given as a file: itself
    return [_corpus_file(corpus, path, single) for path in paths
            if single or reader_for(path) is not None or path.name == METADATA_FILE]


def hashed_as_read(corpus: Path, max_file_bytes: int | None = None
                   ) -> Callable[[CorpusFile], bool]:
    """Return a test of which files read_corpus (with these arguments) hashes as it reads."""
    corpus = Path(corpus)
    if is_beir(corpus):
        return lambda f: False
    return lambda f: (f.relpath != METADATA_FILE and reader_for(f.path) is not None
                      and (max_file_bytes is None or f.size <= max_file_bytes))


def reading_total(corpus: Path, listed: Iterable[str] | None = None) -> tuple[int, str]:
    """Return how many items read_corpus passes over, and what they are, for a progress count.

    A corpus.jsonl: its lines (documents). Else its document files, of `listed` (the paths
    of a snapshot of it, which spares a second walk) or of a walk now.
    """
    corpus = Path(corpus)
    if is_beir(corpus):
        return count_lines(_beir_file(corpus)), "documents"
    if listed is None:
        listed = [f.relpath for f in corpus_files(corpus)]
    return sum(1 for rel in listed if rel != METADATA_FILE), "files"


def count_lines(path: Path) -> int:
    """Return the number of lines of a file, counted in its bytes (nothing is decoded)."""
    lines, last = 0, b"\n"
    with open(path, "rb") as fh:
        # A byte count per MiB: a few seconds a GB at most, against a read that parses JSON.
        while chunk := fh.read(1 << 20):
            lines += chunk.count(b"\n")
            last = chunk[-1:]
    return lines + (last != b"\n")  # a last line without a newline is a line too


def read_corpus(corpus: Path, max_file_bytes: int | None = None,
                skips: Skips | None = None,
                kinds: Collection[str] | None = None,
                hashes: dict[str, list] | None = None,
                passed: Callable[[], None] | None = None,
                limits: ReadLimits | None = None,
                unchanged: Mapping[str, tuple[str, str]] | None = None,
                walked: tuple | None = None,
                fetch: Fetch | None = None) -> Iterator[RawDocument]:
    """Yield the documents of a folder, one file or a corpus.jsonl; count left-out files.

    `kinds`: read only files of these kinds (the others are passed over, not counted).
    `hashes`: filled with each file read's [size, mtime_ns, sha256 of the bytes read].
    `passed`: called once for each item reading_total counts, read or left out.
    `limits`: parse each file that is not only decoded in a child process within them
    (readers.sandbox); None: here, unbounded.
    `unchanged`: relpath -> (sha256, metadata JSON) of files whose bytes the caller knows
    to be those it indexed before (same size and mtime): while their sources.toml entry
    is still that JSON (metadata_json), they are not read but yielded `reused`.
    `walked`: what walk_corpus(corpus) returned, for a caller reading the corpus twice.
    `fetch`: how a file is checked and parsed (readers.files; a build engine may have
    read it elsewhere); None: here, with `max_file_bytes` and `limits`.
    """
    # Every file of a folder that gives no document is named in a warning with its reason
    # (unsupported type, empty, binary, over `max_file_bytes`, a copy of an earlier file,
    # unreadable, outside the folder) and counted in `skips`.
    corpus = Path(corpus)
    skips = Skips() if skips is None else skips
    if is_beir(corpus):
        yield from read_beir(_beir_file(corpus), skips, passed)
        return
    if corpus.is_file() and reader_for(corpus) is None:
        raise CorpusError(f"unsupported corpus file {corpus}: expected a folder, a document "
                          f"({', '.join(SUFFIXES)}) or corpus.jsonl")
    if not corpus.exists():
        raise CorpusError(f"corpus not found: {corpus}")
    root = corpus.parent if corpus.is_file() else corpus
    paths, outside, refused, misnamed = walked or _walk(corpus)
    for path in misnamed:
        skip_file(skips, "name not UTF-8", printable(path.relative_to(root).as_posix()),
                  "its name is not valid UTF-8; rename it to index it")
    for folder, exc in refused:
        skip_file(skips, "unreadable folder",
                  printable(f"{folder.relative_to(root).as_posix()}/"),
                  f"unreadable folder ({exc.strerror or exc}); none of its files are read")
    for path in outside:
        skip_file(skips, "outside the corpus folder",
                  printable(path.relative_to(root).as_posix()),
                  "it points outside the corpus folder")
    metadata = _read_metadata(root / METADATA_FILE)
    default_source = root.resolve().name
    first_with: dict[str, str] = {}  # content hash -> the file indexed with that content
    fetch = fetch or reading_here(max_file_bytes, limits)
    for path in paths:
        f = _corpus_file(corpus, path)
        if f.relpath == METADATA_FILE:
            continue
        reader = reader_for(path)
        if kinds is not None and (reader is None or reader.kind not in kinds):
            continue
        if reader is None:
            skip_file(skips, "unsupported type", f.relpath,
                      f"unsupported type ({path.suffix.lower() or 'no suffix'}); "
                      f"supported: {', '.join(SUFFIXES)}")
            continue
        known = _unread(f, unchanged, metadata)
        if known is not None:
            first_with.setdefault(known[0], f.relpath)
            if hashes is not None:
                hashes[f.relpath] = [f.size, f.mtime_ns, known[0]]
            if passed is not None:
                passed()
            yield RawDocument(doc_id=f.relpath, kind=reader.kind, raw="",
                              metadata=metadata.get(f.relpath, {}),
                              default_source=default_source, reused=True)
            continue
        found = settle(f, *fetch(f, reader), skips, hashes, first_with)
        if passed is not None:
            passed()
        if found is None:
            continue
        yield raw_document(f, reader, found, metadata.get(f.relpath, {}), default_source)


def files_to_read(corpus: Path, unchanged: Mapping[str, tuple[str, str]] | None = None,
                  walked: tuple | None = None) -> tuple[list[tuple[CorpusFile, dict]], str]:
    """Return the files read_corpus reads (each with its sources.toml table), in its
    order, and the corpus's default source; none for a corpus.jsonl or a missing corpus.

    For a build engine that reads them elsewhere before read_corpus settles them.
    """
    corpus = Path(corpus)
    if is_beir(corpus) or not corpus.exists():
        return [], ""
    root = corpus.parent if corpus.is_file() else corpus
    metadata = _read_metadata(root / METADATA_FILE)
    found = []
    for path in (walked or _walk(corpus))[0]:
        f = _corpus_file(corpus, path)
        if (f.relpath != METADATA_FILE and reader_for(path) is not None
                and _unread(f, unchanged, metadata) is None):
            found.append((f, metadata.get(f.relpath, {})))
    return found, root.resolve().name


def _unread(f: CorpusFile, unchanged: Mapping[str, tuple[str, str]] | None,
            metadata: dict[str, dict]) -> tuple[str, str] | None:
    """Return a file's `unchanged` entry if it is reused unread (its metadata as it was)."""
    known = (unchanged or {}).get(f.relpath)
    if known is not None and known[1] == metadata_json(metadata.get(f.relpath)):
        return known
    return None


def walk_corpus(corpus: Path) -> tuple | None:
    """Walk a corpus folder once for several read_corpus passes (None: a corpus.jsonl)."""
    return None if is_beir(Path(corpus)) else _walk(Path(corpus))


def _walk(corpus: Path) -> tuple[list[Path], list[Path], list[tuple[Path, OSError]],
                                 list[Path]]:
    """Return the corpus's files (not hidden ones), links leaving it, folders it cannot
    list, and files whose path is not valid UTF-8."""
    if not corpus.exists():
        raise CorpusError(f"corpus not found: {corpus}")
    if corpus.is_file():
        return [corpus], [], [], []
    root = corpus.resolve()
    paths, outside, refused, misnamed = [], [], [], []
    # os.walk, not Path.rglob: rglob passes over a folder it may not list without a word.
    for folder, dirs, names in os.walk(
            corpus, onerror=lambda exc: refused.append((Path(exc.filename), exc))):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in names:
            path = Path(folder) / name
            if name.startswith(".") or not path.is_file():
                continue
            # Symlinks that leave the corpus folder are not followed. (os.walk does not
            # descend into linked folders, so only a file itself can lead out.)
            if path.is_symlink() and not path.resolve().is_relative_to(root):
                outside.append(path)
                continue
            # A name in bytes that are not UTF-8 arrives with surrogate escapes, which
            # no doc_id, manifest, SQLite row or JSON answer can hold: left out, named.
            if not _is_utf8(_relative(corpus, path)):
                misnamed.append(path)
                continue
            paths.append(path)
    return (sorted(paths), sorted(outside), sorted(refused, key=lambda r: r[0]),
            sorted(misnamed))


def _is_utf8(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def printable(name: str) -> str:
    """Return a file name with bytes that are not UTF-8 written as \\xNN escapes."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def _corpus_file(corpus: Path, path: Path, single: bool | None = None) -> CorpusFile:
    st = os.stat(path)
    if single is None:
        single = corpus.is_file()
    return CorpusFile(path.name if single else _relative(corpus, path), path, st.st_size,
                      st.st_mtime_ns)


def _relative(corpus: Path, path: Path) -> str:
    """Return a walked file's path below `corpus`, with /: as relative_to, without its
    cost (tens of thousands of files are walked for each write to a large folder)."""
    full, base = os.fspath(path), os.fspath(corpus)
    if full.startswith(base + os.sep):
        return full[len(base) + 1:].replace(os.sep, "/")
    return path.relative_to(corpus).as_posix()  # e.g. a corpus of "." ("./a" became "a")


def _beir_file(corpus: Path) -> Path:
    return corpus if corpus.is_file() else corpus / "corpus.jsonl"


def is_beir(corpus: Path) -> bool:
    """Tell whether `corpus` is read as a BEIR corpus.jsonl (no file of it is hashed)."""
    return corpus.is_file() and corpus.suffix.lower() == ".jsonl" or (
        (corpus / "corpus.jsonl").is_file() and not _has_documents(corpus))


def _has_documents(folder: Path) -> bool:
    return any(reader_for(p) is not None for p in folder.rglob("*") if p.is_file())


def corpus_metadata(corpus: Path) -> dict[str, dict]:
    """Return the tables of a corpus folder's metadata file by relpath (none: {})."""
    corpus = Path(corpus)
    if is_beir(corpus):
        return {}
    return _read_metadata((corpus.parent if corpus.is_file() else corpus) / METADATA_FILE)


def metadata_json(table: dict | None) -> str:
    """Return a file's sources.toml entry as the JSON a build stores and compares."""
    return json.dumps(table or {}, sort_keys=True, default=str, ensure_ascii=False)


def _read_metadata(path: Path) -> dict[str, dict]:
    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise CorpusError(f"invalid metadata file {path}: {exc}") from None
    return {str(k): v for k, v in data.items() if isinstance(v, dict)}
