"""Accessibility measured in a real browser: axe-core over every view of the pages, at a
desktop and a phone size, in the light and the dark theme; and the dark theme is dark."""

from __future__ import annotations

import re

import pytest

from tests.conftest import ADMIN_KEY, API_KEY, ask, open_page, serious_violations

pytestmark = [pytest.mark.browser, pytest.mark.model]

SIZES = {"1280x900": {"width": 1280, "height": 900}, "390x844": {"width": 390, "height": 844}}


@pytest.fixture
def context(browser, request):
    size, scheme = request.param
    # axe-core goes in as a script tag, which the pages' policy (script-src 'self') rightly
    # refuses; these contexts alone bypass it, so that the page measured is the real one.
    context = browser.new_context(viewport=SIZES[size], color_scheme=scheme, bypass_csp=True)
    context.errors, context.scheme = [], scheme
    yield context
    context.close()


VIEWS = [(size, scheme) for scheme in ("light", "dark") for size in SIZES]


@pytest.mark.parametrize("context", VIEWS, indirect=True, ids=[f"{s}-{c}" for s, c in VIEWS])
def test_no_serious_accessibility_violations_in_any_view(context, real_server, keyed_server,
                                                          admin_server):
    seen = {}
    page = open_page(context, real_server.url + "/")
    page.locator("#examples .example").first.wait_for(timeout=10_000)
    seen["the empty page"] = serious_violations(page)
    turn = ask(page, "When did the attack on the Pallas gun store start?")
    turn.locator(".confidence .match").focus()  # its figure shown, to be measured too
    seen["an answer"] = serious_violations(page)
    turn.locator(".card-title a").first.click()  # the document beside the conversation
    page.locator("#doc-panel li.cited:focus").wait_for(timeout=10_000)
    seen["the document panel"] = serious_violations(page)
    page.keyboard.press("Escape")
    page.get_by_role("button", name="Filters").click()
    page.locator("#filters-panel .source-list input").first.check()
    seen["the filters"] = serious_violations(page)
    page.keyboard.press("Escape")
    page.locator("#filters-clear").dispatch_event("click")  # (hidden now: no role to find)
    ask(page, "Who won the football World Cup in 2014?")
    seen["a decline"] = serious_violations(page)
    page.click("#new-conversation")
    seen["the undo after New conversation"] = serious_violations(page)
    page.get_by_role("button", name="Undo").click()
    page.goto(real_server.url + turn.locator(".card-title a").first.get_attribute("href"))
    page.locator("#document li:focus").wait_for(timeout=10_000)  # at the cited paragraph
    seen["the document view"] = serious_violations(page)
    page.goto(real_server.url + "/documents?limit=2&source=RT&source=RFE/RL")
    page.locator(".doc-row").first.wait_for(timeout=10_000)
    seen["the documents list, filtered and paged"] = serious_violations(page)

    keyed = open_page(context, keyed_server.url + "/")
    keyed.locator("#key-hint").wait_for(state="visible", timeout=10_000)
    seen["the key hint"] = serious_violations(keyed)
    keyed.fill("#question", "Who directs the museum?")
    keyed.press("#question", "Enter")
    keyed.locator("dialog.key-dialog").wait_for(timeout=10_000)
    seen["the API-key dialog"] = serious_violations(keyed)
    keyed.locator("dialog.key-dialog input").fill(API_KEY)
    keyed.locator("dialog.key-dialog input").press("Enter")
    keyed.locator(".turn .answer:not(.pending)").wait_for(timeout=30_000)

    # The documents list of a server that takes writes: the admin key's form, refused,
    # then the upload area with a finished upload's outcomes, and a delete to confirm.
    admin = open_page(context, admin_server.url + "/documents")
    admin.locator(".doc-row").first.wait_for(timeout=10_000)
    box = admin.locator("#admin-box")
    box.wait_for(timeout=10_000)
    if not box.evaluate("b => b.open"):
        admin.locator("#admin-box summary").click()
    admin.get_by_label("Admin key").fill("a-wrong-admin-key")
    admin.get_by_role("button", name="Use admin key").click()
    admin.locator("#admin-key-error").wait_for(timeout=10_000)
    seen["a refused admin key"] = serious_violations(admin)
    admin.get_by_label("Admin key").fill(ADMIN_KEY)
    admin.get_by_role("button", name="Use admin key").click()
    name = f"a11y-{context.scheme}-{admin.viewport_size['width']}.md"
    admin.get_by_label("Files to add").set_input_files([
        {"name": name, "mimeType": "text/markdown",
         "buffer": f"# Notes {name}\n\nThe {name} notes were filed on Monday.\n".encode()},
        {"name": f"scan-{name}.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4 x"}])
    admin.get_by_label("Source").fill("Axe Weekly")
    admin.get_by_role("button", name="Upload").click()
    admin.locator(".upload .upload-summary").wait_for(timeout=30_000)
    seen["the upload area with an upload's outcomes"] = serious_violations(admin)
    admin.locator(".doc-row .delete").first.click()
    admin.locator(".delete-confirm").wait_for(timeout=10_000)
    seen["a delete waiting for its confirmation"] = serious_violations(admin)

    assert {view: found for view, found in seen.items() if found} == {}
    assert context.errors == []


@pytest.mark.parametrize("context", VIEWS, indirect=True, ids=[f"{s}-{c}" for s, c in VIEWS])
def test_no_serious_accessibility_violations_with_two_collections(context, collections_server):
    """The collection selector (harbour, library), an answer and a citation in the second,
    its documents list, and an unknown collection said; all in the window's width."""
    url, seen = collections_server.url, {}
    page = open_page(context, url + "/")
    width = page.viewport_size["width"]
    page.locator("#examples .example").first.wait_for(timeout=10_000)
    page.get_by_label("Collection").wait_for()
    seen["the selector"] = serious_violations(page)
    page.get_by_label("Collection").select_option("library")
    page.locator("#examples .example", has_text="Books and maps").wait_for(timeout=10_000)
    turn = ask(page, "Who opened the library?")
    assert turn.locator(".badge").first.inner_text() == "Library Board"
    seen["an answer in the second collection"] = serious_violations(page)
    for element in ("#collection", "#filters-toggle", "#send"):
        box = page.locator(element).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= width, element
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    turn.locator(".card-title a").first.click()
    page.locator("#doc-panel li.cited").wait_for(timeout=10_000)
    seen["its citation"] = serious_violations(page)
    page.goto(url + "/documents?collection=library")
    page.locator(".doc-row").first.wait_for(timeout=10_000)
    seen["its documents list"] = serious_violations(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    context.errors.clear()
    page.goto(url + "/?collection=nope")  # (the check's 404 is logged: cleared below)
    page.locator("#collection-note").wait_for(timeout=10_000)
    seen["an unknown collection said"] = serious_violations(page)
    context.errors[:] = [e for e in context.errors if "404" not in e]
    assert {view: found for view, found in seen.items() if found} == {}
    assert context.errors == []


@pytest.mark.parametrize("context", [("390x844", "dark"), ("1280x900", "light")],
                         indirect=True, ids=["dark", "light"])
def test_the_theme_follows_the_system_setting(context, real_server):
    page = open_page(context, real_server.url + "/")
    turn = ask(page, "Who is Marat Shibutov?")

    def luminance(selector: str, prop: str) -> float:
        rgb = page.eval_on_selector(selector, f"e => getComputedStyle(e).{prop}")
        red, green, blue = (float(x) for x in re.findall(r"[\d.]+", rgb)[:3])  # "rgb(r, g, b)"
        return (0.2126 * red + 0.7152 * green + 0.0722 * blue) / 255

    page_bg, card_bg = luminance("html", "backgroundColor"), luminance(".card", "backgroundColor")
    text = luminance(".passage", "color")
    if context.scheme == "dark":
        assert page_bg < 0.15 and card_bg < 0.2 and text > 0.8, (page_bg, card_bg, text)
    else:
        assert page_bg > 0.9 and card_bg > 0.9 and text < 0.2, (page_bg, card_bg, text)
    assert turn.locator(".card").count() >= 1
    assert context.errors == []
