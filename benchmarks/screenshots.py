"""Take the chat page's screenshots that docs/page.md describes, from a running server.

Each view (the empty page, an answer, a disagreement, a decline, a citation opened beside
the conversation, the documents list) in both themes and at both widths the browser
tests check (1280x900, 390x844), as PNG files named `<view>-<width>-<theme>.png`.

Usage:
    make run &   # or: qa-service serve --port 8000
    python benchmarks/screenshots.py http://127.0.0.1:8000 OUT_DIR [--chromium /usr/bin/chromium]

Skips (exit 0) when no server answers at the address.
"""

from __future__ import annotations

import argparse
import sys
import urllib.request
from pathlib import Path

SIZES = ((1280, 900), (390, 844))
THEMES = ("light", "dark")
QUESTIONS = {
    "answer": "When did the attack on the Pallas gun store start?",
    "disagreement": "How many people died in Aktobe?",
    "decline": "Who won the football World Cup in 2014?",
}


def ask(page, question: str):
    page.fill("#question", question)
    page.press("#question", "Enter")
    turn = page.locator(".turn").last
    turn.locator(".answer:not(.pending)").wait_for(timeout=60_000)
    return turn


def views(page, url: str, shoot) -> None:
    """Open each view in turn and shoot it."""
    page.goto(url + "/")
    page.locator("#examples .example").first.wait_for(timeout=10_000)
    shoot("empty")
    for view, question in QUESTIONS.items():
        page.goto(url + "/")
        page.evaluate("localStorage.clear()")  # each view on its own conversation
        page.reload()
        turn = ask(page, question)
        shoot(view)
        if view == "answer":
            turn.locator(".card-title a").first.click()
            page.locator("#doc-panel mark").first.wait_for(timeout=10_000)
            shoot("citation")
    page.goto(url + "/documents")
    page.locator("#archive-list li").first.wait_for(timeout=10_000)
    shoot("documents")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("out", type=Path)
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()
    url = args.url.rstrip("/")
    try:
        urllib.request.urlopen(url + "/api/health", timeout=5).read()
    except OSError as error:
        print(f"skipped: no server at {url} ({error})")
        return 0
    from playwright.sync_api import sync_playwright

    args.out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=args.chromium,
                                    args=["--no-sandbox", "--disable-gpu"])
        for width, height in SIZES:
            for theme in THEMES:
                context = browser.new_context(viewport={"width": width, "height": height},
                                              color_scheme=theme)
                page = context.new_page()

                def shoot(view, page=page, width=width, theme=theme):
                    path = args.out / f"{view}-{width}-{theme}.png"
                    page.screenshot(path=str(path))
                    print(path)

                views(page, url, shoot)
                context.close()
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
