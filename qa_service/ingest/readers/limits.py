"""Bound what one file may make a reader expand, hold or hand on (hostile files, bombs).

QA_MAX_FILE_BYTES bounds a file on disk; these bound what its bytes become. Each is
far above what a real document of the formats read needs, and far below what takes a
2-core, few-GB build machine down (the figures in docs/architecture.md, Ingestion).
"""

from __future__ import annotations

import json
import logging

from qa_service.ingest.readers.base import UnreadableError

log = logging.getLogger(__name__)

# Text one document may yield, in characters: a 10 MiB text file (QA_MAX_FILE_BYTES)
# gives at most ~10M; a 2,000-page book ~5M. A PDF or Word file over it is a bomb.
MAX_TEXT_CHARS = 16_000_000

# YAML front matter: the nodes aliases may add on top of those written. A shared author
# block repeated a few times adds tens; nested aliases 9 deep and 9 wide (a "billion
# laughs" under 1 KB) add 387 million, which copying the fields out turns into GBs.
MAX_YAML_ALIAS_NODES = 10_000
# Nesting deeper than this in front matter is no metadata a filter or an answer can use.
MAX_YAML_DEPTH = 32

# YAML front matter, in bytes, before it is parsed: a real one is a few hundred bytes
# (a long abstract a few KB); 200,000 fields (7 MB) took 12.9 s to parse before the
# fields were cut. A file over it is skipped: indexed without its front matter, it would
# lose the title, date and source its author gave, with nothing in the answer to say so.
MAX_FRONT_MATTER_BYTES = 64 * 1024

# Metadata a document keeps (every answer citing it carries it): a real front matter or
# PDF/Word properties hold a dozen short fields; 200,000 fields made each answer 3.8 MB.
MAX_FIELDS = 100
MAX_VALUE_CHARS = 2_000  # an abstract or description fits; a dumped blob does not
MAX_METADATA_CHARS = 16_000  # all fields kept, as JSON: 5 cited passages stay under 100 KB

# PDF: bytes one stream may inflate to. A page's content stream is rarely over 1 MB and a
# decoded scan rarely over 30 MB; a 1 MB stream of 1 GiB of spaces took a build to 2.26 GB.
MAX_PDF_STREAM_BYTES = 32 * 1024 * 1024
MAX_PDF_DECODED_BYTES = 256 * 1024 * 1024  # all of one document's streams together
MAX_PDF_PAGES = 5_000  # a long book has 1,500 pages

# Word (.docx, a zip): bytes one member and all members may inflate to. A 2,000-page
# document.xml is ~30 MB; parsing XML costs ~5-10x its size in memory, so a 300 MB
# document.xml (1 MB zipped) stalled a build for 90 s at 1.1 GB.
MAX_DOCX_PART_BYTES = 64 * 1024 * 1024
MAX_DOCX_TOTAL_BYTES = 128 * 1024 * 1024
MAX_DOCX_PARTS = 10_000  # zip members; a large document with images has a few hundred

# HTML, counted in the source before lxml and trafilatura parse it (in cleaning). Their
# time grows with elements: 100,000 took 2.6 s and 147 MB, 250,000 7.4 s and 307 MB, and
# 1.2 million (9.6 MB of <b>x</b>) 65 s and 1.3 GB on a 2-core EPYC; a long real page
# (a large encyclopedia article) has ~50,000.
MAX_HTML_ELEMENTS = 250_000
# Attributes of one element: libxml2 checks each against those before it, so 20,000
# took 0.33 s and 300,000 (a 3.5 MB tag) over 120 s. A real element has a few dozen.
MAX_HTML_ATTRIBUTES = 1_000
# Only a tag this long (characters) is looked into for its attributes.
HTML_LONG_TAG_CHARS = 4_096


class OverLimitError(UnreadableError):
    """A file whose content goes past one of these bounds: skipped, the bound named."""


def check_text(raw: str, name: str) -> None:
    """Refuse a document's text over MAX_TEXT_CHARS."""
    if len(raw) > MAX_TEXT_CHARS:
        raise OverLimitError(f"its text is {len(raw):,} characters, over the limit of "
                             f"{MAX_TEXT_CHARS:,} (MAX_TEXT_CHARS)")


def bound_metadata(meta: dict, name: str) -> dict:
    """Return `meta` cut to MAX_FIELDS fields, MAX_VALUE_CHARS a value, MAX_METADATA_CHARS
    in all, with one warning naming the file and what was cut."""
    kept: dict = {}
    total = 0
    shortened: list[str] = []
    dropped = 0
    for i, (key, value) in enumerate(meta.items()):
        if i >= MAX_FIELDS:
            dropped = len(meta) - i
            break
        key = str(key)[:MAX_VALUE_CHARS]
        if isinstance(value, str) and len(value) > MAX_VALUE_CHARS:
            value = value[:MAX_VALUE_CHARS]
            shortened.append(key)
        size = len(json.dumps({key: value}, ensure_ascii=False))
        if size > MAX_VALUE_CHARS + len(key) + 8 or total + size > MAX_METADATA_CHARS:
            # A list or mapping too big to keep whole, or no room left: the field goes.
            dropped += 1
            continue
        kept[key] = value
        total += size
    if dropped or shortened:
        cut = []
        if dropped:
            cut.append(f"{dropped:,} of {len(meta):,} fields dropped (limits: "
                       f"{MAX_FIELDS} fields, {MAX_METADATA_CHARS:,} characters in all)")
        if shortened:
            listed = ", ".join(shortened[:5]) + (", ..." if len(shortened) > 5 else "")
            cut.append(f"{len(shortened)} values cut to {MAX_VALUE_CHARS:,} characters "
                       f"({listed})")
        log.warning("%s: metadata over the limits: %s", name, "; ".join(cut))
    return kept
