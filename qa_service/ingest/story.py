"""Keep a document's story: cut furniture spans, lines and blocks, counting what each
rule removes so that over-cleaning shows in a build's report."""

from __future__ import annotations

import re
from array import array
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass

from qa_service.ingest.boilerplate import line_key
from qa_service.ingest.classify import BAD, GOOD, initial_class, revise
from qa_service.ingest.furniture import inline_furniture, is_end_marker, is_sentence
from qa_service.ingest.rules import LineContext, block_rule, first_line_rule
from qa_service.text import Span, counted, join_spans

_SENTENCE_END_RE = re.compile(r"[.!?…][\"'”’»)\]]*(\s|$)")
_LEFTOVER_RE = re.compile(r"^[\W_]*$")  # what a cut can leave: stray punctuation


@dataclass
class Block:
    """A cleaned paragraph; `heading` marks a short title line inside the story.

    `table`: a table's caption and rows, a line each (readers.tables).
    """

    span: Span
    heading: bool = False
    table: bool = False

    @property
    def text(self) -> str:
        return self.span.text


class Tally(dict):
    """Characters and (approximate) sentences removed, by rule: {rule: [chars, sentences]}."""

    def add(self, rule: str, text: str) -> None:
        """Count `text` as removed by `rule`."""
        if not text.strip():
            return
        counts = self.setdefault(rule, [0, 0])
        counts[0] += len(text)
        counts[1] += max(1, len(_SENTENCE_END_RE.findall(text)))


def keep_story(raw_blocks: list[list[Span]], title: str,
               boilerplate: Collection[str] = (), classify: bool = True,
               tables: Collection[int] = ()) -> tuple[list[Block], Tally]:
    """Return the blocks of the story and what each furniture rule removed.

    A document is never emptied by the judgement calls (the title line, repeated lines,
    the classifier): if they would leave nothing, only the furniture rules apply.
    `classify`: judge blocks with the classifier (scraped pages; not authored files, whose
    short blocks are list items and headings, not page chrome). `tables`: indexes of the
    blocks that are tables, a row a line: kept as blocks of lines, judged by no rule but
    the source's boilerplate (a row is short and may repeat, and is content).
    """
    tally = Tally()
    blocks = _keep(raw_blocks, title, boilerplate, tally, judge=True, classify=classify,
                   tables=tables)
    if not blocks and any(raw_blocks):
        tally = Tally()
        blocks = _keep(raw_blocks, title, boilerplate, tally, judge=False, tables=tables)
    if not blocks and any(raw_blocks):
        # Still nothing: a one-line report ("Jane Smith, mayor, 3 May 2024.") reads as a
        # byline or a dateline. Those rules are for lines around a story; with no story
        # around them, the line is the story.
        tally = Tally()
        blocks = _keep(raw_blocks, title, boilerplate, tally, judge=False, tables=tables,
                       lines_alone=True)
    return blocks, tally


def _keep(raw_blocks, title, boilerplate, tally: Tally, judge: bool,
          classify: bool = True, tables: Collection[int] = (),
          lines_alone: bool = False) -> list[Block]:
    counts = Counter(line.text.casefold() for i, block in enumerate(raw_blocks)
                     if i not in tables for line in block)
    context = LineContext(title.casefold(), counts, boilerplate)

    def line_rule(line: Span, alone: bool) -> str | None:
        return first_line_rule(line.text, alone, context, judge,
                               story_around=not lines_alone)

    joined: list[Span] = []
    is_table: list[bool] = []
    for i, lines in enumerate(raw_blocks):
        if i in tables:
            rows = []
            for line in lines:
                if boilerplate and line_key(line.text) in boilerplate:
                    tally.add("boilerplate", line.text)
                else:
                    rows.append(line)
            if rows:  # a line a row, so that each row stays a sentence of its own
                joined.append(join_spans(rows, "\n"))
                is_table.append(True)
            continue
        kept = []
        for line in lines:
            rule = line_rule(line, len(lines) == 1)  # as it stands: repeats are counted so
            if rule:
                tally.add(rule, line.text)
                continue
            cut = _cut_inline(line, tally)
            # Only a line that lost furniture may now read otherwise (a bare byline).
            rule = line_rule(cut, len(lines) == 1) if cut is not None and cut is not line \
                else None
            line = cut
            if rule:
                tally.add(rule, line.text)
            elif line is not None:
                kept.append(line)
        if kept:
            joined.append(join_spans(kept, " "))
            is_table.append(False)

    joined = _cut_at_end_marker(joined, is_table, tally)
    # A table reached cleaning only as a table (an authored file's, or a page's data
    # table with a header row and few links): the classifier, made for prose, would
    # judge its rows by their stopwords.
    found = [None if table else block_rule(b.text) for b, table in zip(joined, is_table)]
    classes = [GOOD if table else initial_class(b.text, rule is not None)
               for b, rule, table in zip(joined, found, is_table)]
    final = revise(classes) if judge and classify else [BAD if r else GOOD for r in found]
    out = []
    for block, rule, first, cls, table in zip(joined, found, classes, final, is_table):
        if cls == GOOD:
            out.append(Block(block, heading=first != GOOD and not is_sentence(block.text),
                             table=table))
        else:
            tally.add(rule or "classifier", block.text)
    if all(b.heading for b in out):
        # Chunking drops a heading with no text after it; alone, it is the text.
        out = [Block(b.span, table=b.table) for b in out]
    elif not classify:
        # In an authored file, short lines at the end are content (a table's rows, a
        # list), not a page's closing chrome: chunking would drop them as headings.
        end = len(out)
        while end and out[end - 1].heading:
            end -= 1
        out = out[:end] + [Block(b.span) for b in out[end:]]
    return out


def _cut_at_end_marker(blocks: list[Span], is_table: list[bool], tally: Tally) -> list[Span]:
    """Drop a closing widget (agency credit, comment box) and, in the second half, all after.

    A table is never one ('Comments: none.' is a row); `is_table` flags each block.
    """
    total = sum(len(b.text) for b in blocks) or 1
    seen = 0
    for i, (block, table) in enumerate(zip(blocks, is_table)):
        if not table and is_end_marker(block.text) and seen >= total / 2:
            for rest in blocks[i:]:
                tally.add("end", rest.text)
            return blocks[:i]
        seen += len(block.text)
    return blocks


def _cut_inline(line: Span, tally: Tally) -> Span | None:
    """Cut furniture spans out of a line; None when nothing but furniture is left."""
    spans = inline_furniture(line.text)
    if not spans:
        return line
    keep = [True] * len(line.text)
    for start, end, rule in spans:
        tally.add(rule, line.text[start:end])
        keep[start:end] = [False] * (end - start)
    chars: list[str] = []
    offsets = array("I")
    for ch, off, k in zip(line.text, line.offsets, keep):
        if k and not (ch == " " and (not chars or chars[-1] == " ")):
            chars.append(ch)
            offsets.append(off)
    while chars and chars[-1] == " ":
        chars.pop()
        offsets.pop()
    text = "".join(chars)
    if _LEFTOVER_RE.match(text):
        tally.add("credit", text)
        return None
    return Span(text, offsets)


def add_up(totals: dict, removed: dict) -> None:
    """Add one document's removals into build totals: {rule: [chars, sentences, documents]}."""
    for rule, (chars, sentences) in removed.items():
        row = totals.setdefault(rule, [0, 0, 0])
        row[0] += chars
        row[1] += sentences
        row[2] += 1


def summary(totals: dict) -> str:
    """Return one line: what each rule removed, most characters first."""
    if not totals:
        # Documents reused from the live index were cleaned by the build that made them.
        return "Cleaning removed nothing from the documents cleaned in this build."
    parts = [f"{rule} {counted(c, 'char')}/{counted(s, 'sentence')}/{counted(d, 'doc')}"
             for rule, (c, s, d) in sorted(totals.items(), key=lambda kv: (-kv[1][0], kv[0]))]
    return "Cleaning removed: " + "; ".join(parts)

