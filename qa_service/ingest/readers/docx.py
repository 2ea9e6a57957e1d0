"""Read Word (.docx) files: headings, paragraphs and tables in order, core properties."""

from __future__ import annotations

import io
import logging

from qa_service.ingest.readers.base import (
    Extracted,
    Reader,
    UnreadableError,
    json_safe,
    keyword_list,
)
from qa_service.ingest.readers.limits import OverLimitError
from qa_service.ingest.readers.tables import join_blocks, table_lines
from qa_service.ingest.readers.zip_bounds import check_package

log = logging.getLogger(__name__)


class DocxReader(Reader):
    """Read a .docx body in document order; a table is one block, a line per row."""

    kind = "docx"
    suffixes = (".docx",)
    binary = True

    def read(self, data: bytes, name: str) -> Extracted:
        """Return paragraphs separated by blank lines and the core properties."""
        import docx
        from docx.opc.exceptions import PackageNotFoundError

        try:
            check_package(data)
            document = docx.Document(io.BytesIO(data))
        except OverLimitError:
            raise
        except PackageNotFoundError:
            raise UnreadableError("not a Word .docx package") from None
        except Exception as exc:  # a damaged zip or XML
            raise UnreadableError(f"{type(exc).__name__}: {exc}") from None
        raw, tables = join_blocks(_body_blocks(document))
        meta = _properties(document)
        if "title" not in meta:
            heading = _first_heading(document)
            meta = {**meta, "title": heading} if heading else meta
        return Extracted(raw, meta, tables=tables or None)


def _body_blocks(document) -> list[tuple[str, bool]]:
    """Return the body's paragraphs and tables as (text, is_table), in document order.

    A paragraph styled Caption just before a table is the table's first line.
    """
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    blocks: list[tuple[str, bool]] = []
    caption = ""
    for element in document.element.body.iterchildren():
        tag = element.tag.rsplit("}", 1)[-1]
        if tag == "tbl":
            header, *rows = _table_rows(Table(element, document)) or [None]
            lines = table_lines(header, rows, caption)
            blocks.append(("\n".join(lines), True) if lines else (caption, False))
            caption = ""
        elif tag == "p":
            paragraph = Paragraph(element, document)
            text = " ".join(paragraph.text.split())
            if (paragraph.style is not None and paragraph.style.name == "Caption"
                    and _next_is_table(element)):
                caption = text
            else:
                blocks.append((text, False))
    return blocks


def _next_is_table(element) -> bool:
    following = element.getnext()
    return following is not None and following.tag.rsplit("}", 1)[-1] == "tbl"


def _first_heading(document) -> str | None:
    """Return the first paragraph styled Title or Heading 1 (then any heading), if any."""
    found = {}
    for paragraph in document.paragraphs:
        style = (paragraph.style.name if paragraph.style is not None else "") or ""
        text = " ".join(paragraph.text.split())
        if text and (style == "Title" or style.startswith("Heading")):
            rank = 0 if style in ("Title", "Heading 1") else 1
            found.setdefault(rank, text)
    return found[min(found)] if found else None


def _table_rows(table) -> list[list[str]]:
    """Return each row's cells by column: a merged cell under the first column it spans."""
    rows = []
    for row in table.rows:
        cells, previous = [], None
        for cell in row.cells:
            # A merged cell repeats across the columns it spans; a vertical merge gives
            # each row its value, which a row's line should carry.
            cells.append("" if cell._tc is previous else " ".join(cell.text.split()))
            previous = cell._tc
        rows.append(cells)
    return rows


def _properties(document) -> dict:
    """Return title, author, date (created, else modified) and any subject or keywords."""
    props = document.core_properties
    created = props.created or props.modified
    meta = {
        "title": props.title, "author": props.author,
        "date": created.date().isoformat() if created else None,
        "subject": props.subject,
        "keywords": keyword_list(props.keywords) if props.keywords else None,
    }
    return json_safe({k: v.strip() if isinstance(v, str) else v
                      for k, v in meta.items() if v and (not isinstance(v, str) or v.strip())})
