"""Readers: PDF, Word and Markdown files become attributed passages; nothing is lost unsaid."""

from __future__ import annotations

import datetime as dt
import logging

import pytest

from qa_service.cli import cli
from qa_service.ingest import corpus_files, ingest_document, read_corpus
from qa_service.ingest.readers import Skips, reader_for, reading_total

HEADER = "Harbour Authority - Annual Report 2023"
P1 = ("The north pier was closed for three weeks in March while divers inspected the pilings "
      "under the ferry berth, and traffic moved to the south quay for the duration of the work.")
P2 = ("Ticket sales rose by nine percent over the year, helped by the new evening crossing to "
      "the islands that the council agreed to fund until the end of next summer.")
P3 = ("The lighthouse keeper reported that routine mainte-\nnance of the lamp took four days in "
      "October and that the fog signal now sounds every twenty seconds.")
STORY = ("The harbour ferry was late again on Monday, the operator said, because a storm had "
         "damaged the landing stage at the north pier overnight.")


def write_pdf(path):
    from fpdf import FPDF

    class Report(FPDF):
        def header(self):
            self.set_font("Helvetica", size=9)
            self.cell(0, 8, f"{HEADER} | {self.page_no()}", align="C")  # differs by page
            self.ln(12)

        def footer(self):
            self.set_y(-15)
            self.set_font("Helvetica", size=9)
            self.cell(0, 8, f"Page {self.page_no()} of {{nb}}", align="C")

    pdf = Report()
    pdf.set_title("Harbour annual report")
    pdf.set_author("Mara Lindqvist")
    pdf.set_creation_date(dt.datetime(2023, 4, 17, 9, 30, tzinfo=dt.UTC))
    pdf.set_font("Helvetica", size=11)
    pdf.add_page()
    pdf.multi_cell(0, 6, P1)  # wraps: a paragraph of two lines
    pdf.ln(6)
    pdf.multi_cell(0, 6, P2)
    pdf.add_page()
    pdf.multi_cell(0, 6, P3)  # the hyphen ends a line
    pdf.output(str(path))


def test_a_bare_page_number_is_dropped_even_on_a_single_page(tmp_path):
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_auto_page_break(False)
    pdf.set_font("Helvetica", size=11)
    pdf.add_page()
    pdf.multi_cell(0, 6, P1)
    pdf.set_y(-15)
    pdf.cell(0, 8, "- 7 -", align="C")
    pdf.output(str(tmp_path / "one.pdf"))
    [raw] = read_corpus(tmp_path)
    assert raw.raw == P1 and raw.pages == [0]


def write_docx(path):
    import docx

    document = docx.Document()
    props = document.core_properties
    props.title, props.author = "Ferry timetable review", "Jonas Berg"
    props.keywords = "ferry; timetable, winter;;"
    props.created = dt.datetime(2022, 11, 3, 8, 0)
    document.add_heading("Winter timetable", level=1)
    document.add_paragraph("From December the first ferry leaves the harbour at six in the "
                           "morning, half an hour earlier than in summer, every weekday.")
    table = document.add_table(rows=3, cols=2)
    for row, cells in zip(table.rows, [("Route", "Departures"), ("Harbour to Isle", "14"),
                                       ("Isle to Harbour", "13")]):
        for cell, text in zip(row.cells, cells):
            cell.text = text
    document.add_paragraph("Late crossings on Fridays stay as they are, the ferry company "
                           "said after its board met on Tuesday evening in the town hall.")
    document.save(str(path))


def _ingested(corpus):
    return {raw.doc_id: (raw, *ingest_document(raw)) for raw in read_corpus(corpus)}


def test_pdf_paragraphs_are_rebuilt_without_running_heads_with_pages(tmp_path):
    write_pdf(tmp_path / "report.pdf")
    [(raw, doc, passages)] = _ingested(tmp_path).values()
    assert raw.kind == "pdf" and raw.pages is not None and len(raw.pages) == 2
    texts = [p.text for p in passages]
    whole = "\n".join(texts)
    for furniture in ("Harbour Authority", "Page 1", "Page 2", "of 2"):
        assert furniture not in raw.raw and furniture not in whole
    # Lines wrapped by the layout are one paragraph again, and the broken word is whole.
    assert any(P1 in t for t in texts) and any(P2 in t for t in texts)
    assert "routine maintenance of the lamp" in whole and "mainte-" not in whole
    assert [p.page for p in passages if "lighthouse" in p.text] == [2]
    assert [p.page for p in passages if "north pier" in p.text] == [1]
    assert all(p.page in (1, 2) for p in passages)
    assert (doc.title, doc.date, doc.metadata["author"]) == (
        "Harbour annual report", "2023-04-17", "Mara Lindqvist")


def test_a_pdf_is_parsed_once_for_its_pages_and_its_document_info(tmp_path, monkeypatch):
    from pdfminer import pdfdocument

    write_pdf(tmp_path / "report.pdf")
    parsed = []
    init = pdfdocument.PDFDocument.__init__
    monkeypatch.setattr(pdfdocument.PDFDocument, "__init__",
                        lambda self, *args, **kw: parsed.append(1) or init(self, *args, **kw))
    found = reader_for(tmp_path / "report.pdf").read((tmp_path / "report.pdf").read_bytes(),
                                                     "report.pdf")
    assert len(parsed) == 1
    assert P2 in found.raw and found.metadata["title"] == "Harbour annual report"


def test_docx_keeps_document_order_tables_as_labelled_rows_and_core_properties(tmp_path):
    write_docx(tmp_path / "timetable.docx")
    [(raw, doc, passages)] = _ingested(tmp_path).values()
    assert raw.kind == "docx" and raw.pages is None
    blocks = raw.raw.split("\n\n")
    assert blocks[0] == "Winter timetable"
    # The table is one block, a row a line under its header (tests/test_tables.py).
    table = "Route: Harbour to Isle; Departures: 14.\nRoute: Isle to Harbour; Departures: 13."
    assert table in blocks and raw.tables == [raw.raw.index(table)]
    assert raw.raw.index("first ferry") < raw.raw.index(table) < raw.raw.index("Late crossings")
    whole = " ".join(p.text for p in passages)
    assert "Route: Harbour to Isle; Departures: 14." in whole and whole.index(
        "first ferry") < whole.index("Late crossings")
    assert (doc.title, doc.date, doc.metadata["author"]) == (
        "Ferry timetable review", "2022-11-03", "Jonas Berg")
    # Keywords a list, as front matter gives tags (issue 25: one string before).
    assert doc.metadata["keywords"] == ["ferry", "timetable", "winter"]
    assert all(p.page is None for p in passages)


FRONT = """---
title: Lighthouse maintenance notes
date: 2024-03-05
author: Ines Soto
tags: [lighthouse, maintenance]
keeper_id: 42
source: Coast Guard log
---
# Lamp and lens

The lamp was cleaned and the lens turned by hand, the keeper wrote on the [log
page](https://example.org/log), before the fog season began. ![lens](lens.png)

```
service_interval = 30  # days
```

- The fog signal sounds every twenty seconds in thick weather at sea.
- The generator was **tested** twice during the week with no fault found.
"""


def test_markdown_front_matter_becomes_metadata_and_the_body_text(tmp_path):
    (tmp_path / "notes.md").write_text(FRONT, "utf-8")
    [(raw, doc, passages)] = _ingested(tmp_path).values()
    assert doc.title == "Lighthouse maintenance notes"
    assert (doc.date, doc.source) == ("2024-03-05", "Coast Guard log")
    assert doc.metadata == {"author": "Ines Soto", "tags": ["lighthouse", "maintenance"],
                            "keeper_id": 42}
    whole = "\n".join(p.text for p in passages)
    assert "title:" not in whole and "---" not in whole
    assert "on the log page, before the fog season" in whole  # link text kept, target gone
    assert "lens.png" not in whole and "https://" not in whole and "**" not in whole
    assert "The generator was tested twice" in whole
    assert "service_interval = 30  # days" in raw.raw.split("\n\n")  # code kept as text
    assert "service_interval = 30" in whole


def test_invalid_front_matter_is_warned_about_and_the_body_still_read(tmp_path, caplog):
    (tmp_path / "broken.md").write_text(
        "---\ntitle: [unclosed\n---\n" + STORY + "\n", "utf-8")
    [(raw, doc, passages)] = _ingested(tmp_path).values()
    assert any("broken.md" in m and "front matter" in m for m in caplog.messages)
    assert passages and "harbour ferry was late" in passages[0].text
    assert "unclosed" not in passages[0].text


def test_a_folder_of_only_a_pdf_and_a_docx_builds(runner, tmp_path):
    corpus = tmp_path / "office"
    corpus.mkdir()
    write_pdf(corpus / "report.pdf")
    write_docx(corpus / "timetable.docx")
    result = runner.invoke(cli, ["build", "--corpus", str(corpus)])
    assert result.exit_code == 0, result.output
    assert "Indexed 2 documents" in result.stderr and "Skipped no files." in result.stderr


def test_a_single_document_file_is_a_corpus(tmp_path):
    write_docx(tmp_path / "timetable.docx")
    [raw] = read_corpus(tmp_path / "timetable.docx")
    assert raw.doc_id == "timetable.docx" and raw.kind == "docx"
    # A corpus given as one file is its own snapshot, a BEIR corpus.jsonl included.
    (tmp_path / "corpus.jsonl").write_text('{"_id": "1", "text": "x"}\n', "utf-8")
    assert [f.relpath for f in corpus_files(tmp_path / "corpus.jsonl")] == ["corpus.jsonl"]
    assert [f.relpath for f in corpus_files(tmp_path / "timetable.docx")] == ["timetable.docx"]


def test_every_file_left_out_is_named_with_its_reason_and_summed_up(runner, tmp_path, caplog):
    corpus = tmp_path / "mixed"
    (corpus / "sub").mkdir(parents=True)
    (corpus / "story.txt").write_text(STORY, "utf-8")
    (corpus / "sub" / "copy.txt").write_text(STORY, "utf-8")
    (corpus / "table.csv").write_text("a,b\n1,2\n", "utf-8")
    (corpus / "photo.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))
    (corpus / "blob.txt").write_bytes(b"\x00\x01\x02" * 40)
    (corpus / "empty.md").write_bytes(b"")
    (corpus / "broken.pdf").write_bytes(b"%PDF-1.4\nthis is not really a pdf\n")
    (corpus / "broken.docx").write_bytes(b"PK\x03\x04 a truncated zip")
    (corpus / "chrome.txt").write_text("Home\n\nShare\n", "utf-8")  # no story at all
    (corpus / ".hidden.csv").write_text("x", "utf-8")  # not a document: no warning
    (corpus / "sources.toml").write_text('["story.txt"]\nsource = "Gazette"\n', "utf-8")
    with caplog.at_level(logging.WARNING):
        result = runner.invoke(cli, ["build", "--corpus", str(corpus)])
    assert result.exit_code == 0, result.output
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]

    def warned(name, reason):
        return any(name in m and reason in m for m in warnings)

    assert warned("table.csv", "unsupported type") and warned("photo.png", "unsupported type")
    assert warned("blob.txt", "binary")
    assert warned("empty.md", "empty")
    assert warned("sub/copy.txt", "duplicate") and warned("sub/copy.txt", "story.txt")
    assert warned("broken.pdf", "unreadable") and warned("broken.docx", "unreadable")
    assert not any("\n" in m for m in warnings)  # one line each, no traceback
    assert warned("chrome.txt", "no text")
    assert not any("hidden" in m or "sources.toml" in m for m in warnings)
    assert "Traceback" not in result.output
    assert ("Skipped 8 files: 2 unsupported type, 1 empty, 1 binary, 1 duplicate, "
            "2 unreadable, 1 no text after cleaning") in result.stderr.splitlines()


def test_the_summary_counts_one_file_in_the_singular():
    skips = Skips()
    assert skips.summary() == "Skipped no files."
    skips.add("binary")
    assert skips.summary() == "Skipped 1 file: 1 binary"


@pytest.mark.parametrize("name, kind", [("a.PDF", "pdf"), ("b.docx", "docx"), ("c.md", "markdown"),
                                        ("d.markdown", "markdown"), ("e.htm", "html"),
                                        ("f.txt", "text"), ("g.csv", None), ("h.doc", None)])
def test_the_reader_is_picked_by_suffix(name, kind):
    reader = reader_for(name)
    assert (reader.kind if reader else None) == kind


def test_a_table_that_ends_a_word_file_is_kept(tmp_path):
    import docx

    document = docx.Document()
    document.core_properties.author = "Operations desk"
    document.add_paragraph("This policy sets out how the ferry timetable is planned each "
                           "season and how changes are announced to passengers.")
    table = document.add_table(rows=2, cols=2)
    for row, cells in zip(table.rows, [("Route", "Departures"), ("Northport to Eastholm",
                                                                  "6 daily")]):
        for cell, text in zip(row.cells, cells):
            cell.text = text
    document.save(str(tmp_path / "policy.docx"))
    [(raw, doc, passages)] = _ingested(tmp_path).values()
    whole = " ".join(p.text for p in passages)
    assert "Route: Northport to Eastholm; Departures: 6 daily." in whole
    assert doc.title == "policy"  # no title property nor heading: never a table row


def test_a_word_file_without_a_title_property_is_titled_by_its_first_heading(tmp_path):
    import docx

    document = docx.Document()
    document.add_paragraph("Draft for the board, not for publication before the spring.")
    document.add_heading("Ferry timetable policy", level=1)
    document.add_paragraph("Timetables are reviewed every spring after consultation with "
                           "the island councils and the harbour company.")
    document.save(str(tmp_path / "policy.docx"))
    [(raw, doc, passages)] = _ingested(tmp_path).values()
    assert doc.title == "Ferry timetable policy"


def test_short_lines_that_end_a_scraped_page_are_still_chrome(tmp_path):
    (tmp_path / "page.txt").write_text(
        "Harbour ferries add an evening crossing\n\nThe harbour company will add an "
        "evening crossing to the island from May, its director said on Monday.\n\n"
        "Share\n\nTweet\n\nEmail\n")
    [(raw, doc, passages)] = _ingested(tmp_path).values()
    whole = " ".join(p.text for p in passages)
    assert "evening crossing to the island" in whole
    assert "Tweet" not in whole and doc.source == tmp_path.name


def test_a_folder_that_cannot_be_listed_is_named_and_counted(runner, tmp_path, caplog,
                                                             monkeypatch):
    import os

    corpus = tmp_path / "locked"
    (corpus / "private").mkdir(parents=True)
    (corpus / "story.txt").write_text(STORY, "utf-8")
    (corpus / "private" / "memo.txt").write_text(P1, "utf-8")
    # Tests run as root, where chmod 000 blocks nothing: the folder refuses to be listed.
    scandir = os.scandir

    def refusing(path="."):
        if os.fspath(path).endswith("private"):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return scandir(path)

    monkeypatch.setattr(os, "scandir", refusing)
    with caplog.at_level(logging.WARNING):
        result = runner.invoke(cli, ["build", "--corpus", str(corpus)])
    assert result.exit_code == 0, result.output
    assert any("private/" in m and "unreadable folder (Permission denied)" in m
               for m in caplog.messages), caplog.messages
    assert "Skipped 1 file: 1 unreadable folder" in result.stderr.splitlines()
    assert [f.relpath for f in corpus_files(corpus)] == ["story.txt"]


def test_the_reading_count_is_every_document_file_read_or_left_out(tmp_path):
    corpus = tmp_path / "mixed"
    (corpus / "sub").mkdir(parents=True)
    (corpus / "story.txt").write_text(STORY, "utf-8")
    (corpus / "sub" / "copy.txt").write_text(STORY, "utf-8")  # duplicate
    (corpus / "big.txt").write_text(STORY * 20, "utf-8")  # too big
    (corpus / "blob.txt").write_bytes(b"\x00\x01\x02" * 40)  # binary
    (corpus / "empty.md").write_bytes(b"")
    (corpus / "broken.docx").write_bytes(b"PK\x03\x04 a truncated zip")  # unreadable
    (corpus / "table.csv").write_text("a,b\n1,2\n", "utf-8")  # no reader: not a document
    (corpus / "sources.toml").write_text('["story.txt"]\nsource = "Gazette"\n', "utf-8")
    passed, seen = [], []
    for raw in read_corpus(corpus, max_file_bytes=1000, passed=lambda: passed.append(1)):
        seen.append((raw.doc_id, len(passed)))
    # Paths in order: big, blob, broken.docx, empty, story, sub/copy. A file counts once
    # read, before its document is handed on.
    assert seen == [("story.txt", 5)] and len(passed) == 6
    listed = [f.relpath for f in corpus_files(corpus)]
    assert reading_total(corpus) == reading_total(corpus, listed) == (6, "files")
    assert reading_total(corpus / "story.txt") == (1, "files")


def test_a_beir_corpus_counts_its_lines_blank_and_left_out_ones_too(tmp_path):
    path = tmp_path / "corpus.jsonl"
    # Windows line ends, a blank line, a line without an _id, no newline at the end.
    path.write_bytes(b'{"_id": "a", "text": "A."}\r\n\r\n{"_id": null, "text": "B."}\r\n'
                     b'{"_id": "c", "text": "C."}')
    passed = []
    assert [raw.doc_id for raw in read_corpus(path, passed=lambda: passed.append(1))] == [
        "a", "c"]
    assert len(passed) == 4
    assert reading_total(path) == reading_total(tmp_path) == (4, "documents")
    path.write_bytes(b"")
    assert reading_total(path) == (0, "documents")


def test_a_word_files_keywords_are_found_one_by_one(tmp_path, encoder):
    import docx

    from qa_service.config import Settings
    from qa_service.indexing import build_index
    from qa_service.search import Searcher, parse_filters
    from qa_service.store import Index
    from tests.conftest import FAKE_MODEL

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    document = docx.Document()
    document.core_properties.keywords = "harvest; festival"
    document.add_paragraph("The harvest festival opens on the village green on Saturday at "
                           "ten, with the cider press running all afternoon.")
    document.save(str(corpus / "harvest.docx"))
    (corpus / "notes.txt").write_text("The ferry leaves at six every weekday morning, all "
                                      "through the winter timetable.\n")
    settings = Settings().with_(corpus=corpus, index_dir=tmp_path / "index", model=FAKE_MODEL)
    build_index(settings, encoder)
    searcher = Searcher(Index.load(settings.index_dir), encoder, settings)
    answer = searcher.ask("When does the festival open?",
                          filters=parse_filters({"where": {"keywords": "harvest"}}))
    assert {p.doc_id for p in answer.passages} == {"harvest.docx"}


def test_source_is_the_metadata_file_s_else_the_publisher_s_else_the_folder_s_never_the_author(
        tmp_path):
    import docx

    story = ("The ferry to the island leaves at six from the north pier and returns at "
             "noon, the port authority said on Monday.")
    corpus = tmp_path / "harbour-news"
    corpus.mkdir()
    (corpus / "note.txt").write_text(f"Ferry times\n\n{story}", "utf-8")
    (corpus / "by-author.md").write_text(f"---\nauthor: Ines Soto\n---\n\n{story} One.",
                                         "utf-8")
    (corpus / "published.md").write_text(
        f"---\nauthor: Ines Soto\npublisher: Coast Weekly\n---\n\n{story} Two.", "utf-8")
    (corpus / "page.html").write_text(
        '<html><head><meta property="og:site_name" content="Isle Courier">'
        '<meta name="author" content="Ines Soto"><title>Ferry times</title></head>'
        f"<body><article><p>{story} Three.</p></article></body></html>", "utf-8")
    write_pdf(corpus / "report.pdf")  # its author: Mara Lindqvist
    document = docx.Document()
    document.core_properties.author = "Operations desk"
    document.add_paragraph(f"{story} Four.")
    document.save(str(corpus / "policy.docx"))
    (corpus / "sources.toml").write_text('["policy.docx"]\nsource = "Harbour board"\n',
                                         "utf-8")
    docs = {doc_id: doc for doc_id, (_, doc, _) in _ingested(corpus).items()}
    assert {doc_id: doc.source for doc_id, doc in docs.items()} == {
        "note.txt": "harbour-news", "by-author.md": "harbour-news",
        "published.md": "Coast Weekly", "page.html": "Isle Courier",
        "report.pdf": "harbour-news", "policy.docx": "Harbour board"}
    assert docs["by-author.md"].metadata["author"] == "Ines Soto"
    assert docs["report.pdf"].metadata["author"] == "Mara Lindqvist"
    assert docs["policy.docx"].metadata["author"] == "Operations desk"
