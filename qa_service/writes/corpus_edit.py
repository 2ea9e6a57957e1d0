"""Add, replace and remove document files in a corpus folder, with their metadata.

The corpus folder stays the source of truth: a write over HTTP or `qa-service add` lands
there, so `qa-service build` and the API never disagree. A file appears in one rename
(written whole under a hidden name first, which a build passes over), and the corpus's
metadata file (sources.toml) is rewritten the same way, comments kept, under a lock on
the folder that every writer takes.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import secrets
from pathlib import Path

import tomlkit

from qa_service.errors import Conflict, CorpusError
from qa_service.ingest.readers import METADATA_FILE
from qa_service.ingest.readers.corpus import is_beir
from qa_service.writes.names import check_new_name, existing_document

log = logging.getLogger(__name__)

class CorpusEditor:
    """Change the files of one corpus folder; every change holds the folder's write lock."""

    def __init__(self, corpus: Path):
        self.corpus = Path(corpus)
        # A folder holding corpus.jsonl is read as that file: one document file added
        # beside it would make it a folder of documents, and every line of it unread.
        if not self.corpus.is_dir() or is_beir(self.corpus):
            raise CorpusError(
                "this collection's corpus is not a folder (a corpus.jsonl or one file): "
                "documents can be added and removed only in a folder corpus")

    @contextlib.contextmanager
    def locked(self):
        """Hold the folder's write lock (other processes' writes wait for it)."""
        # The folder itself is locked: no lock file is left among the documents.
        fd = os.open(self.corpus, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # releases the lock

    def add(self, name: str, data: bytes, metadata: dict) -> str:
        """Store a new document file `name`; return its doc_id. Conflict if it exists."""
        name = check_new_name(name)
        with self.locked():
            tmp = self._write_hidden(data)
            try:
                try:
                    os.link(tmp, self.corpus / name)  # no clobbering: fails if it exists
                except FileExistsError:
                    raise Conflict(f"a document {name!r} exists: replace it with PUT "
                                   f"/api/documents/{name}, or choose another name") from None
            finally:
                tmp.unlink(missing_ok=True)
            try:
                self._set_metadata(name, metadata)
            except BaseException:
                (self.corpus / name).unlink(missing_ok=True)
                raise
        log.info("added %s (%d bytes)", name, len(data))
        return name

    def replace(self, doc_id: str, data: bytes, metadata: dict | None) -> str:
        """Replace document `doc_id`'s file (and its metadata, if given)."""
        with self.locked():
            path = existing_document(self.corpus, doc_id)
            tmp = self._write_hidden(data, path.parent)
            try:
                os.replace(tmp, path)
            except BaseException:
                tmp.unlink(missing_ok=True)
                raise
            if metadata is not None:
                self._set_metadata(doc_id, metadata)
        log.info("replaced %s (%d bytes)", doc_id, len(data))
        return doc_id

    def remove(self, doc_id: str) -> str:
        """Remove document `doc_id`'s file and its metadata."""
        with self.locked():
            path = existing_document(self.corpus, doc_id)
            self._set_metadata(doc_id, None)
            path.unlink()
        log.info("removed %s", doc_id)
        return doc_id

    def _write_hidden(self, data: bytes, folder: Path | None = None) -> Path:
        """Write `data` whole to a hidden file beside where it will live, flushed."""
        tmp = (folder or self.corpus) / f".upload-{secrets.token_hex(8)}"
        with open(tmp, "xb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        return tmp

    def _set_metadata(self, doc_id: str, fields: dict | None) -> None:
        """Set (or with None, drop) document `doc_id`'s table in the metadata file."""
        path = self.corpus / METADATA_FILE
        if not fields and not path.exists():
            return
        try:
            doc = tomlkit.parse(path.read_text("utf-8")) if path.exists() else \
                tomlkit.document()
        except (OSError, UnicodeDecodeError, tomlkit.exceptions.ParseError) as exc:
            raise CorpusError(f"the corpus's {METADATA_FILE} cannot be read ({exc}); "
                              "mend it before writing documents") from None
        if doc_id in doc:
            del doc[doc_id]
        elif not fields:
            return
        if fields:
            table = tomlkit.table()
            for key, value in fields.items():
                table[key] = value
            doc[doc_id] = table
        tmp = self.corpus / f".{METADATA_FILE}.{secrets.token_hex(4)}"
        try:
            with open(tmp, "x", encoding="utf-8") as fh:
                # One newline at the end: a table added then removed leaves the file as it was.
                fh.write(tomlkit.dumps(doc).rstrip("\n") + "\n")
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
