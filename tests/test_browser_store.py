"""Conversations that last, in a real browser against the real model: kept over a reload
(bounded, and a stored value this page did not write ignored), cleared with an undo,
shared as a link that asks the question again after its history, and cited by a button
that copies the passage with its source."""

from __future__ import annotations

import json
import urllib.parse

import pytest

from tests.conftest import ask, watched_page

pytestmark = [pytest.mark.browser, pytest.mark.model]

ITEM = "qa-conversation"
PANTHER = "What happened at the Panther gun shop?"
DIED = "How many people died there?"
SHIBUTOV = "Who is Marat Shibutov?"


@pytest.fixture
def context(browser, real_server):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=real_server.url)
    yield context
    context.close()


@pytest.fixture
def page(context, real_server):
    page = watched_page(context)
    page.goto(real_server.url + "/")
    yield page
    assert page.errors == [] and page.dialogs == []


def stored(page):
    raw = page.evaluate(f"localStorage.getItem('{ITEM}')")
    return None if raw is None else json.loads(raw)


def asked(page) -> list[str]:
    return page.locator(".turn .question .asked").all_inner_texts()


def test_the_conversation_survives_a_reload(page):
    ask(page, PANTHER)
    first = ask(page, DIED).locator(".card").first.inner_text()
    page.reload()
    page.locator(".turn .card").first.wait_for(timeout=10_000)
    assert asked(page) == [PANTHER, DIED]
    last = page.locator(".turn").last
    assert last.locator(".card").first.inner_text() == first  # the answer as it was
    assert last.locator(".query-note").inner_text().startswith("Understood as:")
    assert page.locator("#intro").is_hidden()
    # The last answer is in view, its top just below the header.
    header = page.locator("header.top").bounding_box()
    assert 0 <= last.bounding_box()["y"] - (header["y"] + header["height"]) <= 24
    # The next question follows on from the restored ones.
    with page.expect_request("**/api/ask") as request:
        ask(page, SHIBUTOV)
    assert request.value.post_data_json["history"] == [PANTHER, DIED]
    assert [t["question"] for t in stored(page)["turns"]] == [PANTHER, DIED, SHIBUTOV]


def test_new_conversation_clears_with_an_undo(page):
    ask(page, PANTHER)
    page.click("#new-conversation")
    assert page.locator(".turn").count() == 0 and stored(page) is None
    assert page.locator("#intro").is_visible()
    undo = page.get_by_role("button", name="Undo")
    assert undo.is_visible()
    assert page.locator("#status").inner_text().startswith("Conversation cleared.")
    assert page.evaluate("document.activeElement.id") == "question"
    undo.click()
    assert asked(page) == [PANTHER] and undo.is_hidden()
    assert page.locator("#intro").is_hidden()
    assert [t["question"] for t in stored(page)["turns"]] == [PANTHER]
    page.reload()
    page.locator(".turn .card").first.wait_for(timeout=10_000)
    assert asked(page) == [PANTHER]
    # A new question lets the undo go: what was cleared stays cleared.
    page.click("#new-conversation")
    with page.expect_request("**/api/ask") as request:
        ask(page, SHIBUTOV)
    assert request.value.post_data_json["history"] == []
    assert undo.is_hidden() and asked(page) == [SHIBUTOV]


def test_the_undo_is_offered_for_ten_seconds(context, real_server):
    page = watched_page(context)
    page.clock.install()
    page.goto(real_server.url + "/")
    ask(page, SHIBUTOV)
    page.click("#new-conversation")
    undo = page.get_by_role("button", name="Undo")
    page.clock.run_for(9_000)
    assert undo.is_visible()
    page.clock.run_for(1_500)
    assert undo.is_hidden() and page.locator(".turn").count() == 0
    assert page.errors == []


@pytest.mark.parametrize("value", [
    "not json at all {",
    "null",
    "[1, 2, 3]",
    '{"version": 2, "turns": []}',
    '{"version": 1, "turns": "many"}',
    '{"version": 1, "turns": [{"question": 5}, null, "x"]}',
    '{"version": 1, "turns": [{"question": "Q", "history": [], "answer": {"passages": 7}}]}',
])
def test_a_corrupt_or_foreign_stored_value_is_ignored(page, value):
    page.evaluate("([item, value]) => localStorage.setItem(item, value)", [ITEM, value])
    page.reload()
    page.locator("#examples .example").first.wait_for(timeout=10_000)
    assert page.locator(".turn").count() == 0 and page.locator("#intro").is_visible()
    ask(page, SHIBUTOV)  # and the page works on, writing its own value over it
    assert [t["question"] for t in stored(page)["turns"]] == [SHIBUTOV]


def test_a_stored_turn_with_a_wrong_field_is_dropped_and_the_rest_kept(page):
    ask(page, PANTHER)
    ask(page, SHIBUTOV)
    data = stored(page)
    data["turns"][0]["answer"]["passages"][0]["paragraph"] = "<img src=x onerror=alert(1)>"
    data["turns"].append({**data["turns"][1], "question": "<script>alert(2)</script>"})
    page.evaluate("([item, value]) => localStorage.setItem(item, value)",
                  [ITEM, json.dumps(data)])
    page.reload()
    page.locator(".turn .card").first.wait_for(timeout=10_000)
    assert asked(page) == [SHIBUTOV, "<script>alert(2)</script>"]  # as text
    assert page.locator(".thread script, .thread img").count() == 0


def test_the_stored_conversation_is_bounded_to_the_last_50_turns(page):
    turn = ask(page, SHIBUTOV)
    one = stored(page)["turns"][0]
    many = [{**one, "question": f"Question {i}"} for i in range(60)]
    page.evaluate("([item, value]) => localStorage.setItem(item, value)",
                  [ITEM, json.dumps({"version": 1, "turns": many})])
    page.reload()
    page.locator(".turn").nth(49).wait_for(timeout=10_000)
    assert page.locator(".turn").count() == 50
    assert asked(page)[0] == "Question 10" and asked(page)[-1] == "Question 59"
    ask(page, PANTHER)
    turns = stored(page)["turns"]
    assert len(turns) == 50 and turns[0]["question"] == "Question 11"
    assert turns[-1]["question"] == PANTHER and turn is not None


def test_a_share_link_asks_the_question_again_after_its_history(page, context, real_server):
    ask(page, PANTHER)
    turn = ask(page, DIED)
    share = turn.locator("a.share")
    href = share.get_attribute("href")
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(href).query)
    assert query == {"q": [DIED], "h": [PANTHER]}
    share.click()  # a plain click copies the link, for sending on
    assert page.evaluate("navigator.clipboard.readText()") == real_server.url + href
    assert page.locator("#status").inner_text().startswith("Link copied")
    assert page.url == real_server.url + "/"  # and goes nowhere

    # Opened (here in the same browser, so over a stored conversation): the question is
    # asked with its history; the conversation there is set aside, with an undo.
    other = watched_page(context)
    with other.expect_request("**/api/ask") as request:
        other.goto(real_server.url + href)
    assert request.value.post_data_json == {"question": DIED, "history": [PANTHER]}
    shared = other.locator(".turn").last
    shared.locator(".answer:not(.pending)").wait_for(timeout=30_000)
    assert asked(other) == [DIED]
    assert "Panther" in shared.locator(".card").first.inner_text()
    assert shared.locator(".query-note").inner_text().startswith("Understood as:")
    assert other.url == real_server.url + "/"  # a reload does not ask again
    assert "put aside" in other.locator("#status").inner_text()
    other.get_by_role("button", name="Undo").click()
    assert asked(other) == [PANTHER, DIED]
    assert other.errors == []


def test_a_share_link_carries_the_filters_and_is_read_as_untrusted_text(page, real_server):
    markup = "<img src=x onerror=alert(1)>"
    params = [("q", f"{markup} How many died?"), *(("h", f"earlier {i}") for i in range(12)),
              ("h", "x" * 3000), ("source", "RT"), ("from", "2016-06-01"),
              ("to", "not a date")]
    with page.expect_request("**/api/ask") as request:
        page.goto(real_server.url + "/?" + urllib.parse.urlencode(params))
    body = request.value.post_data_json
    assert body["question"] == f"{markup} How many died?"
    assert len(body["history"]) == 10 and body["history"][-1] == "x" * 1000
    assert body["filters"] == {"sources": ["RT"], "date_from": "2016-06-01"}
    turn = page.locator(".turn").last
    turn.locator(".answer:not(.pending)").wait_for(timeout=30_000)
    assert turn.locator(".asked").inner_text() == f"{markup} How many died?"
    assert page.locator(".thread img").count() == 0
    assert {b.inner_text() for b in turn.locator(".card .badge").all()} == {"RT"}
    assert page.locator("#filters-toggle").inner_text() == "Filters: RT; from 2016-06-01"


def test_copy_citation_copies_the_passage_quoted_with_its_source(page, real_server):
    def paged(route):
        response = route.fetch()
        body = response.json()
        body["passages"][0]["page"] = 2
        route.fulfill(response=response, json=body)

    page.route("**/api/ask", paged)
    turn = ask(page, "When did the attack on the Pallas gun store start?")
    card = turn.locator(".card").first
    button = card.get_by_role("button", name="Copy citation")
    button.click()
    copied = page.evaluate("navigator.clipboard.readText()")
    text = card.locator(".passage").inner_text()
    source, meta = card.locator(".badge").inner_text(), card.locator(".card-meta").inner_text()
    title = card.locator(".card-title a").evaluate("a => a.firstChild.textContent")
    href = card.locator(".card-title a").get_attribute("href")
    date, paragraph = meta.split(" · ")[0], meta.split(" · ")[-1]
    assert copied == (f"“{text}”\n— {source}, {date}, “{title}”, p. 2, {paragraph}. "
                      f"{real_server.url}{href}")
    assert button.get_attribute("data-citation") == copied
    assert page.locator("#status").inner_text().startswith("Citation copied")
