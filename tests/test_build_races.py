"""A file rewritten while a build reads it: the manifest records the bytes indexed, so the
next `build --if-stale` sees a change that the index does not hold."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from qa_service.cli import cli
from qa_service.indexing import build_index, check
from qa_service.store import Index

OLD = "Riverside bridge"
NEW = "Zebracorn parade"  # as long as OLD: the rewrite keeps the size
assert len(OLD) == len(NEW)


def _rewrite_keeping_size_and_mtime(path: Path) -> bytes:
    """Swap OLD for NEW in place, as an editor's save within one clock tick would look."""
    stat = path.stat()
    data = path.read_bytes().replace(OLD.encode(), NEW.encode())
    path.write_bytes(data)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert path.stat().st_size == stat.st_size
    return data


def _on_main_read(monkeypatch, name: str, before: bool) -> list[bytes]:
    """Rewrite `name` just before, or just after, the build's indexing read of it."""
    original = Path.read_bytes
    reads: list[int] = []
    written: list[bytes] = []

    def read_bytes(self):
        if self.name != name:
            return original(self)
        reads.append(1)  # the first read counts repeated lines; the second is indexed
        if len(reads) == 2 and before:
            written.append(_rewrite_keeping_size_and_mtime(self))
        data = original(self)
        if len(reads) == 2 and not before:
            written.append(_rewrite_keeping_size_and_mtime(self))
        return data

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    return written


def _text(settings, doc_id: str) -> str:
    index = Index.load(settings.index_dir)
    try:
        return " ".join(p["text"] for p in index.passages.document(doc_id)[1])
    finally:
        index.close()


def test_a_file_rewritten_after_the_build_read_it_is_stale_at_the_next_check(
        settings, encoder, corpus, monkeypatch, runner):
    # Saved just now, then saved again within the same mtime tick (a coarse clock, or a
    # file system stamping whole seconds): size and mtime alone cannot tell the saves apart.
    os.utime(corpus / "flood.txt")
    written = _on_main_read(monkeypatch, "flood.txt", before=False)
    build_index(settings, encoder)
    monkeypatch.undo()
    assert written and OLD in _text(settings, "flood.txt")  # the index holds the old text
    assert check(settings.index_dir, settings) == "corpus file 1 changed since it was built"
    result = runner.invoke(cli, ["build", "--corpus", str(corpus), "--if-stale",
                                 "--index-dir", str(settings.index_dir)])
    assert result.exit_code == 0 and "up to date" not in result.stderr
    assert NEW in _text(settings, "flood.txt")


def test_a_file_rewritten_before_the_build_read_it_is_recorded_as_read(
        settings, encoder, corpus, monkeypatch):
    written = _on_main_read(monkeypatch, "flood.txt", before=True)
    build_index(settings, encoder)
    monkeypatch.undo()
    index = Index.load(settings.index_dir)
    recorded = index.manifest.corpus["files"]["flood.txt"][2]
    index.close()
    assert recorded == hashlib.sha256(written[0]).hexdigest()  # what was indexed
    assert NEW in _text(settings, "flood.txt")
    assert check(settings.index_dir, settings) is None  # index and file agree


def test_a_file_hashed_empty_mid_rewrite_is_recorded_by_the_bytes_indexed(
        settings, encoder, corpus, monkeypatch):
    from qa_service.indexing import snapshot

    hash_of = snapshot.file_sha256
    empty = hashlib.sha256(b"").hexdigest()
    monkeypatch.setattr(snapshot, "file_sha256",
                        lambda path: empty if path.name == "flood.txt" else hash_of(path))
    build_index(settings, encoder)
    monkeypatch.undo()
    index = Index.load(settings.index_dir)
    recorded = index.manifest.corpus["files"]["flood.txt"][2]
    index.close()
    assert recorded == hash_of(corpus / "flood.txt") != empty
    assert check(settings.index_dir, settings) is None


def test_a_build_hashes_the_files_it_reads_as_it_reads_them_only(
        settings, encoder, corpus, monkeypatch):
    from qa_service.indexing import snapshot
    from qa_service.ingest import corpus_files, file_sha256

    (corpus / "big.txt").write_text("A report far too long to index. " * 40, "utf-8")
    settings = settings.with_(max_file_bytes=1024)  # over it: big.txt only, never read
    hashed: list[str] = []
    monkeypatch.setattr(snapshot, "file_sha256",
                        lambda path: hashed.append(path.name) or file_sha256(path))
    build_index(settings, encoder)
    monkeypatch.undo()
    # What the build does not hash as it reads (metadata, a file too big) the snapshot does.
    assert sorted(hashed) == ["big.txt", "sources.toml"]
    index = Index.load(settings.index_dir)
    recorded = index.manifest.corpus["files"]
    index.close()
    assert recorded == {f.relpath: [f.size, f.mtime_ns, file_sha256(f.path)]
                        for f in corpus_files(corpus)}
    assert check(settings.index_dir, settings) is None
    (corpus / "big.txt").write_text("A report still far too long. " * 40, "utf-8")
    assert check(settings.index_dir, settings) == "corpus file 1 changed since it was built"
