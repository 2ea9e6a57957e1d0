"""Pick the reader for a file by its suffix: the one list of supported formats."""

from __future__ import annotations

import os
from pathlib import Path

from qa_service.ingest.readers.base import Reader
from qa_service.ingest.readers.docx import DocxReader
from qa_service.ingest.readers.html import HtmlReader
from qa_service.ingest.readers.markdown import MarkdownReader
from qa_service.ingest.readers.pdf import PdfReader
from qa_service.ingest.readers.text import TextReader

READERS: tuple[Reader, ...] = (
    TextReader(), MarkdownReader(), HtmlReader(), PdfReader(), DocxReader(),
)
_BY_SUFFIX = {suffix: reader for reader in READERS for suffix in reader.suffixes}
SUFFIXES = tuple(_BY_SUFFIX)


def reader_for(path: Path | str) -> Reader | None:
    """Return the reader for a file's suffix (any case), or None: not a supported format."""
    return _BY_SUFFIX.get(os.path.splitext(os.fspath(path))[1].lower())
