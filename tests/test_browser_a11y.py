"""The pages' look in a real browser: the theme follows the system's setting."""

from __future__ import annotations

import re

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.model]

SIZES = {"1280x900": {"width": 1280, "height": 900}, "390x844": {"width": 390, "height": 844}}


@pytest.fixture
def context(browser, request):
    size, scheme = request.param
    context = browser.new_context(viewport=SIZES[size], color_scheme=scheme)
    context.errors, context.scheme = [], scheme
    yield context
    context.close()


def open_page(context, url: str):
    page = context.new_page()
    page.on("pageerror", lambda e: context.errors.append(str(e)))
    page.on("console", lambda m: m.type == "error" and context.errors.append(m.text))
    page.goto(url)
    return page


def ask(page, question: str):
    page.fill("#question", question)
    page.press("#question", "Enter")
    turn = page.locator(".turn").last
    turn.locator(".answer:not(.pending)").wait_for(timeout=30_000)
    return turn


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
