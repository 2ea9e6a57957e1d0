"""Recognise page furniture: the site chrome a scrape carries around an article.

The patterns describe kinds of furniture common to news and web pages (navigation,
share and comment widgets, bylines, photo credits, 'read more' links, agency credits),
not the strings of any one document.
"""

from __future__ import annotations

import re

_I = re.IGNORECASE

# Widgets that close a story: feedback, comment and related-content blocks, agency credits.
_CLOSING = [
    r"(do you like|did you (like|enjoy)|was this) (this |the )?(article|story|post|page)"
    r"( helpful| useful)?\??",
    r"\d+\s+comments?(\(s\))?",
    r"(comments?|comment policy|leave a (comment|reply)|post a comment|add a comment)\b.{0,120}",
    r"(related|recommended)( articles| stories| news| posts| content| reading)?\b.{0,200}",
    r"(more (on|from) this|more stories|you may also like)\b.{0,200}",
    r"((with )?(additional )?reporting by|(edited|editing|compiled|written) by)\b.{0,200}",
]
# Other widgets: a block that is entirely one of these is furniture wherever it appears.
_WIDGETS = _CLOSING + [
    r"(accessibility links|skip to (main )?content|skip navigation|jump to navigation)",
    r"(breaking news|latest news|top stories|most (read|popular|viewed)|trending( now)?)",
    r"(main )?(menu|navigation|search|home|news|dismiss|close|back to top|next|previous)",
    r"(share|share this( article| story| page)?|share on \w+|tweet|e-?mail|print)( this)?",
    r"(follow us|subscribe|sign up|sign in|log in|register|newsletter)\b.{0,60}",
    r"(advertisement|sponsored( content)?|promoted|ad)",
    r"(we use cookies|cookie (policy|settings)|accept( all)?( cookies)?)\b.{0,120}",
    r".{0,80}\b(required field|characters? (left|remaining))\b.{0,40}",
    r"(tags?|topics?|categories|filed under|keywords)\s*:.{0,200}",
    r"(copyright|©|\(c\))\b.{0,150}",
    r".{0,100}\ball rights reserved\b.{0,100}",
    r"[•·\-\s]*\d+x\d+ (image|video|photo)",
    r"(photo|image|picture|video|illustration)( caption| credit)?\s*:.{0,200}",
    r"(read|see|watch) (more|also)\b.{0,200}",
    # Blog furniture (WordPress and the like).
    r"(like this|share this|loading|leave a reply|click to (share|print|email)\b.{0,80})",
    r"((posted|filed) (in|under)\b.{0,80}|tagged( with)?\s*:.{0,160})",
    r"((previous|next|older|newer) (post|article|story|entry))\b.{0,160}",
    r"((facebook|twitter|x|linkedin|pinterest|reddit|whatsapp|telegram|email|print)[\s,|•·]*){2,}",
]

_WIDGET_RE = re.compile(r"^(?:" + "|".join(_WIDGETS) + r")[\s.!?:]*$", _I)
_END_RE = re.compile(r"^(?:" + "|".join(_CLOSING) + r")[\s.!?:]*$", _I)

# Lines about the page rather than the story.
_BYLINE_RE = re.compile(r"^(by|words by|written by|reported by)\s+\S.{0,80}$", _I)
_PHOTO_CREDIT_RE = re.compile(
    # A credit in brackets is a name, capitalised ("[Jane Doe]", not "[citation needed]").
    r"([.!?\"'”’]\s*\[\s*(?-i:[A-Z][\w.'’-]*(\s+[A-Z][\w.'’-]*){0,4})\s*\]"
    r"|/\s*@\w+|\((photo|image|picture)s?:?[^)]*\)"
    r"|\b(photo|image|picture)s?\s*(by|:|credit)\s*.{2,60})\s*$",
    _I,
)
_DATE_ONLY_RE = re.compile(
    r"^(published|updated|posted|date)?\s*:?\s*[\w,./\- ]{4,40}\d{4}[\w,.:/\- ]{0,20}$", _I
)
# Notices about the page or the browser, not the story: a short block that holds one is
# furniture even when it is a whole sentence ("Please enable JavaScript to view ...").
_NOTICE_RE = re.compile(
    r"\b(enable javascript|javascript (is )?(disabled|required|turned off)"
    r"|browser (does not|doesn't) support|(we|this (web)?site) uses? cookies"
    r"|(use of|accept( all)?|manage) cookies|cookie (policy|settings|preferences|notice)"
    r"|to view (the )?comments|ad ?blocker)\b",
    _I,
)
# A navigation bar: three or more short items between separators.
_NAV_SPLIT_RE = re.compile(r"\s*[|•·»›]\s*")

# Furniture inside a line, cut out so that the sentences around it stay. Each pattern
# matches the span to cut; the rule name is the group that matched.
_INLINE_RE = re.compile(
    # A credit in parentheses: "(Image credit: X)", "(Photo: X)", "(AP Photo/X)".
    # The kind of picture is followed by a colon, slash or "by": "(image files, ...)" and
    # "(through Sony Pictures Television)" are prose.
    r"(?P<credit>\s*\((?:(?-i:[A-Z][\w.]*\s){0,2}(?:photo|image|picture|video|illustration"
    r"|graphic)s?(?:\s+credits?)?\s*(?::|/|by\b)[^()\n]{0,150}|[^()\n]{0,60}\b(?:getty images"
    r"|shutterstock|alamy|istock)\b[^()\n]{0,40})\))"
    # A credit after the last sentence: "... hit. Photo: X/Reuters", "[Jane Doe]", "/ @user".
    r"|(?P<trailing_credit>(?<=[.!?\"'”’])\s*(?:(?:photo|image|picture)s?\s*(?:credits?)?"
    r"\s*(?::|by)\s*[^.!?\n]{2,80}|\[\s*(?-i:[A-Z][\w.'’-]*(?:\s+[A-Z][\w.'’-]*){0,4})\s*\])"
    r"\s*$|\s*/\s*@\w+\s*$)"
    # A "Watch: ..." lead-in: the lead's first sentence, or the whole line when short.
    r"|(?P<lead_in>^(?:watch|video|listen|in pictures|pictures|gallery|live)\s*:\s*"
    r"(?:[^\n]{0,200}?[.!?](?=\s+[A-Z\"“])|(?=(?:\S+\s+){0,24}\S+\s*$)[^\n]*$))"
    # A call to action in the site's own voice ("our", "us"), as a sentence of its own:
    # "For more Food & Drink news, sign up to our newsletter." (a report about someone
    # else's newsletter says "its" or "their", and stays).
    r"|(?P<call_to_action>(?:^|(?<=[.!?\"”’]))\s*[^.!?\n]{0,80}\b(?:(?:subscribe|sign up"
    r"|register) (?:to|for) our (?:free |daily |weekly )?(?:[\w&]+ ){0,3}newsletters?"
    r"|follow us on (?:twitter|x|facebook|instagram|linkedin|threads|bluesky|tiktok))\b"
    r"[^.!?\n]{0,80}(?:[.!?]|$))"
    # "Read more: ...": to the end of the line.
    r"|(?P<read_more>(?:^|(?<=[.!?\"”’]))\s*(?:read more|read also|also read|see also"
    r"|more on this|related)\s*[:»›]\s*[^\n]{0,200}$)",
    _I | re.MULTILINE,
)
_SENTENCE_END_RE = re.compile(r"[.!?…][\"'”’»)\]]*$")


def is_widget(text: str) -> bool:
    """Return True for navigation, sharing, comment and similar widget text."""
    return _short_non_prose(text) and bool(_WIDGET_RE.match(text))


def is_end_marker(text: str) -> bool:
    """Return True for text that closes a story (agency credits, comment widgets)."""
    return _short_non_prose(text) and bool(_END_RE.match(text))


def is_byline(text: str) -> bool:
    """Return True for a byline such as 'By Jane Doe'."""
    return len(text.split()) <= 10 and not _SENTENCE_END_RE.search(text) and bool(
        _BYLINE_RE.match(text)
    )


def is_photo_credit(text: str) -> bool:
    """Return True for a caption that ends with a photo credit."""
    return len(text) <= 400 and bool(_PHOTO_CREDIT_RE.search(text))


def is_dateline(text: str) -> bool:
    """Return True for a line that holds nothing but a date."""
    return len(text.split()) <= 8 and bool(_DATE_ONLY_RE.match(text)) and any(
        c.isdigit() for c in text
    )


def is_notice(text: str) -> bool:
    """Return True for a short notice about cookies, scripts or the browser."""
    return len(text) <= 400 and bool(_NOTICE_RE.search(text))


def is_nav_bar(text: str) -> bool:
    """Return True for a line of three or more short items between separators."""
    items = [item for item in _NAV_SPLIT_RE.split(text.strip()) if item]
    return len(items) >= 3 and len(_NAV_SPLIT_RE.findall(text)) >= 2 and all(
        len(item.split()) <= 3 and not _SENTENCE_END_RE.search(item) for item in items
    )


def inline_furniture(text: str) -> list[tuple[int, int, str]]:
    """Return (start, end, rule) of the furniture spans inside a line of text."""
    return [(m.start(), m.end(), m.lastgroup) for m in _INLINE_RE.finditer(text)
            if m.end() > m.start()]


def is_sentence(text: str) -> bool:
    """Return True when `text` reads as prose: ends like a sentence or is long."""
    return bool(_SENTENCE_END_RE.search(text)) or len(text.split()) >= 15


def _short_non_prose(text: str) -> bool:
    # Widgets are short; a full sentence that merely starts like one ("Related to this,
    # the ministry said ...") is prose.
    return len(text) <= 300 and (len(text.split()) <= 6 or not _SENTENCE_END_RE.search(text))
