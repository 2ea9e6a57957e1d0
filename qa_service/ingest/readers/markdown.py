"""Read Markdown files: YAML front matter as metadata, the body rendered to text blocks."""

from __future__ import annotations

import logging
import re
from functools import lru_cache

from qa_service.ingest.readers.base import Extracted, Reader, decode, json_safe
from qa_service.ingest.readers.limits import MAX_FRONT_MATTER_BYTES, OverLimitError
from qa_service.ingest.readers.tables import join_blocks, table_lines
from qa_service.ingest.readers.yaml_bounds import load_bounded

log = logging.getLogger(__name__)

_FRONT_MATTER_RE = re.compile(r"\A---[^\S\n]*\n.*?\n(?:---|\.\.\.)[^\S\n]*(?:\n|\Z)", re.DOTALL)
# Tokens whose content is kept as a block of its own: one paragraph each.
_TEXT_BLOCKS = ("fence", "code_block")


class MarkdownReader(Reader):
    """Read Markdown: front matter fields, then headings, paragraphs, list items and code."""

    kind = "markdown"
    suffixes = (".md", ".markdown")

    def read(self, data: bytes, name: str) -> Extracted:
        """Return the rendered text blocks and the front matter's fields."""
        text = decode(data, name, log)
        meta, body = front_matter(text, name)
        tokens = _parser().parse(body)
        if not str(meta.get("title") or "").strip():
            heading = first_heading(tokens)
            meta = {**meta, "title": heading} if heading else meta
        raw, tables = join_blocks(markdown_blocks(body, tokens))
        return Extracted(raw, meta, tables=tables or None)


def front_matter(text: str, name: str) -> tuple[dict, str]:
    """Split YAML front matter from the body; invalid front matter is warned about, dropped.

    Front matter over MAX_FRONT_MATTER_BYTES is refused (OverLimitError) unparsed.
    """
    found = _FRONT_MATTER_RE.match(text)
    if not found:
        return {}, text
    size = len(found.group(0).encode("utf-8"))
    if size > MAX_FRONT_MATTER_BYTES:
        raise OverLimitError(f"front matter of {size:,} bytes is over {MAX_FRONT_MATTER_BYTES:,}"
                             " (MAX_FRONT_MATTER_BYTES)")
    import frontmatter
    import yaml

    try:
        post = frontmatter.loads(text, handler=_yaml_handler())
    except (yaml.YAMLError, ValueError, TypeError) as exc:
        problem = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        log.warning("%s: invalid YAML front matter (%s); the body is read as text",
                    name, problem)
        return {}, _FRONT_MATTER_RE.sub("", text, count=1)
    meta = post.metadata
    if not isinstance(meta, dict):
        log.warning("%s: front matter is not a mapping of fields; the body is read as text",
                    name)
        return {}, post.content
    return json_safe(meta), post.content


@lru_cache(maxsize=1)
def _yaml_handler():
    """Return a front matter handler whose YAML load is bounded (readers.yaml_bounds)."""
    from frontmatter.default_handlers import YAMLHandler

    class BoundedYAML(YAMLHandler):
        def load(self, fm: str, **kwargs):
            return load_bounded(fm)

    return BoundedYAML()


@lru_cache(maxsize=1)
def _parser():
    from markdown_it import MarkdownIt

    parser = MarkdownIt("commonmark").enable("table")
    # Targets are dropped, never followed: a javascript: link still keeps only its text.
    parser.validateLink = lambda url: True
    return parser


def first_heading(tokens: list) -> str | None:
    """Return the text of the first heading of the highest level among parsed tokens."""
    headings = [(int(token.tag[1]), tokens[i + 1].content.strip())
                for i, token in enumerate(tokens[:-1]) if token.type == "heading_open"]
    headings = [(level, text) for level, text in headings if text]
    return min(headings, key=lambda h: h[0])[1] if headings else None


def markdown_blocks(source: str, tokens: list | None = None) -> list[tuple[str, bool]]:
    """Return the blocks (heading, paragraph, item, code, table) as (text, is_table).

    A table is one block of a line a row (readers.tables); `tokens`: the source already
    parsed, if it is.
    """
    blocks: list[tuple[str, bool]] = []
    rows: list[list[str]] | None = None  # the table being read: its header row first
    row: list[str] | None = None
    for token in _parser().parse(source) if tokens is None else tokens:
        if token.type == "table_open":
            rows = []
        elif token.type == "table_close" and rows is not None:
            header, *body = rows or [None]
            blocks.append(("\n".join(table_lines(header, body)), True))
            rows = None
        elif token.type == "tr_open":
            row = []
        elif token.type == "tr_close":
            if rows is not None and row is not None:
                rows.append(row)
            row = None
        elif token.type == "inline":
            text = _inline_text(token)
            if row is not None:
                row.append(text.replace("\n", " ").strip())
            elif text.strip():
                blocks.append((text.strip(), False))
        elif token.type in _TEXT_BLOCKS and token.content.strip():
            blocks.append((token.content.strip("\n"), False))
    return blocks


def _inline_text(token) -> str:
    """Return an inline token's text: link text kept, images and markup dropped."""
    parts = []
    for child in token.children or []:
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append("\n")
    return "".join(parts)
