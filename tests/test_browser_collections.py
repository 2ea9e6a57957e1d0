"""The pages on a server with several collections, in a real browser: a selector chooses
the collection (only when there is more than one), every request the pages send names it,
and the choice lives in the address, so that a reload, a link or a share keeps it."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.conftest import (
    ADMIN_KEY,
    FAKE_MODEL,
    HARBOUR,
    LIBRARY,
    LiveServer,
    ask,
    fake_index,
    serve_collections,
    watched_page,
)

pytestmark = pytest.mark.browser

HARBOUR_TITLES = {"Mooring fees", "Ferry times"}
LIBRARY_TITLES = {"Opening of the library", "Books and maps"}


@pytest.fixture(scope="module")
def one_server(tmp_path_factory):
    """The test corpus alone: one collection, `default`."""
    settings = fake_index(tmp_path_factory.mktemp("one-collection"))
    server = LiveServer(settings.index_dir, env={"QA_MODEL": FAKE_MODEL})
    yield server
    server.stop()


def open_chat(context, url: str):
    """The chat page, once its topics are shown; its API requests in `page.api`."""
    page = watched_page(context)
    page.api = []
    page.on("request", lambda r: "/api/" in r.url and page.api.append(r))
    page.goto(url)
    page.locator("#examples .example").first.wait_for(timeout=10_000)
    return page


def chosen(page) -> str:
    return page.locator("#collection").evaluate("s => s.value")


def sources_and_titles(turn) -> tuple[set[str], set[str]]:
    cards = turn.locator(".card")
    return ({c.locator(".badge").inner_text() for c in cards.all()},
            {c.locator(".card-title a").inner_text().split("\n")[0].strip()
             for c in cards.all()})


def collection_of(url: str) -> list[str]:
    return parse_qs(urlsplit(url).query).get("collection", [])


def test_with_one_collection_nothing_new_shows_and_no_request_names_one(context, one_server):
    page = open_chat(context, one_server.url + "/")
    assert page.locator("#collection-choice").is_hidden()
    turn = ask(page, "Why was the Riverside bridge closed?")
    assert turn.locator(".card").count() > 0
    href = turn.locator(".card-title a").first.get_attribute("href")
    assert "collection" not in href and href.startswith("/documents/")
    assert page.locator(".top-link").get_attribute("href") == "/documents"
    asks = [r for r in page.api if r.url.endswith("/api/ask")]
    assert asks and "collection" not in json.loads(asks[0].post_data)
    assert not [r.url for r in page.api if "collection=" in r.url]
    assert page.url == one_server.url + "/"
    archive = watched_page(context)
    archive.goto(one_server.url + "/documents")
    archive.locator(".doc-row").first.wait_for(timeout=10_000)
    assert archive.locator("#collection-choice").is_hidden()
    assert not page.errors and not archive.errors


def test_each_collection_answers_from_its_own_documents(context, collections_server):
    url = collections_server.url
    page = open_chat(context, url + "/")
    # The selector lists both, the default chosen; the topics are the default's.
    select = page.get_by_label("Collection")
    assert select.is_visible()
    assert select.locator("option").all_inner_texts() == ["harbour", "library"]
    assert chosen(page) == "harbour"
    assert set(page.locator("#examples .example").all_inner_texts()) <= HARBOUR_TITLES
    question = "Who opened the library, and how much do boats pay a night?"
    turn = ask(page, question)
    sources, titles = sources_and_titles(turn)
    assert sources == {"Harbour Office"} and titles <= HARBOUR_TITLES
    # The citation opens the harbour's document beside the conversation.
    link = turn.locator(".card-title a").first
    title = link.inner_text().split("\n")[0].strip()
    link.click()
    page.locator("#doc-panel li.cited").wait_for(timeout=10_000)
    assert page.locator("#doc-panel-title").inner_text() == title
    assert "euros" in page.locator("#doc-panel .doc-panel-body").inner_text() or \
        "ferry" in page.locator("#doc-panel .doc-panel-body").inner_text()
    page.keyboard.press("Escape")

    # The library: a new conversation, its topics, its sources to filter by.
    select.select_option("library")
    page.locator("#status", has_text="Collection library: a new conversation.").wait_for()
    assert page.locator(".turn").count() == 0
    assert collection_of(page.url) == ["library"]
    page.locator("#examples .example", has_text="Books and maps").wait_for(timeout=10_000)
    assert set(page.locator("#examples .example").all_inner_texts()) <= LIBRARY_TITLES
    page.get_by_role("button", name="Filters").click()
    assert page.locator("#filters-panel .source-list label").all_inner_texts() == [
        "Library Board (2)"]
    page.keyboard.press("Escape")
    assert page.locator(".top-link").get_attribute("href") == "/documents?collection=library"

    turn = ask(page, question)
    sources, titles = sources_and_titles(turn)
    assert sources == {"Library Board"} and titles <= LIBRARY_TITLES
    body = json.loads([r for r in page.api if r.url.endswith("/api/ask")][-1].post_data)
    assert body["collection"] == "library"
    link = turn.locator(".card-title a", has_text="Opening of the library")
    assert link.get_attribute("href") == "/documents/opening.txt?collection=library#p1"
    link.click()
    page.locator("#doc-panel li.cited").wait_for(timeout=10_000)
    assert page.locator("#doc-panel-title").inner_text() == "Opening of the library"
    assert "Mayor Ada Brook" in page.locator("#doc-panel li.cited").inner_text()
    assert page.locator(".doc-panel-full").get_attribute("href") == link.get_attribute("href")
    assert "collection=library" in turn.locator(".copy-citation").first.get_attribute(
        "data-citation")
    # Every request after the choice named the library.
    later = page.api[[r.url for r in page.api].index(next(
        r.url for r in page.api if "collection=library" in r.url)):]
    for request in later:
        named = collection_of(request.url) or [json.loads(request.post_data)["collection"]]
        assert named == ["library"], request.url

    # Back to the harbour: its conversation is there again.
    page.get_by_label("Collection").select_option("harbour")
    page.locator("#status", has_text="Collection harbour: its conversation is back.").wait_for()
    assert page.locator(".turn .asked").all_inner_texts() == [question]
    assert sources_and_titles(page.locator(".turn").last)[0] == {"Harbour Office"}
    assert page.url == url + "/"
    assert not page.errors


def test_the_documents_list_of_the_second_collection(context, collections_server):
    url = collections_server.url
    page = watched_page(context)
    page.goto(url + "/documents?collection=library")
    page.locator(".doc-row").first.wait_for(timeout=10_000)
    assert chosen(page) == "library"
    titles = page.locator(".doc-row-title a").all_inner_texts()
    assert set(titles) == LIBRARY_TITLES
    assert page.locator("#archive-sources label").all_inner_texts() == ["Library Board (2)"]
    assert page.locator(".back").get_attribute("href") == "/?collection=library"
    page.get_by_role("link", name="Books and maps").click()
    page.locator("#document h1").wait_for(timeout=10_000)
    assert page.locator("#document h1").inner_text() == "Books and maps"
    assert "120,000 books" in page.locator("#document .paragraphs").inner_text()
    assert page.url == url + "/documents/books.txt?collection=library"
    assert page.locator(".back").get_attribute("href") == "/?collection=library"
    # The selector on the list: the harbour's documents.
    page.goto(url + "/documents?collection=library")
    page.get_by_label("Collection").select_option("harbour")
    page.wait_for_url(url + "/documents")
    page.locator(".doc-row-title a", has_text="Mooring fees").wait_for(timeout=10_000)
    assert set(page.locator(".doc-row-title a").all_inner_texts()) == HARBOUR_TITLES
    assert not page.errors


def test_a_reload_keeps_the_collection_and_its_conversation(context, collections_server):
    url = collections_server.url
    page = open_chat(context, url + "/?collection=library")
    assert chosen(page) == "library"
    ask(page, "How many books does the library hold?")
    page.reload()
    page.locator(".turn").first.wait_for(timeout=10_000)
    assert collection_of(page.url) == ["library"]
    page.locator("#collection-choice").wait_for()
    assert chosen(page) == "library"
    assert page.locator(".turn .asked").all_inner_texts() == [
        "How many books does the library hold?"]
    assert sources_and_titles(page.locator(".turn").last)[0] == {"Library Board"}
    assert not page.errors


def test_a_share_link_reopens_the_question_in_its_collection(browser, collections_server):
    url = collections_server.url
    first = browser.new_context()
    page = open_chat(first, url + "/?collection=library")
    turn = ask(page, "Who opened the library?")
    share = turn.locator("a.share").get_attribute("href")
    first.close()
    assert collection_of(share) == ["library"]
    other = browser.new_context()  # another reader, without that conversation
    try:
        page = watched_page(other)
        page.goto(url + share)
        turn = page.locator(".turn").last
        turn.locator(".answer:not(.pending)").wait_for(timeout=30_000)
        assert page.locator(".turn .asked").all_inner_texts() == ["Who opened the library?"]
        assert sources_and_titles(turn)[0] == {"Library Board"}
        assert page.url == url + "/?collection=library"
        page.locator("#collection-choice").wait_for()
        assert chosen(page) == "library"
        assert not page.errors
    finally:
        other.close()


def test_an_unknown_collection_in_the_address_is_said_and_the_default_shown(
        context, collections_server):
    url = collections_server.url
    page = watched_page(context, console=False)  # (the check's 404 is logged)
    page.goto(url + "/?collection=nope")
    note = page.locator("#collection-note")
    note.wait_for(timeout=10_000)
    assert note.inner_text() == ("No collection 'nope'; the collections are: harbour, "
                                 "library. Showing the default collection instead.")
    page.locator("#examples .example").first.wait_for(timeout=10_000)
    assert page.url == url + "/"
    assert chosen(page) == "harbour"
    page.goto(url + "/documents?collection=nope")
    page.locator(".doc-row").first.wait_for(timeout=10_000)
    assert page.locator("#collection-note").inner_text().startswith("No collection 'nope'")
    assert set(page.locator(".doc-row-title a").all_inner_texts()) == HARBOUR_TITLES
    assert page.url == url + "/documents"
    # A document view names its collection: the harbour's document is not the library's.
    page.goto(url + "/documents/fees.txt?collection=library")
    alert = page.locator("#document [role=alert]")
    alert.wait_for(timeout=10_000)
    assert "fees.txt" in alert.inner_text()
    assert not page.errors


@pytest.fixture(scope="module")
def admin_collections(tmp_path_factory):
    """`harbour` and `library` taking writes from ADMIN_KEY (in copies of their files)."""
    server = serve_collections(tmp_path_factory.mktemp("admin-collections"),
                               {"harbour": HARBOUR, "library": LIBRARY},
                               env={"QA_ADMIN_KEYS": ADMIN_KEY})
    yield server
    server.stop()


def titles_in(server, collection: str) -> set[str]:
    import urllib.request

    with urllib.request.urlopen(f"{server.url}/api/documents?collection={collection}") as r:
        return {d["title"] for d in json.load(r)["documents"]}


def test_an_admin_uploads_and_deletes_in_the_chosen_collection(context, admin_collections):
    url = admin_collections.url
    page = watched_page(context)
    page.api = []
    page.on("request", lambda r: "/api/" in r.url and page.api.append(r.url))
    page.goto(url + "/documents?collection=library")
    page.locator(".doc-row").first.wait_for(timeout=10_000)
    box = page.locator("#admin-box")
    box.wait_for(timeout=10_000)
    if not box.evaluate("b => b.open"):
        page.get_by_text("Add or delete documents").click()
    page.get_by_label("Admin key").fill(ADMIN_KEY)
    page.get_by_role("button", name="Use admin key").click()
    page.get_by_label("Files to add").set_input_files([{
        "name": "hours.md", "mimeType": "text/markdown",
        "buffer": b"# Opening hours\n\nThe Lindow library opens late on Thursdays.\n"}])
    page.get_by_role("button", name="Upload").click()
    outcome = page.locator(".upload .upload-summary")
    outcome.wait_for(timeout=30_000)
    assert outcome.inner_text() == "Done: 1 indexed."
    link = page.locator(".outcome.indexed a")
    assert link.get_attribute("href") == "/documents/hours.md?collection=library"
    page.locator(".doc-row-title a", has_text="Opening hours").wait_for(timeout=10_000)
    assert "Opening hours" in titles_in(admin_collections, "library")
    assert titles_in(admin_collections, "harbour") == HARBOUR_TITLES
    # Deleted from the library again.
    page.get_by_role("button", name="Delete Opening hours", exact=True).click()
    page.get_by_role("button", name="Yes, delete").click()
    page.get_by_role("status").filter(has_text="“Opening hours” was deleted.").wait_for(
        timeout=30_000)
    assert titles_in(admin_collections, "library") == LIBRARY_TITLES
    # Every request the page sent named the library: the list, the key's check, the
    # upload, the job polling, the delete (all but the list of collections itself).
    assert any("/api/jobs/" in u for u in page.api)
    assert any("/api/documents/hours.md" in u for u in page.api)
    assert [u for u in page.api if "/api/collections" not in u and
            collection_of(u) != ["library"]] == []
    assert not page.errors
