"""Read HTML files (their text is extracted when they are cleaned)."""

from __future__ import annotations

import logging

from qa_service.ingest.readers.base import Extracted, Reader, decode

log = logging.getLogger(__name__)


class HtmlReader(Reader):
    """Read HTML source; cleaning extracts the story and its metadata."""

    kind = "html"
    suffixes = (".html", ".htm")
    decode_only = True

    def read(self, data: bytes, name: str) -> Extracted:
        """Return the page's HTML source."""
        return Extracted(decode(data, name, log))
