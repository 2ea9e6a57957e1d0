"""Hostile documents in a real browser: markup in a corpus is shown as text, never run.

The content security policy would block inline script anyway; these tests check the page
itself, so that they fail if untrusted text ever reaches the page as HTML.
"""

from __future__ import annotations

import pytest

from tests.conftest import serve_files, watched_page

pytestmark = pytest.mark.browser

EVIL_TXT = """Harbour <script>window.__pwned = "title"</script> ferry news

The harbour ferry <img src=x onerror="window.__pwned = 'img'; alert('img')"> timetable \
changes in the spring, the port authority said on Monday.

The first boat <script>window.__pwned = "script"; alert("script")</script> will leave at \
six in the morning <svg onload="window.__pwned = 'svg'"></svg> from the old pier.
"""
EVIL_SOURCE = "<img src=x onerror=alert('source')>Evil Press"
SOURCES_TOML = f"""["evil.txt"]
source = "{EVIL_SOURCE}"
url = "javascript:alert('url')"
"""
EVIL_NAME = "ferry<img src=x onerror=alert('name')>.txt"
# Markup that would run if inserted as HTML, in any of its forms.
RUNNABLE = "script:not([src]), img, svg, iframe, [onerror], [onload], [onmouseover], " \
           "a[href^='javascript']"


@pytest.fixture(scope="module")
def hostile_server(tmp_path_factory):
    server = serve_files(tmp_path_factory.mktemp("hostile"), "hostile", {
        "evil.txt": EVIL_TXT, "sources.toml": SOURCES_TOML,
        EVIL_NAME: "Ferry tickets <b onmouseover=\"window.__pwned = 'b'\">cost more</b> this "
                   "year, the harbour office said in a statement on Tuesday morning."})
    yield server
    server.stop()


@pytest.fixture
def page(browser):
    context = browser.new_context()
    yield watched_page(context)
    context.close()


def assert_nothing_ran(page) -> None:
    assert page.evaluate("window.__pwned") is None
    assert page.dialogs == [] and page.errors == []
    assert page.locator("main").locator(RUNNABLE).count() == 0


def test_markup_in_passages_titles_and_sources_is_shown_as_text(page, hostile_server):
    page.goto(hostile_server.url + "/")
    page.fill("#question", "harbour ferry timetable boat tickets")
    page.press("#question", "Enter")
    page.locator(".answer:not(.pending)").last.wait_for(timeout=30_000)
    cards = page.locator(".card")
    assert cards.count() == 3
    shown = page.locator(".thread").inner_text()
    assert "<img src=x onerror=\"window.__pwned = 'img'; alert('img')\">" in shown
    assert "<script>window.__pwned = \"script\"" in shown
    assert EVIL_SOURCE in shown  # the source badge, as text
    assert "onerror=alert('name')>" in shown  # the file name as title
    assert_nothing_ran(page)


@pytest.mark.parametrize("doc_id", ["evil.txt", EVIL_NAME])
def test_the_document_page_shows_markup_as_text(page, hostile_server, doc_id):
    page.goto(hostile_server.url + "/")
    href = page.evaluate("([id]) => QA.documentHref(id, 1)", [doc_id])
    page.goto(hostile_server.url + href)
    page.locator("#p1").wait_for(timeout=30_000)
    text = page.locator("#document").inner_text()
    assert ("<img src=x onerror=" in text) if doc_id == "evil.txt" else (
        "<b onmouseover=" in text)
    assert page.locator("#document a").count() == 0  # a javascript: url is no link
    assert_nothing_ran(page)
