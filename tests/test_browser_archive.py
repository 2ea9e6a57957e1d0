"""The archive browsable, in a real browser: /documents lists the documents (title linking
to the document view, source, date, passages), filtered by source, dates and any metadata
field, a page at a time; and the chat page's filters (sources, dates) go into each
question's `filters` from a compact control that keeps the answers in view."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import FAKE_MODEL, SIZES, LiveServer, ask, fake_index, watched_page

pytestmark = pytest.mark.browser

OUTPUT = Path(__file__).parent.parent / "test-output"


@pytest.fixture(scope="module")
def fixture_server(tmp_path_factory):
    """The test corpus (author, tags, three sources) served with the fake model."""
    settings = fake_index(tmp_path_factory.mktemp("archive"))
    server = LiveServer(settings.index_dir, env={"QA_MODEL": FAKE_MODEL})
    yield server
    server.stop()


def listing(server) -> dict:
    with urllib.request.urlopen(server.url + "/api/documents?limit=1000") as response:
        return json.load(response)


def open_list(context, url: str, console: bool = True):
    page = watched_page(context, console=console)
    page.goto(url)
    page.locator("#archive-status:not(:has-text('Loading'))").wait_for(timeout=10_000)
    return page


def rows(page) -> list[dict]:
    return [{"title": row.locator(".doc-row-title a").inner_text(),
             "href": row.locator(".doc-row-title a").get_attribute("href"),
             "source": row.locator(".badge").inner_text(),
             "date": row.locator(".doc-row-date").inner_text(),
             "count": row.locator(".doc-row-count").inner_text()}
            for row in page.locator(".doc-row").all()]


@pytest.mark.model
@pytest.mark.parametrize("context", list(SIZES), indirect=True)
def test_the_documents_page_lists_every_document(context, real_server):
    width, _ = context.size
    page = open_list(context, real_server.url + "/documents")
    documents = listing(real_server)["documents"]
    assert rows(page) == [{
        "title": d["title"], "href": f"/documents/{d['doc_id']}", "source": d["source"],
        "date": d["date"], "count": f"{d['paragraph_count']} passages"} for d in documents]
    assert page.locator("#archive-status").inner_text() == "Documents 1–5 of 5."
    assert page.locator("#pager").is_hidden()  # one page
    for row in page.locator(".doc-row").all():
        box = row.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= width
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    # The filters open beside the list on a wide screen, folded above it on a phone.
    filters = page.locator("#archive-filters")
    assert filters.is_visible() == (width >= 768)
    OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT / f"documents-{width}px.png"), full_page=True)
    page.locator(".doc-row-title a").first.click()
    page.locator("#document h1").wait_for(timeout=10_000)
    assert page.locator("#document h1").inner_text() == documents[0]["title"]
    assert page.errors == []


@pytest.mark.model
@pytest.mark.parametrize("context", list(SIZES), indirect=True)
def test_the_documents_page_filters_by_source_and_dates(context, real_server):
    page = open_list(context, real_server.url + "/documents")
    if not page.locator("#archive-filters").is_visible():
        page.locator("#filter-box summary").click()
    page.get_by_label("RT").check()
    page.get_by_label("RFE/RL").check()
    page.get_by_role("button", name="Apply").click()
    page.locator(".doc-row").first.wait_for(timeout=10_000)
    assert sorted(r["source"] for r in rows(page)) == ["RFE/RL", "RT"]
    assert "source=RT" in page.url and "source=RFE%2FRL" in page.url
    assert page.locator("#archive-status").inner_text() == \
        "Documents 1–2 of 2 matching the filters."
    assert page.locator("#filter-summary").inner_text() == ": RFE/RL, RT"
    assert page.get_by_label("RT").is_checked()  # the form shows what is applied
    page.get_by_label("RT").uncheck()
    page.get_by_label("RFE/RL").uncheck()
    page.fill("#date-from", "2016-07-01")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url("**date_from=2016-07-01")
    page.locator("#archive-status:has-text('matching')").wait_for(timeout=10_000)
    assert [r["source"] for r in rows(page)] == ["bne IntelliNews"]
    page.get_by_role("button", name="Clear").click()
    page.wait_for_url("**/documents")
    page.locator("#archive-status:has-text('of 5.')").wait_for(timeout=10_000)
    assert len(rows(page)) == 5
    assert page.errors == []


def test_the_documents_page_filters_by_any_metadata_field(context, fixture_server):
    page = open_list(context, fixture_server.url + "/documents")
    options = page.locator("#field-name option").all_inner_texts()
    assert options == ["(choose a field)", "author", "tags"]
    page.select_option("#field-name", "tags")
    suggested = page.locator("#field-values option").evaluate_all(
        "options => options.map(o => o.value)")
    assert suggested == ["flood", "transport"]
    page.fill("#field-value", "flood")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url("**value=flood")
    page.locator("#archive-status:has-text('matching')").wait_for(timeout=10_000)
    assert [r["href"] for r in rows(page)] == ["/documents/flood.txt"]
    assert page.locator("#filter-summary").inner_text() == ": tags: flood"
    assert page.locator("#field-name").input_value() == "tags"
    assert page.errors == []


def test_the_documents_page_is_paged(context, fixture_server):
    page = open_list(context, fixture_server.url + "/documents?limit=2")
    assert [r["href"] for r in rows(page)] == ["/documents/flood.txt",
                                                "/documents/more/museum.html"]
    pager = page.locator("#pager")
    assert pager.is_visible() and page.locator("#page-of").inner_text() == "Page 1 of 2"
    assert page.locator("#prev").get_attribute("href") is None  # nowhere to go
    page.locator("#next").click()
    page.wait_for_url("**offset=2")
    page.locator("#archive-status:has-text('3–3')").wait_for(timeout=10_000)
    assert [r["href"] for r in rows(page)] == ["/documents/more/orchard.md"]
    assert page.locator("#page-of").inner_text() == "Page 2 of 2"
    assert page.locator("#next").get_attribute("href") is None
    assert page.locator("#archive-list").get_attribute("start") == "3"
    page.locator("#prev").click()
    page.wait_for_url("**/documents?limit=2")
    assert page.errors == []


def test_a_filter_value_no_document_has_says_which_exist(context, fixture_server):
    page = open_list(context, fixture_server.url + "/documents?source=nobody", console=False)
    alert = page.locator("#archive-status [role=alert]")
    assert "no document has source 'nobody'; its values are: City Arts Weekly" in \
        alert.inner_text()
    assert page.locator("#archive-filters").is_visible()
    assert page.errors == []


def test_the_documents_page_is_reached_from_the_chat_page(context, fixture_server):
    page = watched_page(context)
    page.goto(fixture_server.url + "/")
    page.get_by_role("link", name="All documents").click()
    page.wait_for_url("**/documents")
    page.locator(".doc-row").first.wait_for(timeout=10_000)
    assert len(rows(page)) == 3
    assert page.errors == []


@pytest.mark.model
@pytest.mark.parametrize("context", list(SIZES), indirect=True)
def test_the_chat_filters_go_into_the_question(context, real_server):
    width, height = context.size
    page = watched_page(context)
    page.goto(real_server.url + "/")
    toggle = page.get_by_role("button", name="Filters")
    composer = page.locator("#ask-form").bounding_box()
    assert composer["height"] < 120  # compact: one line more than the status, no more
    toggle.click()
    panel = page.locator("#filters-panel")
    panel.locator(".source-list li").first.wait_for(timeout=10_000)
    box = panel.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= width  # over the conversation,
    assert box["y"] >= 0 and box["y"] + box["height"] <= composer["y"] + 1  # above the bar
    sources = panel.locator(".source-list label").all_inner_texts()
    assert [s.split(" (")[0] for s in sources] == [
        d["source"] for d in sorted(listing(real_server)["documents"],
                                    key=lambda d: d["source"])]
    OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT / f"chat-filters-{width}px.png"))
    panel.get_by_label("RT").check()
    page.fill("#filter-to", "2016-06-30")
    panel.get_by_role("button", name="Done").click()
    assert panel.is_hidden()
    assert toggle.inner_text() == "Filters: RT; until 2016-06-30"
    with page.expect_request("**/api/ask") as request:
        turn = ask(page, "How many people were killed in the Aktobe attacks?")
    assert request.value.post_data_json["filters"] == {"sources": ["RT"],
                                                       "date_to": "2016-06-30"}
    assert {b.inner_text() for b in turn.locator(".card .badge").all()} == {"RT"}
    assert turn.locator(".filter-note").inner_text() == \
        "Searched only: RT; until 2016-06-30"
    # The answer in view, below the header and above the input bar, filters or not.
    header = page.locator("header.top").bounding_box()
    card = turn.locator(".card").first.bounding_box()
    composer = page.locator("#ask-form").bounding_box()
    assert header["y"] + header["height"] < card["y"] < composer["y"] - 24
    # Cleared, the next question goes without them.
    toggle.click()
    panel.get_by_role("button", name="Clear filters").click()
    page.keyboard.press("Escape")
    assert toggle.inner_text() == "Filters"
    with page.expect_request("**/api/ask") as request:
        ask(page, "Who is Marat Shibutov?")
    assert "filters" not in request.value.post_data_json
    assert page.errors == []
