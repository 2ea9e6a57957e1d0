"""Document addresses in a real browser: odd file names open, bad addresses say so."""

from __future__ import annotations

import pytest

from tests.conftest import serve_files, watched_page

pytestmark = pytest.mark.browser

NEWLINE_NAME = "ferry\nnotice.txt"
TEXT = ("The harbour ferry timetable changes in the spring, the port authority said on "
        "Monday, and the first boat will leave at six in the morning from the old pier.")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    server = serve_files(tmp_path_factory.mktemp("addresses"), "odd", {
        NEWLINE_NAME: TEXT, "sub/a\nb.txt": TEXT.replace("ferry", "tram")})
    yield server
    server.stop()


@pytest.fixture
def page(browser):
    context = browser.new_context()
    yield watched_page(context, console=False)  # a missing document's 404 is expected
    context.close()


def test_a_cited_file_named_with_a_newline_opens_from_its_card(page, server):
    page.goto(server.url + "/")
    page.fill("#question", "When does the first harbour ferry boat leave?")
    page.press("#question", "Enter")
    page.locator(".answer:not(.pending)").last.wait_for(timeout=30_000)
    link = page.locator(".card-title a").filter(has_text="ferry").first
    assert "ferry%0Anotice.txt" in link.get_attribute("href")
    link.click()  # the card opens the document beside the conversation...
    page.locator("#doc-panel li.cited").wait_for(timeout=30_000)
    assert "first boat will leave at six" in page.locator("#doc-panel").inner_text()
    with page.context.expect_page() as opened:  # ... and in a new tab with Ctrl
        link.click(modifiers=["Control"])
    document = opened.value
    document.locator("#p1").wait_for(timeout=30_000)
    assert "first boat will leave at six" in document.locator("#document").inner_text()
    assert page.errors == []


def test_a_newline_in_a_folder_path_opens_too(page, server):
    page.goto(server.url + "/documents/sub/a%0Ab.txt#p1")
    page.locator("#p1").wait_for(timeout=30_000)
    assert "harbour tram timetable" in page.locator("#document").inner_text()
    assert page.errors == []


@pytest.mark.parametrize("address, says", [
    ("/documents/%E0%A4%A", "Bad address"),  # a malformed escape: no id at all
    ("/documents/%E0%A4%A/x.txt", "Bad address"),
    ("/documents/nowhere.txt", "no document 'nowhere.txt'"),
])
def test_a_bad_document_address_says_so_instead_of_loading_forever(page, server, address,
                                                                    says):
    page.goto(server.url + address)
    alert = page.locator("#document [role=alert]")
    alert.wait_for(timeout=10_000)
    assert says in alert.inner_text()
    assert "Loading" not in page.locator("#document").inner_text()
    assert page.locator("#document").get_attribute("aria-busy") == "false"
    assert page.errors == []
