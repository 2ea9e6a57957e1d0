"""Read HTML files (their text is extracted when they are cleaned)."""

from __future__ import annotations

import logging
import re

from qa_service.ingest.readers.base import Extracted, Reader, decode
from qa_service.ingest.readers.limits import (
    HTML_LONG_TAG_CHARS,
    MAX_HTML_ATTRIBUTES,
    MAX_HTML_ELEMENTS,
    OverLimitError,
)

log = logging.getLogger(__name__)

_OPENING_TAG_RE = re.compile(r"<[A-Za-z]")
_LONG_TAG_RE = re.compile(rf"<[A-Za-z][^<>]{{{HTML_LONG_TAG_CHARS},}}")
_ATTRIBUTE_RE = re.compile(r"\s[^\s=<>\"'/]+\s*=")


class HtmlReader(Reader):
    """Read HTML source; cleaning extracts the story and its metadata."""

    kind = "html"
    suffixes = (".html", ".htm")
    decode_only = True  # and counts, in linear time: see check_html

    def read(self, data: bytes, name: str) -> Extracted:
        """Return the page's HTML source, refused when parsing it would run away."""
        html = decode(data, name, log)
        check_html(html)
        return Extracted(html)


def check_html(html: str) -> None:
    """Refuse HTML with more elements, or an element with more attributes, than the
    limits (readers/limits.py) allow: the parsers' time grows faster than the file."""
    elements = len(_OPENING_TAG_RE.findall(html))
    if elements > MAX_HTML_ELEMENTS:
        raise OverLimitError(f"{elements:,} HTML elements is over {MAX_HTML_ELEMENTS:,} "
                             "(MAX_HTML_ELEMENTS)")
    for tag in _LONG_TAG_RE.finditer(html):
        attributes = len(_ATTRIBUTE_RE.findall(tag.group(0)))
        if attributes > MAX_HTML_ATTRIBUTES:
            raise OverLimitError(f"an element with {attributes:,} attributes is over "
                                 f"{MAX_HTML_ATTRIBUTES:,} (MAX_HTML_ATTRIBUTES)")
