"""Read plain text files."""

from __future__ import annotations

import logging

from qa_service.ingest.readers.base import Extracted, Reader, decode

log = logging.getLogger(__name__)


class TextReader(Reader):
    """Read UTF-8 text as it is."""

    kind = "text"
    suffixes = (".txt",)
    decode_only = True

    def read(self, data: bytes, name: str) -> Extracted:
        """Return the file's text."""
        return Extracted(decode(data, name, log))
