"""Page furniture in several site styles: it leaves every passage, the story stays."""

from __future__ import annotations

import pytest

from qa_service.config import Settings
from qa_service.indexing import build_index
from qa_service.ingest import RawDocument, ingest_document
from qa_service.ingest.boilerplate import document_hash, line_key, repeated_lines
from qa_service.ingest.classify import revise
from qa_service.ingest.furniture import inline_furniture, is_nav_bar
from qa_service.ingest.metadata import find_title
from qa_service.ingest.story import add_up, summary
from qa_service.store import Index

BBC_LIKE = """Home | News | Sport | Weather | iPlayer

This site uses cookies to give you the best experience. Accept cookies

Storm Daniel: floods sweep away homes in eastern Libyan city

Watch: drone footage of the destroyed neighbourhoods of Derna
Thousands of people are feared dead after two dams burst in the eastern Libyan city of \
Derna, sending a torrent of water through its centre.

Rescue teams have recovered more than 2,000 bodies so far, officials said on Tuesday, \
and many more people are missing.

The city of 100,000 people was cut off for more than a day as roads and bridges were \
washed away.

Please enable JavaScript to view the comments

Related Topics

More on this story
"""

WORDPRESS_LIKE = """Menu

Skip to content

Why our town library is staying open late this winter

Posted on January 4, 2024 by Jane Doe

The library board voted on Monday to keep the main branch open until nine in the evening \
from December to February, after a survey found that most readers visit after work.

Volunteers from the reading club will staff the extra hours, and the council has agreed \
to pay for heating the building.

Share this:
Facebook Twitter Pinterest Email

Like this:
Loading...

Related posts

Tags: library, council, winter

Leave a comment
"""

WIRE_LIKE = """Flood defences breached in coastal town

Sea water poured over the wall at high tide on Sunday, flooding more than 200 homes \
(Photo: John Smith/Reuters) and forcing the closure of the harbour road.

Residents were moved to a school hall. (AP Photo/Maria Lopez) Officials said the wall \
would be repaired within a week.

The mayor said the town had asked for help twice before. READ MORE: Why sea walls fail
"""

ADELE = ("Adele announced she is postponing the upcoming dates of her Las Vegas residency "
         "to “rest thoroughly.” (Image credit: Kevin Mazur/Getty Images)")


def passages_of(raw: RawDocument, **kw):
    doc, passages = ingest_document(raw, **kw)
    return doc, "\n".join(p.text for p in passages)


@pytest.mark.parametrize("furniture", [
    "Home", "News | Sport", "cookies", "Watch:", "JavaScript", "Related Topics",
    "More on this story",
])
def test_bbc_like_page_keeps_the_story_and_loses_the_chrome(furniture):
    doc, text = passages_of(RawDocument("bbc.txt", "text", BBC_LIKE))
    assert doc.title == "Storm Daniel: floods sweep away homes in eastern Libyan city"
    assert text.startswith("Thousands of people are feared dead")  # no glued lead-in
    assert "Rescue teams have recovered more than 2,000 bodies" in text
    assert "washed away." in text
    assert furniture not in text


@pytest.mark.parametrize("furniture", [
    "Skip to content", "Posted on", "Share this", "Facebook", "Like this", "Loading",
    "Related posts", "Tags:", "Leave a comment", "Menu",
])
def test_wordpress_like_blog_keeps_the_post_and_loses_the_widgets(furniture):
    doc, text = passages_of(RawDocument("blog.txt", "text", WORDPRESS_LIKE))
    assert doc.title == "Why our town library is staying open late this winter"
    assert "The library board voted on Monday" in text
    assert "pay for heating the building." in text
    assert furniture not in text


def test_wire_credits_cost_the_credit_not_the_paragraph():
    _, text = passages_of(RawDocument("wire.txt", "text", WIRE_LIKE))
    assert "flooding more than 200 homes and forcing the closure of the harbour road." in text
    assert "Residents were moved to a school hall. Officials said the wall" in text
    assert "The mayor said the town had asked for help twice before." in text
    for furniture in ("Photo", "Reuters", "Maria Lopez", "READ MORE", "sea walls fail"):
        assert furniture not in text


def test_beir_paragraph_ending_with_an_image_credit_is_kept():
    raw = RawDocument("rt1", "beir", ADELE, {"title": ""})
    doc, text = passages_of(raw)
    assert doc.paragraphs == 1
    assert text == ("Adele announced she is postponing the upcoming dates of her Las Vegas "
                    "residency to “rest thoroughly.”")
    assert doc.cleaning["credit"][0] == len(" (Image credit: Kevin Mazur/Getty Images)")


@pytest.mark.parametrize("text", [
    "Federer said he needed surgery on an injured knee",  # headline-like: the derived title
    "Irish-bred champion Tiger Roll retired after winning the Grand National in 2018",
    "March Madness is upon us.",
    "Published in 1815, the edition of Emma achieved the highest price ever paid",
    # Read alone, a byline and a dateline: with no story around them, they are the story.
    "Jane Smith, mayor, 3 May 2024.",
    "By John Adams, London, 12 June 2023",
])
@pytest.mark.parametrize("kind", ["beir", "text"])
def test_one_paragraph_news_is_never_emptied(text, kind):
    doc, passages = passages_of(RawDocument("rt2", kind, text, {"title": ""}))
    assert passages == text


def test_a_document_of_furniture_alone_is_still_emptied():
    _, text = passages_of(RawDocument("x.txt", "text", "Do you like this article?\n\n"
                                      "Share this: Facebook | Twitter | Email"))
    assert text == ""


def test_a_paragraph_that_is_all_furniture_is_dropped():
    raw = RawDocument("x.txt", "text", "(Image credit: Kevin Mazur/Getty Images)\n\n"
                      "A real paragraph of news that says what happened on Monday in town.")
    _, text = passages_of(raw)
    assert text == "A real paragraph of news that says what happened on Monday in town."


def test_nav_bar_is_never_a_title():
    assert is_nav_bar("Home | News | Sport | Weather")
    assert is_nav_bar("World • Business • Tech · Science")
    assert not is_nav_bar("Labour | Conservatives clash over the budget in a heated debate.")
    assert not is_nav_bar("Rain | wind")
    lines = ["Home | News | Sport | Weather", "Storm hits the coast overnight"]
    assert find_title(lines) == "Storm hits the coast overnight"


def test_inline_furniture_spans():
    assert inline_furniture("Watch: drone footage of the flood") == [
        (0, 33, "lead_in")]
    assert inline_furniture("The photo (left) shows the bridge.") == []
    assert inline_furniture("Read the report in full.") == []


def test_short_blocks_take_their_neighbours_class():
    assert revise(["good", "short", "good"]) == ["good", "good", "good"]
    assert revise(["bad", "short", "bad"]) == ["bad", "bad", "bad"]
    assert revise(["bad", "neargood", "good"]) == ["bad", "good", "good"]
    assert revise(["bad", "neargood", "bad"]) == ["bad", "bad", "bad"]


FOOTER = "Copies of this newsletter are free to members of the Harbour Society."


def _site(n: int) -> list[RawDocument]:
    return [RawDocument(f"s{i}.txt", "text",
                        f"Item {i} of the harbour news\n\nThe harbour master reported that "
                        f"{i + 2} boats came in on the morning tide and unloaded fish.\n\n"
                        f"{FOOTER}\n", default_source="harbour") for i in range(n)]


def test_a_line_repeated_across_a_sources_documents_is_dropped():
    docs = _site(4)
    boilerplate = repeated_lines(docs)
    assert line_key(FOOTER) in boilerplate
    doc, text = passages_of(docs[0], boilerplate=boilerplate)
    assert "harbour master reported" in text and "newsletter" not in text
    assert doc.cleaning["boilerplate"][0] == len(FOOTER)
    # Without the first pass the footer stays: the repeat is what marks it.
    assert "newsletter" in passages_of(docs[0])[1]
    # The hash of a document with a repeat changes with the set; others keep theirs.
    assert document_hash("h", docs[0], boilerplate) != "h"
    assert document_hash("h", docs[0], frozenset()) == "h"


def test_a_line_in_too_few_documents_is_not_boilerplate():
    assert repeated_lines(_site(2)) == frozenset()


def test_report_totals_and_line():
    totals: dict = {}
    add_up(totals, {"credit": [40, 1]})
    add_up(totals, {"credit": [10, 1], "nav": [30, 1]})
    assert totals == {"credit": [50, 2, 2], "nav": [30, 1, 1]}
    assert summary(totals).startswith("Cleaning removed: credit 50 chars/2 sentences/2 docs")


def test_a_build_drops_a_sources_repeated_footer_and_reports_it(tmp_path, encoder):
    folder = tmp_path / "harbour"
    folder.mkdir()
    for raw in _site(4):
        (folder / raw.doc_id).write_text(raw.raw, "utf-8")
    settings = Settings.from_env(corpus=folder, index_dir=tmp_path / "index")
    report = build_index(settings, encoder)
    assert report.cleaning["boilerplate"] == [4 * len(FOOTER), 4, 4]
    index = Index.load(settings.index_dir)
    try:
        texts = [r[0] for r in index.passages._query("SELECT text FROM passages")]
    finally:
        index.close()
    assert len(texts) == 4 and not any("newsletter" in t for t in texts)
    # A fifth document without the footer makes it rarer; still in 4 of 5: still furniture.
    (folder / "s9.txt").write_text("Item 9\n\nThe harbour master reported calm seas today.\n")
    assert build_index(settings, encoder).reused_documents == 4


@pytest.mark.parametrize("text, kept", [
    ("Barcelona has the best bar in the world, the rankings say. For more Food & Drink "
     "news, sign up to our newsletter.", "Barcelona has the best bar in the world, the "
     "rankings say."),
    ("Subscribe to our newsletter for the latest space news.", ""),
    ("The lander tipped over. Follow us on Twitter for live updates. It still sends data.",
     "The lander tipped over. It still sends data."),
    ("The council asked residents to subscribe to its newsletter before the floods.",
     "The council asked residents to subscribe to its newsletter before the floods."),
])
def test_a_site_s_call_to_action_is_cut_and_the_story_around_it_stays(text, kept):
    spans = [(s, e) for s, e, rule in inline_furniture(text) if rule == "call_to_action"]
    rest = text
    for start, end in reversed(spans):
        rest = rest[:start] + rest[end:]
    assert " ".join(rest.split()) == kept


def test_every_rule_cleaning_counts_is_one_of_the_named_rules(tmp_path):
    """The build's summary and docs/architecture.md name rules by `rules.RULES`."""
    import re

    from qa_service.ingest import furniture
    from qa_service.ingest.rules import NAMES, RULES
    from tests.conftest import REPO

    assert set(furniture._INLINE_RE.groupindex) <= NAMES
    text = ("Home | News | Sport\n\nBy Jane Doe\n\n12 June 2023\n\nThe mill reopened on "
            "Monday after the flood (Image credit: Getty Images). Read more: floods\n\n"
            "Do you like this article?")
    doc, _ = passages_of(RawDocument("x.txt", "text", text, {"title": ""}))
    assert doc.cleaning and set(doc.cleaning) <= NAMES
    documented = set(re.findall(r"^\| `(\w+)` \|", (REPO / "docs" / "architecture.md")
                                .read_text("utf-8"), re.M))
    assert {rule.name for rule in RULES} <= documented
