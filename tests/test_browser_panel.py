"""Citations opened in place, in a real browser against the real model: the document
beside the conversation (a side panel at 1280 px, a bottom sheet at 390 px) at the cited
paragraph with the answering sentence marked, its page and metadata shown; Escape or Close
gives the reader back the conversation where it was; a direct address still works alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import SIZES, ask, watched_page

pytestmark = [pytest.mark.browser, pytest.mark.model]

OUTPUT = Path(__file__).parent.parent / "test-output"
PALLAS = "When did the attack on the Pallas gun store start?"


@pytest.fixture
def page(browser, real_server, request):
    width, height = SIZES[getattr(request, "param", "1280x900")]
    context = browser.new_context(viewport={"width": width, "height": height})
    page = watched_page(context)
    page.size = (width, height)
    page.goto(real_server.url + "/")
    yield page
    assert page.errors == [] and page.dialogs == []
    context.close()


def is_focused(locator) -> bool:
    return locator.evaluate("e => e === document.activeElement")


def fields_of(root) -> dict[str, str]:
    """The metadata shown, name: value, as a reader reads it."""
    return {row.locator("dt").inner_text(): row.locator("dd").inner_text()
            for row in root.locator(".doc-fields > div").all()}


def within(inner: dict, outer: dict, slack: float = 1) -> bool:
    return (inner["x"] >= outer["x"] - slack and inner["y"] >= outer["y"] - slack
            and inner["x"] + inner["width"] <= outer["x"] + outer["width"] + slack
            and inner["y"] + inner["height"] <= outer["y"] + outer["height"] + slack)


@pytest.mark.parametrize("page", list(SIZES), indirect=True)
def test_a_citation_opens_beside_the_conversation_and_closes_back_to_it(page):
    width, height = page.size
    turn = ask(page, PALLAS)
    card = turn.locator(".card").first
    link = card.locator(".card-title a")
    href = link.get_attribute("href")
    paragraph = href.rsplit("#p", 1)[1]
    sentence = card.locator("mark").inner_text()
    source, meta = card.locator(".badge").inner_text(), card.locator(".card-meta").inner_text()
    before = link.bounding_box()["y"]
    link.click()

    panel = page.locator("#doc-panel")
    cited = panel.locator("li.cited")
    cited.wait_for(timeout=10_000)
    box = panel.bounding_box()
    if width >= 960:  # beside the conversation, which narrows rather than hides under it
        assert box["x"] + box["width"] == width and box["y"] == 0 and box["height"] == height
        thread, composer = page.locator("#thread").bounding_box(), \
            page.locator("#ask-form").bounding_box()
        assert thread["x"] + thread["width"] <= box["x"], (thread, box)
        assert composer["x"] + composer["width"] <= box["x"] + 1, (composer, box)
        assert thread["width"] > 500
    else:  # a sheet over the lower part of the window, the conversation's top still seen
        assert box["x"] == 0 and box["width"] == width
        assert box["y"] + box["height"] == height and height * 0.15 < box["y"] < height * 0.4
    # At the cited paragraph, in view, its answering sentence marked, and focused.
    body = panel.locator(".doc-panel-body").bounding_box()
    shown = cited.bounding_box()
    assert body["y"] <= shown["y"] < body["y"] + body["height"] / 2, (shown, body)
    assert cited.get_attribute("id") == f"panel-p{paragraph}"
    assert cited.locator("mark").inner_text() == sentence
    assert cited.locator(".cited-label").inner_text() == f"Cited: paragraph {paragraph}"
    assert is_focused(cited)
    # The document's metadata, in view with it: source and date as the card gave them.
    fields = panel.locator(".doc-fields")
    assert within(fields.bounding_box(), box)
    shown_fields = fields_of(panel)
    assert shown_fields["Source"] == source and shown_fields["Date"] == meta.split(" · ")[0]
    assert panel.locator("#doc-panel-title").inner_text() == \
        link.evaluate("a => a.firstChild.textContent")
    assert panel.locator(".doc-panel-full").get_attribute("href") == href
    OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT / f"chat-document-panel-{width}px.png"))

    page.keyboard.press("Escape")
    assert panel.is_hidden()
    assert is_focused(link)  # back to the link that opened it...
    assert abs(link.bounding_box()["y"] - before) <= 1  # ... the conversation where it was
    assert page.evaluate("document.body.classList.contains('panel-open')") is False


@pytest.mark.parametrize("page", list(SIZES), indirect=True)
def test_a_disagreement_value_opens_its_passage_in_place_and_close_returns(page):
    turn = ask(page, "How many people were injured in Aktobe?")
    row = turn.locator(".sources tbody tr").nth(1)
    value = row.locator(".compare-value a")
    source = row.locator(".badge").inner_text()
    paragraph = value.get_attribute("href").rsplit("#p", 1)[1]
    card = turn.locator(".card", has=page.locator(f'a[href$="#p{paragraph}"]')).filter(
        has_text=source).first
    before = value.bounding_box()["y"]
    value.click()
    cited = page.locator("#doc-panel li.cited")
    cited.wait_for(timeout=10_000)
    assert cited.get_attribute("data-paragraph") == paragraph
    assert cited.locator("mark").inner_text() == card.locator("mark").inner_text()
    assert value.inner_text() in cited.locator("mark").inner_text()
    page.locator("#doc-panel").get_by_role("button", name="Close").click()
    assert page.locator("#doc-panel").is_hidden()
    assert is_focused(value)
    assert abs(value.bounding_box()["y"] - before) <= 1


def test_another_citation_replaces_the_document_and_focus_returns_to_the_last(page):
    turn = ask(page, PALLAS)
    first, second = (turn.locator(".card-title a").nth(i) for i in (0, 2))
    first.click()
    page.locator("#doc-panel li.cited").wait_for(timeout=10_000)
    second.click()
    cited = page.locator("#doc-panel li.cited")
    paragraph = second.get_attribute("href").rsplit("#p", 1)[1]
    page.wait_for_function("p => document.querySelector('#doc-panel li.cited')"
                           "?.dataset.paragraph === p", arg=paragraph)
    assert cited.count() == 1
    page.keyboard.press("Escape")
    assert is_focused(second)


@pytest.mark.parametrize("how", ["ctrl-click", "middle-click"])
def test_a_modified_click_still_opens_the_full_page_in_a_new_tab(page, how):
    turn = ask(page, PALLAS)
    link = turn.locator(".card-title a").first
    href = link.get_attribute("href")
    with page.context.expect_page() as opened:
        if how == "ctrl-click":
            link.click(modifiers=["Control"])
        else:
            link.click(button="middle")
    tab = opened.value
    tab.wait_for_load_state()
    assert tab.url.endswith(href)
    tab.locator("li.cited").wait_for(timeout=10_000)
    assert page.locator("#doc-panel").is_hidden()  # the conversation's tab is left as it was


def test_a_paged_document_shows_its_pages_and_every_metadata_field(page):
    def paged_answer(route):
        response = route.fetch()
        body = response.json()
        for passage in body["passages"]:
            passage["page"] = 2
        route.fulfill(response=response, json=body)

    def paged_document(route):
        response = route.fetch()
        body = response.json()
        for p in body["paragraphs"]:  # as a PDF's would come: a page every five paragraphs
            p["page"] = 1 + (p["paragraph"] - 1) // 5
        body["metadata"] = {"author": "Jane <b>Example</b>", "tags": ["flood", "transport"]}
        body["url"] = "https://example.org/report"
        route.fulfill(response=response, json=body)

    page.route("**/api/ask", paged_answer)
    page.route("**/api/documents/*", paged_document)
    turn = ask(page, PALLAS)
    link = turn.locator(".card-title a").first
    paragraph = int(link.get_attribute("href").rsplit("#p", 1)[1])
    link.click()
    panel = page.locator("#doc-panel")
    cited = panel.locator("li.cited")
    cited.wait_for(timeout=10_000)
    page_number = 1 + (paragraph - 1) // 5
    assert cited.locator(".cited-label").inner_text() == \
        f"Cited: paragraph {paragraph} · page {page_number}"
    marks = panel.locator(".page-mark").all_inner_texts()
    assert marks[:2] == ["Page 1", "Page 2"]
    fields = fields_of(panel)
    assert fields["Author"] == "Jane <b>Example</b>"  # as text
    assert fields["Tags"] == "flood, transport"
    assert fields["Original"] == "https://example.org/report"
    assert panel.locator(".doc-fields b").count() == 0


def test_a_direct_document_address_marks_its_paragraph_on_its_own(browser, real_server):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = watched_page(context)
    page.goto(real_server.url + "/documents/001_fab80aa84b93b8a8.txt#p7")
    cited = page.locator("#p7")
    cited.wait_for(timeout=10_000)
    assert "cited" in cited.get_attribute("class")
    assert cited.locator(".cited-label").inner_text() == "Cited: paragraph 7"
    assert cited.evaluate("e => e === document.activeElement")
    box = cited.bounding_box()
    assert 0 <= box["y"] and box["y"] + box["height"] <= 900  # in view

    def background(selector: str) -> str:
        return page.eval_on_selector(selector, "e => getComputedStyle(e).backgroundColor")

    assert background("#p7") != background("#p6")  # what a reader sees: it stands out
    assert fields_of(page)["Source"] == "Caravanserai"
    page.evaluate("location.hash = '#p3'")  # another paragraph named: it is marked instead
    page.wait_for_function("document.querySelector('#p3').classList.contains('cited')")
    assert page.locator("li.cited").count() == 1
    assert page.errors == []
    context.close()
