"""A build that runs out of disk space or inodes fails in one line naming the file, exit 1,
and leaves the index folder as it was: the live version, and nothing else."""

from __future__ import annotations

import errno
import os
import re
import sqlite3

import pytest

from qa_service.cli import cli
from qa_service.store import Index, layout


def _no_space(*args, **kwargs):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def _no_space_for(suffix: str):
    """Return a numpy.save that runs out of space for files named ...`suffix` only."""
    import numpy as np

    save = np.save

    def failing(file, *args, **kwargs):
        if str(file).endswith(suffix):
            _no_space()
        return save(file, *args, **kwargs)

    return failing


def _sqlite_full(self, *args, **kwargs):
    raise sqlite3.OperationalError("database or disk is full")


def _faiss_short_write(index, path):
    with open(path, "wb") as fh:  # part of the file, as a full disk leaves it
        fh.write(b"\0" * 14304)
    raise RuntimeError(
        "Error in void faiss::FileIOWriter::operator()(const void*, size_t, size_t) at "
        "/project/faiss/faiss/impl/io.cpp:98: Error: 'ret == nitems' failed:\n"
        "write error: 52992 requested and 14304 written")


FAULTS = {
    # what runs out, where: (patched object, attribute, replacement, file named)
    "sqlite": ("qa_service.indexing.writer.PassageWriter.close", _sqlite_full,
               "passages.sqlite", "database or disk is full"),
    "faiss": ("qa_service.indexing.vector_index.faiss.write_index", _faiss_short_write,
              "passages.faiss", "52992 requested and 14304 written"),
    "numpy": ("numpy.save", _no_space_for("sentences.npy"), "sentences.npy",
              "No space left on device"),
    "lexicon": ("numpy.save", _no_space_for("lexicon_hits.npy"), "the lexicon",
                "No space left on device"),
    "words": ("numpy.save", _no_space_for("word_vectors.npy"), "the word vectors",
              "No space left on device"),
    "inodes": ("os.symlink", _no_space, "the `current` link", "No space left on device"),
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_a_full_disk_is_one_line_naming_the_file_and_leaves_nothing_behind(
        fault, runner, built, corpus, monkeypatch):
    root = built.index_dir
    live = layout.resolve(root)
    before = sorted(p.name for p in root.iterdir())
    (corpus / "new.txt").write_text("Zebracorn parade\n\nIt crossed the bridge.\n", "utf-8")
    target, replacement, name, reason = FAULTS[fault]
    monkeypatch.setattr(target, replacement)
    result = runner.invoke(cli, ["build", "--corpus", str(corpus), "--index-dir", str(root)])
    monkeypatch.undo()
    assert result.exit_code == 1
    # The steps done before the failure said how far they got; the failure is one line.
    progress = re.compile(r"(Reading|Embedding|Word vectors): [\d,]+/[\d,]+ \w+ \(\d+%\)")
    lines = [line for line in result.stderr.strip().splitlines() if not progress.match(line)]
    assert len(lines) == 1
    # Every fault comes after reading: that step's last line is there.
    assert re.search(r"^Reading: 4/4 files \(100%\), done in \d+ s$", result.stderr, re.M)
    assert lines[0].startswith(f"Error: cannot write {name} of the new index in {root}: ")
    assert reason in lines[0] and lines[0].endswith("; the live index was left as it was")
    assert "Traceback" not in result.output
    # Nothing orphaned: no work folder, no version that was never made current.
    assert sorted(p.name for p in root.iterdir()) == before
    assert layout.resolve(root) == live
    Index.load(root).close()
    # And the next build, with room again, goes through.
    assert runner.invoke(cli, ["build", "--corpus", str(corpus),
                               "--index-dir", str(root)]).exit_code == 0


def test_a_short_faiss_write_on_a_full_disk_says_no_space(tmp_path, monkeypatch):
    from qa_service.indexing import writes

    monkeypatch.setattr(writes, "_full", lambda root: True)
    with pytest.raises(writes.WriteFailed) as caught:
        with writes.writing("passages.faiss", tmp_path, faiss=True):
            _faiss_short_write(None, tmp_path / "x")
    assert caught.value.message == (
        f"cannot write passages.faiss of the new index in {tmp_path}: No space left on "
        "device (FAISS: 52992 requested and 14304 written); the live index was left as it was")
