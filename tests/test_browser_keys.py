"""The pages against a server with API keys, in a real browser: they ask for the key on a
401, keep it for the tab only and send it as a Bearer header."""

from __future__ import annotations

import pytest

from tests.conftest import API_KEY as KEY
from tests.conftest import open_page

pytestmark = pytest.mark.browser


@pytest.fixture
def context(browser):
    context = browser.new_context()
    context.errors = []
    yield context
    context.close()


def submit_key(page, key: str, expect: str):
    dialog = page.locator("dialog.key-dialog", has_text=expect)
    dialog.wait_for(timeout=10_000)
    assert dialog.locator("input").get_attribute("type") == "password"
    dialog.locator("input").fill(key)
    dialog.locator("input").press("Enter")
    dialog.wait_for(state="detached", timeout=10_000)


def ask(page, question: str):
    page.fill("#question", question)
    page.press("#question", "Enter")


def test_the_chat_page_asks_for_the_key_and_keeps_it_for_the_tab(keyed_server, context):
    page = open_page(context, keyed_server.url + "/")
    ask(page, "Who directs the museum?")
    submit_key(page, "a-wrong-key", "needs an API key")
    submit_key(page, KEY, "was not accepted")
    page.locator(".turn .answer:not(.pending)").wait_for(timeout=30_000)
    assert page.locator(".turn .card").count() >= 1
    assert page.evaluate("sessionStorage.getItem('qa-api-key')") == KEY
    assert page.evaluate("localStorage.length") == 0 and context.cookies() == []
    # The conversation is kept as the key is, for the tab only: what a keyed server
    # answered does not outlive the key in the browser.
    assert page.evaluate("JSON.parse(sessionStorage.getItem('qa-conversation'))"
                         ".turns[0].question") == "Who directs the museum?"
    # The next question, and the page after a reload, send the key without asking.
    with page.expect_request("**/api/ask") as request:
        ask(page, "What about the bridge?")
    assert request.value.headers["authorization"] == f"Bearer {KEY}"
    # Its answer in (and so stored) before the reload, which would otherwise race it.
    page.locator(".turn:nth-of-type(2) .answer:not(.pending)").wait_for(timeout=30_000)
    page.reload()
    page.locator(".turn .card").first.wait_for(timeout=10_000)  # the conversation too
    assert page.locator(".turn").count() == 2
    with page.expect_request("**/api/ask") as request:
        ask(page, "Who directs the museum?")
    assert request.value.headers["authorization"] == f"Bearer {KEY}"
    page.locator(".turn .answer:not(.pending)").last.wait_for(timeout=30_000)
    assert page.locator("dialog").count() == 0
    assert page.evaluate("localStorage.length") == 0
    # Another tab has its own storage: it asks again.
    other = open_page(context, keyed_server.url + "/")
    ask(other, "Who directs the museum?")
    other.locator("dialog.key-dialog").wait_for(timeout=10_000)
    assert context.errors == []


def test_cancelling_the_key_dialog_says_a_key_is_needed(keyed_server, context):
    page = open_page(context, keyed_server.url + "/")
    ask(page, "Who directs the museum?")
    page.locator("dialog.key-dialog").wait_for(timeout=10_000)
    page.keyboard.press("Escape")
    alert = page.locator(".turn .answer.error [role=alert]")
    alert.wait_for(timeout=10_000)
    assert "needs an API key" in alert.inner_text()
    assert context.errors == []


def test_the_document_page_asks_for_the_key_too(keyed_server, context):
    page = open_page(context, keyed_server.url + "/documents/more/museum.html#p1")
    submit_key(page, KEY, "needs an API key")
    page.locator("#document h1").wait_for(timeout=10_000)
    assert page.locator("#document li").count() >= 1
    assert context.errors == []


def test_the_chat_page_says_a_key_is_needed_before_the_first_question(keyed_server, context):
    page = open_page(context, keyed_server.url + "/")
    hint = page.locator("#key-hint")
    hint.wait_for(state="visible", timeout=10_000)
    assert "needs an API key" in hint.inner_text()
    assert page.locator("dialog").count() == 0  # told, not yet asked
    assert not page.locator("#examples").is_visible()  # the listing needs the key too
    page.get_by_role("button", name="Enter the key now").click()
    submit_key(page, KEY, "needs an API key")
    hint.wait_for(state="hidden", timeout=10_000)
    examples = page.locator("#examples .example")
    examples.first.wait_for(timeout=10_000)
    assert 2 <= examples.count() <= 3  # the served documents' titles, once the key is in
    assert page.evaluate("document.activeElement.id") == "question"
    assert context.errors == []
