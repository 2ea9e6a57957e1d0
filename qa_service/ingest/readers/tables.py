"""Write tables as sentences that carry their headers: 'Vessel class: Under 10 m; Fee: 18 euros.'

A table reaches cleaning as one block of lines (its caption, then one line a row),
whose start offset the reader gives in `Extracted.tables`, so that cleaning keeps the
lines apart and chunking keeps each row one sentence, never glued to the prose around.
"""

from __future__ import annotations

import bisect
import hashlib
import re

# A header cell longer than this is text, not a column label: the table is written
# without labels, so a long header repeated on every row cannot multiply a file's size.
LABEL_MAX_CHARS = 60
# A colspan beyond this is taken as this: a hostile page cannot make rows of millions.
MAX_COLSPAN = 50
# A table's lines may hold at most this many times the characters of its cells (each
# written once) plus SLACK_CHARS: labels repeated on every row of many short cells, or a
# spanning header copied across its columns, would otherwise multiply a file's size
# (60-character labels on one-character cells: 60 times). Past it the table is written
# without labels, each run of a repeated cell once.
MAX_EXPANSION = 4
SLACK_CHARS = 1000
_END_RE = re.compile(r"[.!?…][\"'”’»)\]]*$")
_TABLE_TAG_RE = re.compile(r"<table\b", re.IGNORECASE)


def as_sentence(text: str) -> str:
    """Return `text` ending with sentence punctuation (a period added if it has none)."""
    return text if _END_RE.search(text) else f"{text}."


def table_lines(header: list[str] | None, rows: list[list[str]], caption: str = "") -> list[str]:
    """Return the caption and one 'Header: cell; Header: cell.' line a row (empty cells left out).

    Without a usable header (none, a single column, a label over LABEL_MAX_CHARS) the
    header is a row like the others and a row's cells are written 'cell; cell.'.
    """
    header = [_clean_cell(c).rstrip(":") for c in header] if header else None
    rows = [cells for cells in ([_clean_cell(c) for c in row] for row in rows) if any(cells)]
    labels = None
    if header and any(header) and rows and max(len(r) for r in [header, *rows]) > 1 \
            and all(len(label) <= LABEL_MAX_CHARS for label in header):
        labels = header
    elif header and any(header):
        rows = [header, *rows]
    caption = _clean_cell(caption)
    lines = [as_sentence(caption)] if caption and rows else []
    lines += _rows(rows, labels)
    cells = sum(len(c) for row in ([header] if labels else []) + rows for c in _once(row))
    if sum(map(len, lines)) > MAX_EXPANSION * (cells + len(caption)) + SLACK_CHARS:
        rows = [_once(row) for row in ([header, *rows] if labels else rows)]
        lines = lines[:1] if caption and rows else []
        lines += _rows(rows, None)
    return lines


def _rows(rows: list[list[str]], labels: list[str] | None) -> list[str]:
    """Return a line a row: its non-empty cells, each after its column's label if any."""
    lines = []
    for row in rows:
        if labels and row == labels:
            continue  # a header repeated down the table (Word repeats it on each page)
        if labels:
            cells = [f"{labels[i]}: {cell}" if i < len(labels) and labels[i] else cell
                     for i, cell in enumerate(row) if cell]
        else:
            cells = [cell for cell in row if cell]
        if cells:
            lines.append(as_sentence("; ".join(cells)))
    return lines


def _once(row: list[str]) -> list[str]:
    """Return a row's cells with each run of one repeated cell (a span's copies) once."""
    return [c for i, c in enumerate(row) if c and (i == 0 or c != row[i - 1])]


def join_blocks(blocks: list[tuple[str, bool]]) -> tuple[str, list[int]]:
    """Join (text, is_table) blocks with blank lines; return the text and the tables' starts."""
    parts, starts, at = [], [], 0
    for text, table in blocks:
        if not text:
            continue
        if parts:
            parts.append("\n\n")
            at += 2
        if table:
            starts.append(at)
        parts.append(text)
        at += len(text)
    return "".join(parts), starts


def starts_within(starts: list[int], start: int, end: int) -> bool:
    """Return True when a table starts in [start, end) (`starts` sorted)."""
    i = bisect.bisect_left(starts, start)
    return i < len(starts) and starts[i] < end


def _clean_cell(text: str) -> str:
    return " ".join(text.split())


# HTML: trafilatura writes a table as '| a | b |' lines, headers apart from their cells.
# A data table is therefore replaced, before extraction, by a paragraph of its lines
# between two marker lines, which `unmark_tables` turns back into a table block.


def mark_html_tables(html: str):
    """Return (tree, marker) with each data table replaced by its lines; (None, "") if none.

    A data table has a header row (<th> cells, or a <thead> row), two columns or more,
    a data row, no table inside it or around it (layout tables nest), and less than half
    its text in links (a menu). Other tables are left to trafilatura, as before.
    """
    if not _TABLE_TAG_RE.search(html):
        return None, ""
    from lxml.html import HtmlElement
    from trafilatura.utils import load_html

    tree = load_html(html)
    if not isinstance(tree, HtmlElement):
        return None, ""
    marker = "qatable" + hashlib.sha1(html.encode("utf-8", "replace")).hexdigest()[:16]
    found = False
    for table in list(tree.iter("table")):
        lines = _data_table_lines(table)
        if lines is None:
            continue
        paragraph = tree.makeelement("p", {})
        paragraph.text = marker
        for line in [*lines, marker]:
            br = tree.makeelement("br", {})
            br.tail = line
            paragraph.append(br)
        paragraph.tail = table.tail
        table.getparent().replace(table, paragraph)
        found = True
    return (tree, marker) if found else (None, "")


def _data_table_lines(table) -> list[str] | None:
    if table.xpath("ancestor::table | .//table"):
        return None
    rows = table.xpath("./tr | ./thead/tr | ./tbody/tr | ./tfoot/tr")
    if len(rows) < 2:
        return None
    first = rows[0]
    cells = first.xpath("./th | ./td")
    in_head = first.getparent().tag == "thead"
    if not cells or not (in_head or all(cell.tag == "th" for cell in cells)):
        return None
    text = _clean_cell(table.text_content())
    links = sum(len(_clean_cell(a.text_content())) for a in table.iter("a"))
    if not text or links * 2 >= len(text):
        return None
    grid = [_html_row(row) for row in rows]
    if max(len(row) for row in grid) < 2:
        return None
    captions = table.xpath("./caption")
    caption = captions[0].text_content() if captions else ""
    lines = table_lines(grid[0], grid[1:], caption)
    return lines or None


def _html_row(row) -> list[str]:
    """Return a row's cells by column: a spanning header labels each column it spans."""
    out = []
    for cell in row.xpath("./th | ./td"):
        try:
            span = max(1, min(int(cell.get("colspan", "1")), MAX_COLSPAN))
        except ValueError:
            span = 1
        text = _clean_cell(cell.text_content())
        out += [text] + [text if cell.tag == "th" else ""] * (span - 1)
    return out


def unmark_tables(text: str, marker: str) -> tuple[str, list[int]]:
    """Return the extracted text with each marked table a block of its own, and their starts."""
    blocks: list[tuple[str, bool]] = []
    prose: list[str] = []
    table: list[str] | None = None
    for line in text.split("\n"):
        if line.strip() == marker:
            if table is None:
                blocks.append(("\n".join(prose), False))
                prose, table = [], []
            else:
                blocks.append(("\n".join(table), True))
                table = None
        elif table is not None:
            if line.strip():
                table.append(line.strip())
        else:
            prose.append(line)
    if table is not None:  # the closing marker was lost: the rows are still the table's
        blocks.append(("\n".join(table), True))
    blocks.append(("\n".join(prose), False))
    return join_blocks([(t.strip("\n"), is_table) for t, is_table in blocks])
