"""Read PDF files: paragraphs rebuilt from the layout, running heads and page numbers cut."""

from __future__ import annotations

import io
import logging
import re
from collections import Counter
from dataclasses import dataclass

from qa_service.ingest.readers.base import Extracted, Reader, UnreadableError, keyword_list
from qa_service.ingest.readers.limits import MAX_PDF_PAGES, MAX_TEXT_CHARS, OverLimitError
from qa_service.ingest.readers.pdf_bounds import inflate_budget

log = logging.getLogger(__name__)

# A line alone at the top or bottom of a page that is only a page number.
_PAGE_NUMBER_RE = re.compile(
    r"(?:page|p\.|seite|pagina|página)?\s*[-–—]?\s*"
    r"(?:\d{1,5}|m{0,3}(?:cm|cd|d?c{0,3})(?:xc|xl|l?x{0,3})(?:ix|iv|v?i{0,3}))\s*[-–—]?"
    r"(?:\s*(?:of|/|von|de)\s*\d{1,5})?",
    re.IGNORECASE,
)
_DIGITS_RE = re.compile(r"\d+")
# A word broken at the end of a line: a letter, a hyphen; the next line goes on in lower case.
_BROKEN_WORD_RE = re.compile(r"(?<=[^\W\d_])-$")
# Lines looked at, at the top and at the bottom of each page, for running heads.
_EDGE_LINES = 2
# A line is a running head or foot when it is at the edge of this share of the pages.
_REPEATED_SHARE = 0.5


@dataclass
class _Line:
    text: str
    top: float  # distance from the bottom of the page to the line's top
    bottom: float
    left: float
    right: float

    @property
    def height(self) -> float:
        return max(self.top - self.bottom, 1.0)


class PdfReader(Reader):
    """Read a PDF's text layer (scanned pages without one give no text)."""

    kind = "pdf"
    suffixes = (".pdf",)
    binary = True

    def read(self, data: bytes, name: str) -> Extracted:
        """Return paragraphs separated by blank lines, page starts and the PDF's metadata."""
        from pdfminer.layout import LAParams
        from pdfminer.pdfdocument import PDFDocument
        from pdfminer.pdfparser import PDFParser, PDFSyntaxError

        try:
            with inflate_budget():
                # Parsed once, for both the pages and the document info.
                document = PDFDocument(PDFParser(io.BytesIO(data)))
                pages = _page_lines(document, LAParams())
                meta = _info(document)
        except OverLimitError:
            raise
        except PDFSyntaxError as exc:
            raise UnreadableError(f"not a valid PDF: {exc}") from None
        except Exception as exc:  # pdfminer raises many kinds on damaged or encrypted files
            raise UnreadableError(f"{type(exc).__name__}: {exc}") from None
        furniture = _running_lines(pages)
        paragraphs: list[str] = []
        starts: list[int] = []  # where each page's first paragraph starts
        offset = 0
        for lines in pages:
            starts.append(offset)
            for paragraph in _paragraphs(_drop_edges(lines, furniture)):
                paragraphs.append(paragraph)
                offset += len(paragraph) + 2
        return Extracted("\n\n".join(paragraphs), meta, starts or None)


def _page_lines(document, laparams) -> list[list[_Line]]:
    """Return each page's text lines in pdfminer's reading order."""
    from pdfminer.converter import PDFPageAggregator
    from pdfminer.layout import LTTextContainer, LTTextLine
    from pdfminer.pdfinterp import PDFPageInterpreter, PDFResourceManager
    from pdfminer.pdfpage import PDFPage

    # pdfminer.high_level.extract_pages, over a document already parsed.
    resources = PDFResourceManager()
    device = PDFPageAggregator(resources, laparams=laparams)
    interpreter = PDFPageInterpreter(resources, device)
    pages = []
    chars = 0
    for number, pdf_page in enumerate(PDFPage.create_pages(document), 1):
        if number > MAX_PDF_PAGES:
            raise OverLimitError(f"it has over {MAX_PDF_PAGES:,} pages (MAX_PDF_PAGES)")
        interpreter.process_page(pdf_page)
        page = device.get_result()
        lines: list[_Line] = []
        for element in page:
            if not isinstance(element, LTTextContainer):
                continue
            members = [element] if isinstance(element, LTTextLine) else list(element)
            for line in members:
                if isinstance(line, LTTextLine):
                    text = " ".join(line.get_text().split())
                    if text:
                        lines.append(_Line(text, line.y1, line.y0, line.x0, line.x1))
                        chars += len(text) + 1
        # Stopped as soon as the text is over the bound, not after the last page.
        if chars > MAX_TEXT_CHARS:
            raise OverLimitError(f"its text is over {MAX_TEXT_CHARS:,} characters by page "
                                 f"{number} (MAX_TEXT_CHARS)")
        pages.append(lines)
    return pages


def _edge_keys(lines: list[_Line]) -> set[str]:
    """Return the keys of a page's top and bottom lines (digits stand for any number)."""
    by_height = sorted(lines, key=lambda line: -line.top)
    edges = by_height[:_EDGE_LINES] + by_height[-_EDGE_LINES:]
    return {_key(line.text) for line in edges}


def _key(text: str) -> str:
    return _DIGITS_RE.sub("#", text.casefold())


def _running_lines(pages: list[list[_Line]]) -> set[str]:
    """Return the keys of lines at the top or bottom of most pages (running heads, feet)."""
    if len(pages) < 2:
        return set()
    counts = Counter(key for lines in pages for key in _edge_keys(lines))
    need = max(2, _REPEATED_SHARE * len(pages))
    return {key for key, n in counts.items() if n >= need}


def _drop_edges(lines: list[_Line], furniture: set[str]) -> list[_Line]:
    """Drop running heads and feet and bare page numbers from a page's edges."""
    by_height = sorted(lines, key=lambda line: -line.top)
    edges = {id(line) for line in by_height[:_EDGE_LINES] + by_height[-_EDGE_LINES:]}
    return [
        line for line in lines
        if id(line) not in edges
        or not (_key(line.text) in furniture or _PAGE_NUMBER_RE.fullmatch(line.text))
    ]


def _paragraphs(lines: list[_Line]) -> list[str]:
    """Join a page's lines, in reading order, into paragraphs."""
    # A paragraph ends where the space to the next line is wider than the page's usual
    # line spacing, where the next line is not below it (a new column or box), or after a
    # short line that ends a sentence.
    gaps = [round(a.bottom - b.top) for a, b in zip(lines, lines[1:]) if a.bottom >= b.top]
    usual = Counter(gaps).most_common(1)[0][0] if gaps else 0
    right = max((line.right for line in lines), default=0.0)
    left = min((line.left for line in lines), default=0.0)
    paragraphs: list[str] = []
    current: list[_Line] = []
    for line in lines:
        if current and _breaks(current[-1], line, usual, right - left, right):
            paragraphs.append(_join(current))
            current = []
        current.append(line)
    if current:
        paragraphs.append(_join(current))
    return [p for p in paragraphs if p]


def _breaks(previous: _Line, line: _Line, usual: float, width: float, right: float) -> bool:
    """Tell whether a paragraph ends between `previous` and `line`."""
    gap = previous.bottom - line.top
    if gap < -0.5 * previous.height or gap > 3 * previous.height:
        return True  # above it (another column) or far below
    threshold = 0.8 * previous.height
    if usual <= 1.2 * previous.height:  # pages of spaced-out lines split at any wide gap
        threshold = max(threshold, 1.4 * usual)
    if gap > threshold:
        return True
    short = previous.right < right - 0.15 * width
    return short and previous.text.rstrip("\"'”’)").endswith((".", "!", "?", ":"))


def _join(lines: list[_Line]) -> str:
    """Join lines with spaces, mending words broken with a hyphen at a line's end."""
    text = ""
    for line in lines:
        if text and _BROKEN_WORD_RE.search(text) and line.text[:1].islower():
            text = text[:-1] + line.text
        else:
            text = f"{text} {line.text}" if text else line.text
    return text


def _info(document) -> dict:
    """Return the PDF's Title, Author and CreationDate as title, author and date."""
    from pdfminer.pdftypes import resolve1

    meta: dict = {}
    for info in document.info:
        info = resolve1(info)
        if not isinstance(info, dict):
            continue
        for field, name in (("Title", "title"), ("Author", "author"),
                            ("CreationDate", "date"), ("Subject", "subject"),
                            ("Keywords", "keywords")):
            value = _decode(resolve1(info.get(field)))
            if value and name not in meta:
                meta[name] = _pdf_date(value) if name == "date" else \
                    keyword_list(value) if name == "keywords" else value
    return meta


def _decode(value) -> str:
    if isinstance(value, bytes):
        if value.startswith((b"\xfe\xff", b"\xff\xfe")):
            value = value.decode("utf-16", errors="replace")
        else:
            from pdfminer.utils import decode_text

            value = decode_text(value)
    return " ".join(str(value).split()) if isinstance(value, str) else ""


def _pdf_date(value: str) -> str:
    """Return a PDF date (D:YYYYMMDDHHmmSS...) as YYYY-MM-DD, or the value as it is."""
    m = re.match(r"(?:D:)?(\d{4})(\d{2})?(\d{2})?", value)
    if not m:
        return value
    year, month, day = m.group(1), m.group(2) or "01", m.group(3) or "01"
    return f"{year}-{month}-{day}"
