"""Read Word (.docx) files: headings, paragraphs and table rows in order, core properties."""

from __future__ import annotations

import io
import logging

from qa_service.ingest.readers.base import Extracted, Reader, UnreadableError, json_safe

log = logging.getLogger(__name__)


class DocxReader(Reader):
    """Read a .docx body in document order; each table row becomes 'cell | cell'."""

    kind = "docx"
    suffixes = (".docx",)
    binary = True

    def read(self, data: bytes, name: str) -> Extracted:
        """Return paragraphs separated by blank lines and the core properties."""
        import docx
        from docx.opc.exceptions import PackageNotFoundError

        try:
            document = docx.Document(io.BytesIO(data))
        except PackageNotFoundError:
            raise UnreadableError("not a Word .docx package") from None
        except Exception as exc:  # a damaged zip or XML
            raise UnreadableError(f"{type(exc).__name__}: {exc}") from None
        blocks = [text for text in _body_blocks(document) if text]
        meta = _properties(document)
        if "title" not in meta:
            heading = _first_heading(document)
            meta = {**meta, "title": heading} if heading else meta
        return Extracted("\n\n".join(blocks), meta)


def _body_blocks(document) -> list[str]:
    """Return the body's paragraphs and table rows, in document order."""
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    blocks = []
    for element in document.element.body.iterchildren():
        tag = element.tag.rsplit("}", 1)[-1]
        if tag == "p":
            blocks.append(" ".join(Paragraph(element, document).text.split()))
        elif tag == "tbl":
            blocks += _table_rows(Table(element, document))
    return blocks


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


def _table_rows(table) -> list[str]:
    """Return each row as 'cell | cell' (a merged cell once), nested tables flattened."""
    rows = []
    for row in table.rows:
        cells, seen = [], set()
        for cell in row.cells:
            if id(cell._tc) in seen:  # a merged cell repeats across the columns it spans
                continue
            seen.add(id(cell._tc))
            cells.append(" ".join(cell.text.split()))
        if any(cells):
            rows.append(" | ".join(cells))
    return rows


def _properties(document) -> dict:
    """Return title, author, date (created, else modified) and any subject or keywords."""
    props = document.core_properties
    created = props.created or props.modified
    meta = {
        "title": props.title, "author": props.author,
        "date": created.date().isoformat() if created else None,
        "subject": props.subject, "keywords": props.keywords,
    }
    return json_safe({k: v.strip() if isinstance(v, str) else v
                      for k, v in meta.items() if v and (not isinstance(v, str) or v.strip())})
