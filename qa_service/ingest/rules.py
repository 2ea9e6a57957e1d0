"""The cleaning rules: one list, each with its name and what it removes.

Cleaning (ingest.story) applies them; a build's summary counts what each removed, by
name (`Cleaning removed: ...`), and docs/architecture.md lists them from here. A rule
marked `judgement` is a call about a page (the title line, repeats, the classifier): a
document they would empty is cleaned again without them. A rule marked `around_story`
removes a line that stands beside a story (a byline, a dateline): a document that is
nothing but such a line keeps it, as its story.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field

from qa_service.ingest.boilerplate import line_key
from qa_service.ingest.furniture import (
    is_byline,
    is_dateline,
    is_end_marker,
    is_nav_bar,
    is_notice,
    is_widget,
)


@dataclass(frozen=True)
class LineContext:
    """What line rules know of the document: its title, line counts and the source's
    repeated lines."""

    title_key: str
    counts: Collection[str] = field(default_factory=dict)
    boilerplate: Collection[str] = ()


@dataclass(frozen=True)
class Rule:
    """One cleaning rule: `test` (None: applied elsewhere, named here for the summary)."""

    name: str
    removes: str
    scope: str  # "line", "block", "span" (inside a line), "tail" or "blocks"
    test: Callable | None = None
    judgement: bool = False
    around_story: bool = False


def _title(text: str, alone: bool, ctx: LineContext) -> bool:
    # Only as a heading, a block of its own: a guessed title that is the first line of a
    # paragraph (a .txt's wrapped opening sentence) stays, or the paragraph loses its start.
    return alone and text.casefold() == ctx.title_key


LINE_RULES = [
    Rule("title", "the title, standing as a heading of its own", "line", _title,
         judgement=True),
    Rule("repeat", "a line the document repeats (captions, titles, widgets)", "line",
         lambda text, alone, ctx: ctx.counts.get(text.casefold(), 0) > 1, judgement=True),
    Rule("boilerplate", "a line most documents of the source share (footers, notices)",
         "line", lambda text, alone, ctx: bool(ctx.boilerplate)
         and line_key(text) in ctx.boilerplate),
    Rule("byline", "'By ...' lines", "line", lambda text, alone, ctx: is_byline(text),
         around_story=True),
    Rule("dateline", "a date, or place and date, alone on a line", "line",
         lambda text, alone, ctx: is_dateline(text), around_story=True),
    Rule("nav", "navigation bars ('Home | News | Sport')", "line",
         lambda text, alone, ctx: is_nav_bar(text)),
]
BLOCK_RULES = [
    Rule("widget", "share, comment and rating widgets ('Do you like this article?')",
         "block", lambda text: is_end_marker(text) or is_widget(text)),
    Rule("notice", "cookie, subscription and copyright notices", "block", is_notice),
]
OTHER_RULES = [  # applied by story.py itself; named here for the summary and the docs
    Rule("credit", "picture credits inside a line ('(Image credit: ...)')", "span"),
    Rule("trailing_credit", "a credit after a paragraph's last sentence", "span"),
    Rule("lead_in", "'Watch: ...' lead-ins", "span"),
    Rule("call_to_action", "'sign up to our newsletter' in the site's voice", "span"),
    Rule("read_more", "'Read more: ...' to the end of the line", "span"),
    Rule("end", "a closing widget in the second half, and all after it", "tail"),
    Rule("classifier", "blocks judged page chrome among their neighbours (jusText-style)",
         "blocks", judgement=True),
]
RULES = LINE_RULES + BLOCK_RULES + OTHER_RULES
NAMES = frozenset(rule.name for rule in RULES)


def first_line_rule(text: str, alone: bool, ctx: LineContext, judge: bool = True,
              story_around: bool = True) -> str | None:
    """Return the name of the first line rule that removes `text`, or None.

    `judge`: apply the judgement calls; `story_around`: the rules for lines beside a story.
    """
    for rule in LINE_RULES:
        if (rule.judgement and not judge) or (rule.around_story and not story_around):
            continue
        if rule.test(text, alone, ctx):
            return rule.name
    return None


def block_rule(text: str) -> str | None:
    """Return the name of the block rule that removes a whole block, or None."""
    for rule in BLOCK_RULES:
        if rule.test(text):
            return rule.name
    return None
