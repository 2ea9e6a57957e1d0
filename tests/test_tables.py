"""Tables: a Word, Markdown or HTML table row is one sentence that carries its headers."""

from __future__ import annotations

import pytest

from qa_service.ingest import ingest_document, read_corpus
from qa_service.ingest.readers.tables import LABEL_MAX_CHARS, table_lines

ROW = "Vessel class: Under 10 m; Fee per night: 18 euros."
PRE = ("The harbour board met on Tuesday evening and agreed the fees that visiting boats "
       "will pay in the coming season, after a long debate about the new pontoons.")
POST = ("Fees stay unchanged for residents this year, the harbour master said, and the "
        "board will review them again in the autumn.")
CELLS = [("Vessel class", "Fee per night"), ("Under 10 m", "18 euros"),
         ("10 to 15 m", "25 euros")]


def write_docx(path, rows=CELLS, caption="Mooring fees 2026"):
    import docx

    document = docx.Document()
    document.add_heading("Harbour fees", level=1)
    document.add_paragraph(PRE)
    document.add_paragraph(caption, style="Caption")
    table = document.add_table(rows=len(rows), cols=len(rows[0]))
    for row, cells in zip(table.rows, rows):
        for cell, text in zip(row.cells, cells):
            cell.text = text
    document.add_paragraph(POST)
    document.save(str(path))


def _md_table(rows) -> str:
    lines = ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join([lines[0], "|" + "---|" * len(rows[0]), *lines[1:]])


def write_md(path, rows=CELLS):
    # The heading carries no year: a short line with a year is dropped as a dateline.
    path.write_text(f"# Harbour fees\n\n{PRE}\n\n## Mooring fees for visiting boats\n\n"
                    f"{_md_table(rows)}\n\n{POST}\n", "utf-8")


def _html_table(rows, caption="Mooring fees 2026") -> str:
    head = "".join(f"<th>{c}</th>" for c in rows[0])
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows[1:])
    return (f"<table><caption>{caption}</caption><thead><tr>{head}</tr></thead>"
            f"<tbody>{body}</tbody></table>")


def write_html(path, rows=CELLS, extra=""):
    path.write_text(
        "<html><head><title>Harbour fees</title></head><body>"
        f"{extra}<article><h1>Harbour fees</h1><p>{PRE}</p>\n{_html_table(rows)}\n"
        f"<p>{POST}</p></article></body></html>", "utf-8")


WRITERS = {"fees.docx": write_docx, "fees.md": write_md, "fees.html": write_html}
LEADS = {"fees.docx": "Mooring fees 2026.", "fees.md": "Mooring fees for visiting boats",
         "fees.html": "Mooring fees 2026."}


def _passages(tmp_path, name, **kw):
    WRITERS[name](tmp_path / name, **kw)
    [raw] = read_corpus(tmp_path)
    return ingest_document(raw)[1]


def _sentences(passages):
    return [p.text[s:e] for p in passages for s, e in p.sentences]


@pytest.mark.parametrize("name", sorted(WRITERS))
def test_a_table_row_is_one_sentence_with_its_headers_under_its_caption(tmp_path, name):
    passages = _passages(tmp_path, name)
    [table] = [p for p in passages if ROW in p.text]
    sentences = [table.text[s:e] for s, e in table.sentences]
    assert ROW in sentences
    assert "Vessel class: 10 to 15 m; Fee per night: 25 euros." in sentences
    # The caption (Word, HTML) or the heading before the table (Markdown) leads its
    # passage; the prose after the table is in no sentence of a row.
    assert table.text.startswith(LEADS[name] + "\n")
    assert not any(POST[:30] in s for s in sentences)
    assert POST in _sentences(passages) and "|" not in table.text


def test_a_row_with_abbreviations_is_still_one_sentence(tmp_path):
    # pysbd alone cuts 'Berth: 4; Note: Closed Sat. Sun. in winter.' after each 'Sat.'.
    rows = [("Berth", "Note"), ("4", "Closed Sat. Sun. in winter"), ("5", "Open")]
    sentences = _sentences(_passages(tmp_path, "fees.md", rows=rows))
    assert "Berth: 4; Note: Closed Sat. Sun. in winter." in sentences
    assert "Berth: 5; Note: Open." in sentences


def test_a_large_table_spans_passages_of_whole_rows(tmp_path):
    rows = [("Vessel class", "Fee per night")] + [(f"Class {i} boats", f"{i} euros")
                                                  for i in range(1, 200)]
    write_docx(tmp_path / "fees.docx", rows=rows)
    [raw] = read_corpus(tmp_path)
    passages = ingest_document(raw, max_tokens=64)[1]
    row_passages = [p for p in passages if "Class " in p.text]
    assert len(row_passages) > 3
    sentences = _sentences(row_passages)
    expected = [f"Vessel class: Class {i} boats; Fee per night: {i} euros."
                for i in range(1, 200)]
    assert [s for s in sentences if s.startswith("Vessel")] == expected
    assert row_passages[0].text.startswith("Mooring fees 2026.\n")


def test_rows_that_repeat_or_read_as_widgets_are_kept(tmp_path):
    rows = [("Status", "Comments"), ("Open", "none"), ("Open", "none"), ("Closed", "none")]
    sentences = _sentences(_passages(tmp_path, "fees.docx", rows=rows))
    assert sentences.count("Status: Open; Comments: none.") == 2
    assert "Status: Closed; Comments: none." in sentences


def test_a_menu_table_of_links_on_a_page_stays_out_of_the_text(tmp_path):
    menu = ("<nav><table><tr><th>Sections</th><th>More</th></tr><tr><td><a href='/'>Home"
            "</a></td><td><a href='/n'>Harbour news</a></td></tr></table></nav>")
    layout = ("<table><tr><th>Layout</th><th>x</th></tr><tr><td><table><tr><th>A</th>"
              "<th>B</th></tr><tr><td>1</td><td>2</td></tr></table></td><td>y</td></tr>"
              "</table>")
    text = "\n".join(p.text for p in _passages(tmp_path, "fees.html", extra=menu + layout))
    assert ROW in text
    assert "Sections:" not in text and "Layout:" not in text and "A: 1" not in text


def test_table_lines_skip_empty_cells_and_label_only_real_headers():
    assert table_lines(["Class", "", "Fee:"], [["Small", "note", ""], ["Large", "", "9"]]) \
        == ["Class: Small; note.", "Class: Large; Fee: 9."]
    # One column, or no header: the cells as they are.
    assert table_lines(["Fees"], [["18 euros"], ["25 euros!"]]) == [
        "Fees.", "18 euros.", "25 euros!"]
    assert table_lines(None, [["a", "b"], ["", ""], ["c", ""]]) == ["a; b.", "c."]
    # A header that is text, not a label, is not repeated on every row.
    long = "x" * (LABEL_MAX_CHARS + 1)
    assert table_lines([long, "Fee"], [["a", "1"]]) == [f"{long}; Fee.", "a; 1."]
    # A header repeated down the table is not a row.
    assert table_lines(["A", "B"], [["1", "2"], ["A", "B"], ["3", "4"]], "Cap") == [
        "Cap.", "A: 1; B: 2.", "A: 3; B: 4."]


def test_labels_repeated_on_many_short_cells_cannot_multiply_a_table():
    from qa_service.ingest.readers.tables import MAX_EXPANSION, SLACK_CHARS, table_lines

    # A spanning 60-character header over 50 columns of one-character cells: labelled,
    # each row would be 60 times its cells.
    header, rows = ["L" * 60] * 50, [[chr(97 + i % 26) for i in range(50)]] * 2000
    lines = table_lines(header, rows)
    cells = 60 + 2000 * 50
    assert sum(map(len, lines)) <= MAX_EXPANSION * cells + SLACK_CHARS
    assert lines[1].startswith("a; b; c") and len(lines) == 2001
    # An ordinary table keeps its labels.
    assert table_lines(["Vessel class", "Fee per night"], [["Under 10 m", "18 euros"]]) == [
        "Vessel class: Under 10 m; Fee per night: 18 euros."]
