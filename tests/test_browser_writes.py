"""Writes on the documents list, in a real browser against a real server: without an
admin key no upload area and no Delete button show; with one, files are uploaded (picked
or dropped; progress, then each file's outcome), and documents deleted after an inline
confirmation. Writes land in a copy of the test corpus, never in the repository's."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import (
    ADMIN_KEY,
    FAKE_MODEL,
    SIZES,
    LiveServer,
    fake_index,
    post_json,
    watched_page,
)

pytestmark = pytest.mark.browser

OUTPUT = Path(__file__).parent.parent / "test-output"
HARVEST = ("# {place} harvest festival\n\nThe {place} harvest festival is held on 3 October "
           "in the market square, the parish council said.\n")
PLACES = {1280: "Lindow", 390: "Quarrington"}  # each size its own (a duplicate is skipped)
RUNNABLE = "#admin-box img, #admin-box script:not([src]), #admin-box [onerror]"


@pytest.fixture(scope="module")
def read_only_server(tmp_path_factory):
    """The test corpus served without admin keys: writes are off."""
    settings = fake_index(tmp_path_factory.mktemp("browser-read-only"))
    server = LiveServer(settings.index_dir, env={"QA_MODEL": FAKE_MODEL})
    yield server
    server.stop()


def open_list(context, url: str):
    """Open /documents once both its list and its question about writes are answered."""
    page = watched_page(context)
    with page.expect_response("**/api/health") as health:
        page.goto(url + "/documents")
    page.locator("#archive-status:not(:has-text('Loading'))").wait_for(timeout=10_000)
    page.health = health.value.json()
    return page


def sign_in(page, key: str = ADMIN_KEY):
    box = page.locator("#admin-box")
    if not box.evaluate("b => b.open"):
        page.get_by_text("Add or delete documents").click()
    page.get_by_label("Admin key").fill(key)
    page.get_by_role("button", name="Use admin key").click()


def listing(server) -> list[dict]:
    with urllib.request.urlopen(server.url + "/api/documents?limit=1000") as response:
        return json.load(response)["documents"]


def in_view(page, locator) -> bool:
    """Whether the element is visible and inside the window (a reader sees it)."""
    box = locator.bounding_box()
    width, height = page.viewport_size["width"], page.viewport_size["height"]
    return bool(box and locator.is_visible() and box["y"] >= 0 and
                box["y"] + box["height"] <= height and box["x"] >= 0 and
                box["x"] + box["width"] <= width)


def overflowing(page) -> list[str]:
    """The elements that reach past the window's right edge (a phone would scroll
    sideways)."""
    return page.evaluate("""() => [...document.querySelectorAll('body *')].filter(
        (e) => e.getBoundingClientRect().right > window.innerWidth + 0.5).map(
        (e) => `${e.tagName}#${e.id}.${e.className} ${e.getBoundingClientRect().right}`)""")


def upload_outcome(page, names: str):
    """The result of the upload of `names`, once its job is done (in view)."""
    item = page.locator(".upload", has=page.locator(".upload-names", has_text=names)).first
    result = item.locator(".upload-summary")
    try:
        result.wait_for(timeout=30_000)
    except Exception:
        raise AssertionError(f"no outcome: {item.inner_text()!r}") from None
    result.scroll_into_view_if_needed()
    return item


def test_a_server_without_admin_keys_shows_nothing_of_writes(context, read_only_server):
    page = open_list(context, read_only_server.url)
    assert page.health["writes"] is False  # and the page says nothing of them
    page.locator(".doc-row").first.wait_for()
    assert page.locator("#admin-box").is_hidden()
    assert page.locator("input[type=file]").count() == 0 or \
        page.locator("input[type=file]").is_hidden()
    assert page.locator(".doc-row button").count() == 0
    assert "Add or delete" not in page.locator("body").inner_text()
    assert "Admin key" not in page.locator("body").inner_text()
    assert page.errors == [] and page.dialogs == []


def test_without_an_admin_key_there_is_no_upload_area_and_no_delete(context, admin_server):
    page = open_list(context, admin_server.url)
    # Writes are on; only the form for the key shows.
    assert page.health["writes"] is True
    page.locator(".doc-row").first.wait_for()
    summary = page.get_by_text("Add or delete documents")
    assert summary.is_visible()
    assert page.locator("#admin-box").evaluate("b => b.open") is False  # folded
    assert page.get_by_role("button", name="Delete").count() == 0
    assert page.locator(".doc-row button").count() == 0
    assert page.locator("#admin-tools").is_hidden()
    assert not page.get_by_label("Files to add").is_visible()
    assert page.errors == [] and page.dialogs == []


def test_a_wrong_admin_key_is_refused_and_shows_nothing(context, admin_server):
    page = open_list(context, admin_server.url)
    sign_in(page, "not-the-admin-key")
    error = page.locator("#admin-key-error")
    error.wait_for(state="visible", timeout=10_000)
    assert error.inner_text() == "That admin key was not accepted."
    assert in_view(page, error)
    assert page.locator("#admin-tools").is_hidden()
    assert page.locator(".doc-row button").count() == 0
    assert page.evaluate("sessionStorage.getItem('qa-admin-key')") is None
    assert page.evaluate("localStorage.length") == 0
    assert page.evaluate("document.activeElement.id") == "admin-key"
    # The right key then opens the tools, and the refusal is gone.
    sign_in(page)
    page.get_by_label("Files to add").wait_for(timeout=10_000)
    assert error.is_hidden()
    # (401s from the wrong key are logged by chromium as console errors: expected.)
    assert [e for e in page.errors if "401" not in e] == [] and page.dialogs == []


@pytest.mark.parametrize("context", list(SIZES), indirect=True)
def test_an_uploaded_file_is_indexed_listed_and_answerable(context, admin_server):
    width, _ = context.size
    name = f"harvest-{width}.md"
    page = open_list(context, admin_server.url)
    sign_in(page)
    files = page.get_by_label("Files to add")
    files.wait_for(timeout=10_000)
    assert page.evaluate("document.activeElement.id") == "upload-files"
    # The admin key is kept for this tab only; it is sent as a Bearer header.
    assert page.evaluate("sessionStorage.getItem('qa-admin-key')") == ADMIN_KEY
    assert page.evaluate("localStorage.length") == 0 and context.cookies() == []
    assert page.locator(".doc-row .delete").count() == len(listing(admin_server))
    place = PLACES[width]
    files.set_input_files([{"name": name, "mimeType": "text/markdown",
                            "buffer": HARVEST.format(place=place).encode()}])
    assert name in page.locator("#upload-chosen").inner_text()
    page.get_by_label("Source").fill(f"{place} Parish")
    page.get_by_label("Date").fill("2024-09-01")
    with page.expect_request("**/api/documents") as sent:
        page.get_by_role("button", name="Upload").click()
    assert sent.value.headers["authorization"] == f"Bearer {ADMIN_KEY}"
    item = upload_outcome(page, name)
    assert item.locator(".upload-summary").inner_text() == "Done: 1 indexed."
    outcome = item.locator(".outcome")
    assert outcome.inner_text() == f"{name}: indexed, 1 passage"
    assert in_view(page, outcome)
    assert outcome.locator("a").get_attribute("href") == f"/documents/{name}"
    # The list is read again: the new document is in it, with its source and date.
    row = page.locator(".doc-row", has_text=f"{place} harvest festival").first
    row.wait_for(timeout=10_000)
    assert f"{place} Parish" in row.inner_text() and "2024-09-01" in row.inner_text()
    assert row.get_by_role("button", name=f"Delete {place} harvest festival").is_visible()
    # ... and answerable.
    status, answer = post_json(admin_server.url + "/api/ask",
                               {"question": f"When is the {place} harvest festival held?"})
    assert status == 200 and answer["passages"][0]["doc_id"] == name
    assert answer["passages"][0]["source"] == f"{place} Parish"
    OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT / f"documents-admin-{width}px.png"), full_page=True)
    assert overflowing(page) == [], "; ".join(overflowing(page))
    # A reload keeps the key for the tab: the tools come back without asking (folded on
    # a phone, above the list, as the filters are).
    page.reload()
    page.locator(".doc-row .delete").first.wait_for(timeout=10_000)
    assert page.get_by_label("Files to add").is_visible() == (width >= 768)
    if width < 768:
        page.get_by_text("Add or delete documents").click()
    page.get_by_label("Files to add").wait_for(timeout=10_000)
    assert page.errors == [] and page.dialogs == []
    # Forgetting it takes every write away.
    page.get_by_role("button", name="Forget the admin key").click()
    page.get_by_label("Admin key").wait_for(timeout=10_000)
    assert page.locator(".doc-row button").count() == 0
    assert not page.get_by_label("Files to add").is_visible()
    assert page.evaluate("sessionStorage.getItem('qa-admin-key')") is None


def test_a_skipped_file_says_why_and_refusals_read_as_sentences(context, admin_server):
    page = open_list(context, admin_server.url)
    sign_in(page)
    files = page.get_by_label("Files to add")
    files.wait_for(timeout=10_000)
    evil = "scan<img src=x onerror=alert(1)>.pdf"
    files.set_input_files([{"name": evil, "mimeType": "application/pdf",
                            "buffer": b"%PDF-1.4 not really a pdf"},
                           {"name": "notes-skip.txt", "mimeType": "text/plain",
                            "buffer": b"The ferry to Holm leaves at nine from pier four."}])
    page.get_by_role("button", name="Upload").click()
    item = upload_outcome(page, "notes-skip.txt")
    assert item.locator(".upload-summary").inner_text() == "Done: 1 indexed, 1 skipped."
    skipped = item.locator(".outcome.skipped")
    assert skipped.inner_text().startswith(f"{evil}: skipped: unreadable as pdf")
    assert in_view(page, skipped)
    assert page.locator(RUNNABLE).count() == 0  # the name is text, not markup
    assert all(d["doc_id"] != evil for d in listing(admin_server))
    # An existing name: the request is refused (409), in the server's words.
    files.set_input_files([{"name": "flood.txt", "mimeType": "text/plain",
                            "buffer": b"Overwritten."}])
    page.get_by_role("button", name="Upload").click()
    item = upload_outcome(page, "flood.txt")
    refused = item.locator(".upload-summary")
    assert [line for line in item.inner_text().splitlines() if line.strip()] == [
        "flood.txt", "Not uploaded: A document 'flood.txt' exists: replace it with PUT "
        "/api/documents/flood.txt, or choose another name."]
    assert refused.get_attribute("role") == "alert"
    assert (admin_server.corpus / "flood.txt").read_text() != "Overwritten."
    # Too many bytes for a file, checked before sending (the server's limit: 10 MB).
    files.set_input_files([{"name": "big.txt", "mimeType": "text/plain",
                            "buffer": b"word " * (2 * 1024 * 1024 + 1)}])
    page.get_by_role("button", name="Upload").click()
    error = page.locator("#upload-error")
    error.wait_for(state="visible", timeout=5_000)
    assert error.inner_text() == ("big.txt is 10,485,765 bytes, over the 10,485,760 bytes a "
                                  "file may be.")
    assert not (admin_server.corpus / "big.txt").exists()
    # (chromium logs the 409 as a console error: expected.)
    assert [e for e in page.errors if "409 (CONFLICT)" not in e] == [] and page.dialogs == []


def test_a_dropped_file_is_uploaded_with_its_progress(context, admin_server):
    page = open_list(context, admin_server.url)
    sign_in(page)
    page.get_by_label("Files to add").wait_for(timeout=10_000)
    # Slow the upload (CDP network emulation, 256 KB/s) so that its progress can be seen.
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", {
        "offline": False, "latency": 0, "downloadThroughput": -1,
        "uploadThroughput": 256 * 1024})
    # 1 MB that claims to be a PDF: sent slowly, then skipped at once by the build.
    page.evaluate("""() => {
        const bytes = new Uint8Array(1024 * 1024).fill(46);
        bytes.set(new TextEncoder().encode("%PDF-1.4\\n"));
        const data = new DataTransfer();
        data.items.add(new File([bytes], "survey.pdf", { type: "application/pdf" }));
        const zone = document.getElementById("drop-zone");
        for (const type of ["dragenter", "dragover", "drop"]) {
            zone.dispatchEvent(new DragEvent(type, { dataTransfer: data, bubbles: true,
                                                     cancelable: true }));
        }
    }""")
    assert page.locator("#upload-chosen").inner_text() == "Chosen: survey.pdf (1.0 MB)"
    page.get_by_role("button", name="Upload").click()
    state = page.locator(".upload .upload-state").first
    page.wait_for_function(
        "() => /^Sending: .+ of 1\\.0 MB \\(([1-9]|[1-9]\\d) %\\)$/.test("
        "document.querySelector('.upload .upload-state').textContent)", timeout=10_000)
    assert state.is_visible() and page.locator(".upload progress").first.is_visible()
    assert in_view(page, state)
    item = upload_outcome(page, "survey.pdf")
    assert item.locator(".outcome").inner_text().startswith(
        "survey.pdf: skipped: unreadable as pdf")
    assert page.errors == [] and page.dialogs == []


@pytest.mark.parametrize("context", list(SIZES), indirect=True)
def test_a_document_is_deleted_after_confirming_and_kept_on_cancel(context, admin_server):
    width, _ = context.size
    name = f"notice-{width}.txt"
    status, _ = post_json_admin(admin_server, name,
                                "The Holm ferry timetable changes in the spring.")
    assert status == 202
    page = open_list(context, admin_server.url)
    sign_in(page)
    title = next(d["title"] for d in listing(admin_server) if d["doc_id"] == name)
    row = page.locator(".doc-row", has=page.locator(f".delete[data-doc-id='{name}']"))
    delete = page.get_by_role("button", name=f"Delete {title}", exact=True)
    delete.wait_for(timeout=10_000)
    delete.click()
    confirm = row.get_by_role("group")
    assert confirm.is_visible() and in_view(page, confirm)
    assert f"Delete {title} ({name})?" in confirm.inner_text()
    assert page.evaluate("document.activeElement.textContent") == "Cancel"
    confirm.get_by_role("button", name="Cancel").click()
    assert confirm.count() == 0
    assert row.count() == 1 and delete.is_visible()
    assert page.evaluate("document.activeElement.dataset.docId") == name
    assert any(d["doc_id"] == name for d in listing(admin_server))
    # Escape cancels too.
    delete.click()
    page.keyboard.press("Escape")
    assert row.get_by_role("group").count() == 0 and delete.is_visible()
    delete.click()
    row.get_by_role("button", name="Yes, delete").click()
    page.get_by_role("status").filter(has_text=f"“{title}” was deleted.").wait_for(
        timeout=30_000)
    page.wait_for_function(f"() => !document.querySelector(\".delete[data-doc-id='{name}']\")")
    assert title not in page.locator("#archive-list").inner_text()
    assert all(d["doc_id"] != name for d in listing(admin_server))
    assert not (admin_server.corpus / name).exists()
    # Focus is on the Delete button of the row now where the deleted one was.
    assert page.evaluate("document.activeElement.classList.contains('delete')")
    assert overflowing(page) == [], "; ".join(overflowing(page))
    assert page.errors == [] and page.dialogs == []


def post_json_admin(server, name: str, text: str) -> tuple[int, dict]:
    request = urllib.request.Request(
        server.url + "/api/documents?wait=60", method="POST",
        data=json.dumps({"name": name, "text": text}).encode(),
        headers={"Content-Type": "application/json",
                 "Authorization": f"Bearer {ADMIN_KEY}"})
    with urllib.request.urlopen(request, timeout=70) as response:
        return response.status, json.load(response)
