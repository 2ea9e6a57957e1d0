"""Hostile corpus files (bombs, odd names): each is skipped or cut with a named warning,
within bounds, and the rest of the corpus is indexed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from qa_service.config import Settings
from qa_service.indexing import build_index
from qa_service.ingest.readers import limits
from qa_service.store import Index
from tests import hostile_files

REPO = Path(__file__).parent.parent
STORY = ("The harbour ferry timetable changes in the spring, the port authority said on "
         "Monday, and the first boat will leave at six in the morning.")


def _build(corpus: Path, tmp_path: Path, encoder):
    settings = Settings.from_env(corpus=corpus, index_dir=tmp_path / "index")
    report = build_index(settings, encoder)
    index = Index.load(settings.index_dir)
    return report, index


def _corpus(tmp_path: Path) -> Path:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "ferry.txt").write_text(STORY, "utf-8")
    return corpus


def _indexed(index) -> set[str]:
    return {row["doc_id"] for row in index.passages.documents()}


def _read_bounded(path: Path, memory_mb: int = 1024) -> tuple[dict, float]:
    """Read one file as a build does, in a child with `memory_mb` of address space."""
    code = f"""
import json, logging, resource, sys
resource.setrlimit(resource.RLIMIT_AS, ({memory_mb} << 20, {memory_mb} << 20))
from pathlib import Path
from qa_service.ingest.readers import Skips, read_corpus
records = []
logging.basicConfig(level=logging.WARNING, handlers=[logging.Handler()])
logging.getLogger().handlers[0].emit = lambda r: records.append(r.getMessage())
skips = Skips()
docs = [d.doc_id for d in read_corpus(Path(sys.argv[1]), 10 << 20, skips)]
print(json.dumps({{"docs": docs, "skips": dict(skips), "warnings": records}}))
"""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True,
                          text=True, timeout=120, cwd=REPO,
                          env={"PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1",
                               "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.splitlines()[-1]), time.perf_counter() - started


def test_yaml_alias_bomb_is_skipped_named_and_the_rest_indexed(tmp_path, encoder, caplog):
    corpus = _corpus(tmp_path)
    hostile_files.yaml_alias_bomb(corpus / "laughs.md")
    report, index = _build(corpus, tmp_path, encoder)
    assert _indexed(index) == {"ferry.txt"}
    assert report.skipped["over a limit"] == 1
    assert any("laughs.md" in m and "MAX_YAML_ALIAS_NODES" in m for m in caplog.messages)


def test_yaml_alias_bomb_is_refused_within_bounds(tmp_path):
    # Before the bound: over 60 s and 1.19 GB. A child limited to 1 GB, done in seconds.
    corpus = _corpus(tmp_path)
    hostile_files.yaml_alias_bomb(corpus / "laughs.md")
    found, seconds = _read_bounded(corpus)
    assert found["docs"] == ["ferry.txt"] and found["skips"] == {"over a limit": 1}
    assert seconds < 30


def test_a_few_yaml_aliases_are_read(tmp_path):
    from qa_service.ingest.readers.markdown import front_matter

    text = "---\nwho: &w {name: Ann, desk: Culture}\nauthor: *w\neditor: *w\n---\nBody.\n"
    meta, body = front_matter(text, "a.md")
    assert meta["author"] == meta["editor"] == {"name": "Ann", "desk": "Culture"}


def test_yaml_nested_too_deep_is_skipped(tmp_path, caplog):
    corpus = _corpus(tmp_path)
    deep = "[" * 200 + "]" * 200
    (corpus / "deep.md").write_text(f"---\nx: {deep}\n---\n\n{STORY}\n", "utf-8")
    from qa_service.ingest.readers import Skips, read_corpus

    skips = Skips()
    assert [d.doc_id for d in read_corpus(corpus, None, skips)] == ["ferry.txt"]
    assert any("deep.md" in m and "MAX_YAML_DEPTH" in m for m in caplog.messages)


def test_front_matter_over_64_kib_is_skipped_unparsed_and_named(tmp_path, encoder, caplog):
    # 200,000 fields and a 2 MB value (7 MB): 12.9 s to parse before this bound.
    corpus = _corpus(tmp_path)
    size = hostile_files.many_fields(corpus / "crowded.md").stat().st_size
    started = time.perf_counter()
    report, index = _build(corpus, tmp_path, encoder)
    assert time.perf_counter() - started < 5
    assert _indexed(index) == {"ferry.txt"}
    assert report.skipped["over a limit"] == 1
    assert any("crowded.md" in m and "front matter of" in m and "is over 65,536" in m
               and "MAX_FRONT_MATTER_BYTES" in m for m in caplog.messages), caplog.messages
    assert size > limits.MAX_FRONT_MATTER_BYTES


def test_front_matter_of_2000_fields_is_cut_and_said_so(tmp_path, encoder, caplog):
    corpus = _corpus(tmp_path)
    hostile_files.many_fields(corpus / "crowded.md", fields=2_000, big_value_bytes=5_000)
    assert (corpus / "crowded.md").stat().st_size < limits.MAX_FRONT_MATTER_BYTES
    report, index = _build(corpus, tmp_path, encoder)
    assert _indexed(index) == {"ferry.txt", "crowded.md"}
    row, _ = index.passages.document("crowded.md")
    kept = json.loads(row["meta"])
    assert len(kept) <= limits.MAX_FIELDS
    assert len(json.dumps(kept)) <= limits.MAX_METADATA_CHARS + 100
    assert len(kept["blob"]) == limits.MAX_VALUE_CHARS
    warning = next(m for m in caplog.messages if "crowded.md" in m and "metadata" in m)
    assert "fields dropped" in warning and "blob" in warning


def test_pdf_flate_bomb_is_skipped_named_and_the_rest_indexed(tmp_path, encoder, caplog):
    corpus = _corpus(tmp_path)
    hostile_files.pdf_flate_bomb(corpus / "bomb.pdf", inflated=256 << 20)
    report, index = _build(corpus, tmp_path, encoder)
    assert _indexed(index) == {"ferry.txt"}
    assert report.skipped["over a limit"] == 1
    assert any("bomb.pdf" in m and "MAX_PDF_STREAM_BYTES" in m for m in caplog.messages)


def test_pdf_of_1_gib_inflated_is_refused_within_bounds(tmp_path):
    # Before the bound: 2.26 GB. A child limited to 1 GB of address space, done in seconds.
    corpus = _corpus(tmp_path)
    hostile_files.pdf_flate_bomb(corpus / "bomb.pdf")
    found, seconds = _read_bounded(corpus)
    assert found["docs"] == ["ferry.txt"] and found["skips"] == {"over a limit": 1}
    assert any("bomb.pdf" in w for w in found["warnings"])
    assert seconds < 30


def test_pdf_stream_bound_leaves_other_zlib_users_alone():
    import zlib

    from qa_service.ingest.readers import pdf_bounds

    data = zlib.compress(b" " * (pdf_bounds.MAX_PDF_STREAM_BYTES + 10))
    with pytest.raises(limits.OverLimitError, match="MAX_PDF_STREAM_BYTES"):
        pdf_bounds.decompress(data)
    assert len(zlib.decompress(data)) == pdf_bounds.MAX_PDF_STREAM_BYTES + 10


def test_docx_of_a_300_mb_document_xml_is_skipped_named_and_the_rest_indexed(
        tmp_path, encoder, caplog):
    corpus = _corpus(tmp_path)
    hostile_files.docx_xml_bomb(corpus / "bomb.docx")
    report, index = _build(corpus, tmp_path, encoder)
    assert _indexed(index) == {"ferry.txt"}
    assert report.skipped["over a limit"] == 1
    assert any("bomb.docx" in m and "word/document.xml" in m and "MAX_DOCX_PART_BYTES" in m
               for m in caplog.messages)


def test_docx_bomb_is_refused_within_bounds(tmp_path):
    # Before the bound: over 90 s at 1.1 GB. A child limited to 1 GB, done in seconds.
    corpus = _corpus(tmp_path)
    hostile_files.docx_xml_bomb(corpus / "bomb.docx")
    found, seconds = _read_bounded(corpus)
    assert found["docs"] == ["ferry.txt"] and found["skips"] == {"over a limit": 1}
    assert seconds < 30


def test_docx_that_lies_about_its_sizes_is_skipped_without_inflating_it(tmp_path, caplog):
    from qa_service.ingest.readers import Skips, read_corpus

    corpus = _corpus(tmp_path)
    bomb = hostile_files.docx_xml_bomb(corpus / "liar.docx", xml_bytes=200 << 20)
    hostile_files.docx_lying_sizes(bomb)
    skips = Skips()
    started = time.perf_counter()
    assert [d.doc_id for d in read_corpus(corpus, None, skips)] == ["ferry.txt"]
    assert time.perf_counter() - started < 20
    # zipfile reads no more than the declared size, and the CRC then gives the lie away.
    assert sum(skips.values()) == 1
    assert any("liar.docx" in m for m in caplog.messages)


def test_docx_part_bound_counts_the_bytes_really_inflated(monkeypatch):
    import io
    import zipfile

    from qa_service.ingest.readers import zip_bounds

    monkeypatch.setattr(zip_bounds, "MAX_DOCX_PART_BYTES", 3 << 20)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("word/document.xml", b" " * (2 << 20))
    # Declared under the bound, as it is: read.
    zip_bounds.check_package(buffer.getvalue())
    monkeypatch.setattr(zip_bounds, "MAX_DOCX_PART_BYTES", 1 << 20)
    with pytest.raises(limits.OverLimitError, match="word/document.xml"):
        zip_bounds.check_package(buffer.getvalue())


@pytest.mark.parametrize("name", [b"\xff\xfe.txt", b"caf\xe9/story.txt"],
                         ids=["file", "folder"])
def test_a_file_name_not_utf8_is_skipped_named_and_the_build_goes_on(
        tmp_path, encoder, caplog, name):
    corpus = _corpus(tmp_path)
    path = Path(os.fsdecode(os.path.join(os.fsencode(corpus), name)))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(STORY.replace("ferry", "tram"), "utf-8")
    report, index = _build(corpus, tmp_path, encoder)
    assert _indexed(index) == {"ferry.txt"}
    assert report.skipped["name not UTF-8"] == 1
    shown = name.decode("utf-8", "backslashreplace")
    assert any(shown in m and "not valid UTF-8" in m for m in caplog.messages)
    # A second build (an incremental one, over the same snapshot) goes on too.
    report, _ = _build(corpus, tmp_path, encoder)
    assert report.skipped["name not UTF-8"] == 1


@pytest.fixture
def runaway_readers(monkeypatch):
    """Register readers for *.slow (never ends) and *.greedy (asks for 8 GiB)."""
    from qa_service.ingest.readers import registry

    monkeypatch.setitem(registry._BY_SUFFIX, ".slow", hostile_files.SlowReader())
    monkeypatch.setitem(registry._BY_SUFFIX, ".greedy", hostile_files.GreedyReader())


def test_a_file_whose_reading_runs_past_the_time_or_memory_limit_is_skipped_named(
        tmp_path, encoder, caplog, runaway_readers):
    corpus = _corpus(tmp_path)
    (corpus / "a-stall.slow").write_text("The tram depot opens at noon.", "utf-8")
    (corpus / "b-greedy.greedy").write_text("The bakery sells rye bread.", "utf-8")
    (corpus / "c-notes.md").write_text("# Notes\n\n" + STORY.replace("ferry", "tram"),
                                       "utf-8")
    settings = Settings.from_env(corpus=corpus, index_dir=tmp_path / "index",
                                 read_timeout=2, read_memory_mb=1024)
    started = time.perf_counter()
    report = build_index(settings, encoder)
    # Each pass (boilerplate, then the build's) meets the stalled file; the second is
    # refused at once, as is the greedy one, whose child was replaced.
    assert time.perf_counter() - started < 20
    assert _indexed(Index.load(settings.index_dir)) == {"ferry.txt", "c-notes.md"}
    assert report.skipped["over a limit"] == 2
    assert any("a-stall.slow" in m and "reading took over 2 s (QA_READ_TIMEOUT)" in m
               for m in caplog.messages), caplog.messages
    assert any("b-greedy.greedy" in m and "over 1,024 MB of memory (QA_READ_MEMORY_MB)"
               in m for m in caplog.messages), caplog.messages


def test_the_reading_child_is_reused_across_files_and_replaced_when_it_stalls(
        tmp_path, runaway_readers):
    from qa_service.ingest.readers import Skips, read_corpus
    from qa_service.ingest.readers.sandbox import ReadLimits, Sandbox, shared_sandbox

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for i in range(3):
        (corpus / f"{i}.md").write_text(f"# Note {i}\n\nThe tide was {i} metres.", "utf-8")
    limits = ReadLimits(timeout=1, memory_mb=512)
    sandbox: Sandbox = shared_sandbox(limits)
    assert [d.doc_id for d in read_corpus(corpus, None, Skips(), limits=limits)] == [
        "0.md", "1.md", "2.md"]
    first = sandbox.proc.pid
    (corpus / "1.slow").write_text("Never read.", "utf-8")
    skips = Skips()
    assert [d.doc_id for d in read_corpus(corpus, None, skips, limits=limits)] == [
        "0.md", "1.md", "2.md"]
    assert skips == {"over a limit": 1}
    assert sandbox.proc.pid != first and sandbox.proc.poll() is None
    sandbox.close()


@pytest.mark.parametrize("make, bound", [
    (hostile_files.html_many_elements, "MAX_HTML_ELEMENTS"),
    (hostile_files.html_many_attributes, "MAX_HTML_ATTRIBUTES"),
], ids=["1.2M elements", "300k attributes"])
def test_html_that_would_stall_its_parser_is_skipped_named(tmp_path, encoder, caplog,
                                                           make, bound):
    # Before: 65 s and 1.3 GB (elements), over 120 s (attributes) to extract.
    corpus = _corpus(tmp_path)
    make(corpus / "page.html")
    (corpus / "real.html").write_text(
        "<html><head><title>Tram news</title></head><body><article><p>"
        + STORY.replace("ferry", "tram") + "</p></article></body></html>", "utf-8")
    started = time.perf_counter()
    report, index = _build(corpus, tmp_path, encoder)
    assert time.perf_counter() - started < 20
    assert _indexed(index) == {"ferry.txt", "real.html"}
    assert report.skipped["over a limit"] == 1
    assert any("page.html" in m and bound in m for m in caplog.messages), caplog.messages

