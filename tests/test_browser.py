"""The chat page in a real browser: Playwright driving Debian's chromium."""

from __future__ import annotations

import json
import re
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import ask

pytestmark = [pytest.mark.browser, pytest.mark.model]

OUTPUT = Path(__file__).parent.parent / "test-output"


@pytest.fixture
def page(browser, real_server):
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    page = context.new_page()
    page.dialogs = []
    page.errors = []
    page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.on("console", lambda m: m.type == "error" and page.errors.append(m.text))
    page.goto(real_server.url + "/")
    yield page
    assert page.errors == [], page.errors  # no script errors, no CSP violations
    context.close()


def test_a_question_gets_attributed_cards_with_the_answer_marked(page):
    turn = ask(page, "When did the attack on the Pallas gun store start?")
    first = turn.locator(".card").first
    assert first.locator(".badge").inner_text() in {"Caravanserai", "Vestnik Kavkaza"}
    assert "paragraph" in first.locator(".card-meta").inner_text()
    mark = first.locator("mark").inner_text()
    assert "2.28pm" in mark or "14:28" in mark
    link = first.locator(".card-title a")
    assert "/documents/" in link.get_attribute("href") and "#p" in link.get_attribute("href")
    assert "Answer:" in page.locator("#status").inner_text()
    OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT / "chat-answer.png"), full_page=True)


@pytest.mark.parametrize("width, height", [(1280, 900), (390, 844)])
def test_reports_that_disagree_are_compared_in_a_compact_table(
        browser, real_server, width, height):
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.goto(real_server.url + "/")
    turn = ask(page, "How many people were injured in Aktobe?")
    OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT / f"chat-disagreement-{width}px.png"))
    table = turn.locator(".sources")
    heading = table.locator(".sources-label").inner_text()
    assert heading.startswith("Sources give different figures:")
    assert "22" in heading and "38" in heading  # the reports' differing figures
    rows = table.locator("tbody tr")
    assert rows.count() >= 2
    names = [row.locator(".badge").inner_text() for row in rows.all()]
    assert len(set(names)) == len(names)  # one row per report
    for row in rows.all():
        assert row.is_visible()
        value = row.locator(".compare-value").inner_text()
        assert value and len(value) < 20  # the figure, not the passage again
        assert "/documents/" in row.locator(".compare-value a").get_attribute("href")
    box = table.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= width  # no sideways scrolling
    assert box["height"] < 60 + 40 * rows.count(), box  # compact: a line a report
    cards = turn.locator(".card")
    highlights = " ".join(cards.nth(i).locator("mark").inner_text()
                          for i in range(cards.count()) if cards.nth(i).locator("mark").count())
    assert highlights and highlights[:40] not in table.inner_text()  # no repeated text
    context.close()


def test_sources_that_agree_on_a_date_say_so_in_one_line_that_fits_a_phone(
        browser, real_server):
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(real_server.url + "/")
    turn = ask(page, "When did the attack on the Pallas gun store start?")
    table = turn.locator(".sources")
    assert table.locator(".sources-label").inner_text().startswith("2 sources agree:")
    values = [v.inner_text() for v in table.locator(".compare-value").all()]
    assert any("2.28pm" in v for v in values) and any("14:28" in v for v in values)
    for cell in table.locator("th, td").all():
        box = cell.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390, cell.inner_text()
    context.close()


def test_a_question_that_asks_no_figure_has_no_table(page):
    turn = ask(page, "Who is Marat Shibutov?")
    assert turn.locator(".sources").count() == 0


def test_a_follow_up_sends_the_history(page):
    ask(page, "What happened at the Panther gun shop?")
    with page.expect_request("**/api/ask") as request:
        turn = ask(page, "How many people died there?")
    assert request.value.post_data_json["history"] == ["What happened at the Panther gun shop?"]
    assert "Panther" in turn.locator(".card").first.inner_text()
    assert turn.locator(".query-note").inner_text() == (
        "Understood as: “How many people died there?” following on from “What happened at "
        "the Panther gun shop?”")
    assert "context:" not in turn.inner_text()  # the search text's form is no reader's business


def test_new_conversation_clears_the_history(page):
    ask(page, "What happened at the Panther gun shop?")
    page.click("#new-conversation")
    assert page.locator(".turn").count() == 0
    assert page.evaluate("document.activeElement.id") == "question"
    with page.expect_request("**/api/ask") as request:
        ask(page, "Who is Marat Shibutov?")
    assert request.value.post_data_json["history"] == []


def test_an_unanswerable_question_says_the_documents_do_not_answer(page):
    turn = ask(page, "Who won the football World Cup in 2014?")
    assert "do not answer" in turn.locator(".notice").inner_text()
    assert turn.locator(".confidence").inner_text().startswith("weak match")
    assert turn.locator(".card").count() == 5


def test_an_answer_says_how_sure_it_is_in_words(page):
    turn = ask(page, "How many people were killed in the Aktobe attacks?")
    words = turn.locator(".confidence .match")
    assert turn.locator(".confidence").inner_text() in (
        "strong match", "good match", "possible match")  # words only, no figure
    tip = turn.locator(".confidence [role=tooltip]")
    assert not tip.is_visible()
    words.hover()  # the figure on hover...
    assert tip.is_visible() and tip.inner_text().startswith("confidence ")
    assert "%" in tip.inner_text()
    page.mouse.move(0, 0)
    assert not tip.is_visible()
    words.focus()  # ... and on keyboard focus, named as the words' description
    assert tip.is_visible()
    assert words.get_attribute("aria-describedby") == tip.get_attribute("id")
    page.keyboard.press("Escape")  # dismissible without moving the focus (WCAG 1.4.13)
    assert not tip.is_visible()


def test_cards_show_no_ranker_internals_and_one_link(page):
    turn = ask(page, "How many people were injured in Aktobe?")
    shown = turn.inner_text()
    assert "score" not in shown and not re.search(r"#\d", shown)
    for card in turn.locator(".card").all():
        also = card.locator(".also-in a").count()
        assert card.locator("a").count() == 1 + also  # the title; nothing else goes there
        # Its name, out of context (a screen reader's list of links), says where it leads.
        title = card.locator(".card-title a").evaluate("a => a.firstChild.textContent")
        badge = card.locator(".badge").inner_text()
        # ("/" escaped too: Playwright writes the pattern into a /.../ selector as it is.)
        name = re.compile((re.escape(title) + r"\s*, " + re.escape(badge) + r", paragraph \d+")
                          .replace("/", r"\/"))
        assert card.get_by_role("link", name=name).count() == 1


def test_the_input_bar_is_as_wide_as_the_conversation(page):
    ask(page, "Who is Marat Shibutov?")
    thread = page.locator("#thread").bounding_box()
    field = page.locator("#question").bounding_box()
    send = page.locator("#send").bounding_box()
    assert abs(field["x"] - thread["x"]) <= 2
    assert abs(send["x"] + send["width"] - (thread["x"] + thread["width"])) <= 2
    assert page.locator("#ask-form").bounding_box()["width"] < 1100 * 0.8


QUESTIONS = [
    "When did the attack on the Pallas gun store start?",
    "How many people were injured in Aktobe?",
    "How many people died there?",  # a follow-up: an "Understood as" line above its cards
    "Who won the football World Cup in 2014?",  # a decline: its notice above its cards
    "Who is Marat Shibutov?",
]


@pytest.mark.parametrize("served", ["one collection", "two collections"])
@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("width, height", [(1280, 900), (390, 844)])
def test_each_new_answer_is_in_view_below_the_header_and_above_the_input(
        browser, request, width, height, scheme, served):
    # Two collections: the collection selector shows too, and must not push answers out.
    two = served == "two collections"
    server = request.getfixturevalue("collections_server" if two else "real_server")
    context = browser.new_context(viewport={"width": width, "height": height},
                                  color_scheme=scheme)
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.goto(server.url + ("/?collection=library" if two else "/"))
    if two:
        page.get_by_label("Collection").wait_for(timeout=10_000)
    for number, question in enumerate(QUESTIONS, 1):
        turn = ask(page, question)
        header = page.locator("header.top").bounding_box()
        composer = page.locator("#ask-form").bounding_box()
        top = turn.bounding_box()["y"]
        card = turn.locator(".card").first.bounding_box()
        where = f"turn {number} at {width}x{height}: turn at {top:.0f}, first card at " \
                f"{card['y']:.0f}, header ends {header['y'] + header['height']:.0f}, " \
                f"input bar starts {composer['y']:.0f}"
        # The turn's top just below the header (or as high as the page can scroll: the small
        # collections' short answers may not fill the window), and its first card's top
        # above the input bar.
        at_end = page.evaluate("scrollY + innerHeight >= "
                               "document.documentElement.scrollHeight - 1")
        assert 0 <= top - (header["y"] + header["height"]) <= (height if two and at_end
                                                                 else 24), where
        assert header["y"] + header["height"] < card["y"] < composer["y"] - 24, where
        assert composer["y"] + composer["height"] <= height + 1, where
        # What is drawn there is the card, not the input bar or the header over it.
        inside = page.evaluate("([x, y]) => !!document.elementFromPoint(x, y).closest('.card')",
                               [card["x"] + card["width"] / 2, card["y"] + 12])
        assert inside, where
    OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT / f"chat-fifth-answer-{width}px-{scheme}"
                                      f"{'-collections' if two else ''}.png"))
    assert page.errors == []
    context.close()


def test_the_examples_are_topics_from_the_served_documents(page, real_server):
    examples = page.locator("#examples .example")
    examples.first.wait_for(timeout=10_000)
    with urllib.request.urlopen(real_server.url + "/api/documents") as response:
        source_of = {d["title"]: d["source"] for d in json.load(response)["documents"]}
    shown = [example.inner_text() for example in examples.all()]
    assert 2 <= len(shown) <= 3 and set(shown) <= set(source_of)
    assert len({source_of[title] for title in shown}) == len(shown)  # a source each
    assert "Pallas gun store" not in page.locator("#intro").inner_text()  # nothing fixed
    assert not page.locator("#key-hint").is_visible()  # no keys on this server
    with page.expect_request("**/api/ask") as request:
        examples.first.click()  # a topic is asked as it stands
    assert request.value.post_data_json["question"] == shown[0]
    turn = page.locator(".turn").last
    turn.locator(".answer:not(.pending)").wait_for(timeout=30_000)
    assert turn.locator(".question .asked").inner_text() == shown[0]
    assert turn.locator(".card").count() >= 1


def test_a_collection_without_documents_offers_no_examples(page):
    # A build refuses a corpus that gives no passage: the empty listing is stubbed.
    empty = {"documents": [], "total": 0, "limit": 100, "offset": 0}
    page.route("**/api/documents?*", lambda route: route.fulfill(json=empty))
    with page.expect_response("**/api/documents?*"):
        page.reload()
    page.wait_for_load_state("networkidle")
    assert page.locator(".example").count() == 0 and page.locator("#examples").is_hidden()
    assert page.locator("#intro").is_visible()


def test_markup_in_a_question_is_shown_as_text_and_runs_nothing(page):
    question = "<img src=x onerror=alert(1)> <script>alert(2)</script>"
    turn = ask(page, question)
    assert turn.locator(".question .asked").inner_text() == question
    assert page.locator(".thread img, .thread script").count() == 0
    assert page.dialogs == []


def test_errors_from_the_api_appear_in_the_thread(page):
    page.fill("#question", "")
    page.evaluate("document.getElementById('question').removeAttribute('maxlength')")
    turn = ask(page, "x" * 1200)
    assert "longer than 1000" in turn.locator(".answer.error").inner_text()
    assert page.locator("#question").is_enabled()
    assert page.errors == ["Failed to load resource: the server responded with a status of "
                           "400 (BAD REQUEST)"]
    page.errors.clear()  # the one expected: the browser logs the 400 it got


def test_keyboard_only_use(page):
    page.keyboard.press("Tab")  # focus leaves the input, then comes back round
    page.focus("#question")
    page.keyboard.type("Who is Marat Shibutov?")
    page.keyboard.press("Enter")
    page.locator(".answer:not(.pending)").last.wait_for(timeout=30_000)
    assert page.evaluate("document.activeElement.id") == "question"  # focus returns
    page.keyboard.press("Shift+Tab")  # back from the input: the last card's link
    assert page.evaluate("document.activeElement.closest('.card') !== null")
    assert page.evaluate("document.activeElement.tagName") == "A"
    # The new-conversation control is reachable and works from the keyboard.
    page.focus("#new-conversation")
    page.keyboard.press("Enter")
    assert page.locator(".turn").count() == 0


def test_usable_at_360_pixels_wide(browser, real_server):
    context = browser.new_context(viewport={"width": 360, "height": 740})
    page = context.new_page()
    page.goto(real_server.url + "/")
    ask(page, "How long will the nationwide yellow alert last?")
    overflow = page.evaluate("document.documentElement.scrollWidth")
    assert overflow <= 360
    assert page.locator("#send").is_visible() and page.locator("#question").is_visible()
    OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT / "chat-360px.png"), full_page=True)
    context.close()


def test_a_citation_opens_the_document_at_its_paragraph(page, browser):
    turn = ask(page, "When did the attack on the Pallas gun store start?")
    href = turn.locator(".card-title a").first.get_attribute("href")
    paragraph = href.rsplit("#p", 1)[1]
    doc = page.context.new_page()
    doc.goto(page.url.rstrip("/") + href)
    target = doc.locator(f"#p{paragraph}")
    target.wait_for()
    assert "2.28pm" in target.inner_text() or "14:28" in target.inner_text()
    assert doc.evaluate("document.activeElement.id") == f"p{paragraph}"
    OUTPUT.mkdir(exist_ok=True)
    doc.screenshot(path=str(OUTPUT / "document.png"))


@pytest.mark.parametrize("confidence, shown", [(0.9996, "99%"), (0.0004, "1%"), (0.5, "50%")])
def test_confidence_is_never_shown_as_certain(page, confidence, shown):
    def sure(route):
        response = route.fetch()
        body = response.json()
        body["confidence"] = confidence
        route.fulfill(response=response, json=body)

    page.route("**/api/ask", sure)
    turn = ask(page, "When did the attack on the Pallas gun store start?")
    turn.locator(".confidence .match").focus()
    tip = turn.locator(".confidence [role=tooltip]")
    assert tip.is_visible() and tip.inner_text().startswith(f"confidence {shown}:")


def test_a_passage_from_a_paged_file_shows_its_page(page):
    def with_pages(route):
        response = route.fetch()
        body = response.json()
        for passage in body["passages"]:
            passage["page"] = 2  # as a PDF's passage would come
        route.fulfill(response=response, json=body)

    page.route("**/api/ask", with_pages)
    turn = ask(page, "When did the attack on the Pallas gun store start?")
    meta = turn.locator(".card").first.locator(".card-meta").inner_text()
    assert "p. 2" in meta and meta.index("p. 2") < meta.index("paragraph")
