"""Shared fixtures: an isolated index folder, a fast fake encoder, the real model once."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from qa_service.config import Settings
from qa_service.encoders import get_encoder
from qa_service.indexing import build_index

FIXTURES = Path(__file__).parent / "fixtures"
REPO = Path(__file__).parent.parent
FAKE_MODEL = "hash:256"


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    """Point every test at its own index folder and the deterministic fake encoder."""
    for name in ("QA_CORPUS", "QA_SERVER", "QA_TOP_K"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("QA_INDEX_DIR", str(tmp_path / "index"))
    monkeypatch.setenv("QA_MODEL", FAKE_MODEL)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


@pytest.fixture
def corpus(tmp_path) -> Path:
    """A writable copy of the small test corpus (text, Markdown, HTML, metadata)."""
    target = tmp_path / "corpus"
    shutil.copytree(FIXTURES / "corpus", target)
    return target


@pytest.fixture
def settings(corpus, tmp_path) -> Settings:
    return Settings.from_env(corpus=corpus, index_dir=tmp_path / "index")


@pytest.fixture
def encoder():
    return get_encoder(FAKE_MODEL)


@pytest.fixture
def built(settings, encoder) -> Settings:
    """Settings whose index has been built from the test corpus."""
    build_index(settings, encoder)
    return settings


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture(scope="session")
def real_index(tmp_path_factory) -> Settings:
    """The default corpus indexed with the real model, built once per test session."""
    folder = tmp_path_factory.mktemp("real")
    settings = Settings(corpus=REPO / "corpus", index_dir=folder / "index")
    build_index(settings, get_encoder(settings.model.name))
    return settings


@pytest.fixture(scope="session")
def real_searcher(real_index):
    from qa_service.encoders import encoder_for
    from qa_service.search import Searcher
    from qa_service.store import Index

    index = Index.load(real_index.index_dir)
    # Questions encoded as a server encodes them (the query backend, not the build's).
    return Searcher(index, encoder_for(real_index.model, index.model, serving=True), real_index)


@pytest.fixture
def app(built):
    """The Flask app over the test corpus, with the fake encoder."""
    from qa_service.http import create_app

    return create_app({"index_dir": built.index_dir, "model": FAKE_MODEL, "TESTING": True})


@pytest.fixture
def client(app):
    return app.test_client()


def fake_index(folder: Path) -> Settings:
    """Build the test corpus with the fake model under `folder`; return its settings."""
    settings = Settings(corpus=FIXTURES / "corpus", index_dir=folder / "index").with_(
        model=FAKE_MODEL)
    build_index(settings, get_encoder(FAKE_MODEL))
    return settings


def post_json(url: str, body, timeout: float = 10) -> tuple[int, dict]:
    """POST `body` as JSON to `url`; return the status and the JSON answer, errors too."""
    import json
    import urllib.error
    import urllib.request

    request = urllib.request.Request(url, data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as exc:
        return exc.code, json.load(exc)


def serve_files(tmp_path: Path, name: str, files: dict[str, str]) -> LiveServer:
    """Index `files` (relative path -> text) with the fake model and serve them."""
    corpus = tmp_path / name
    for relpath, text in files.items():
        (corpus / relpath).parent.mkdir(parents=True, exist_ok=True)
        (corpus / relpath).write_text(text, "utf-8")
    settings = Settings().with_(corpus=corpus, index_dir=tmp_path / "index", model=FAKE_MODEL)
    build_index(settings, get_encoder(FAKE_MODEL))
    return LiveServer(settings.index_dir, env={"QA_MODEL": FAKE_MODEL})


def ask(page, question: str):
    """Ask on the chat page as a reader does (type, Enter); return the turn once answered."""
    page.fill("#question", question)
    page.press("#question", "Enter")
    turn = page.locator(".turn").last
    turn.locator(".answer:not(.pending)").wait_for(timeout=30_000)
    return turn


def open_page(context, url: str):
    """Open `url` in a page whose script errors, and console errors other than a
    refused key's 401 (chromium logs each), go to `context.errors`."""
    page = context.new_page()
    page.on("pageerror", lambda e: context.errors.append(str(e)))
    page.on("console", lambda m: m.type == "error" and "401" not in m.text
            and context.errors.append(m.text))
    page.goto(url)
    return page


def watched_page(context, console: bool = True):
    """Open a page that records its dialogs (dismissed) and its script errors, and with
    `console` its console errors (a blocked inline script shows up there as a CSP
    violation; so does a resource answered 404)."""
    page = context.new_page()
    page.dialogs, page.errors = [], []
    page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    if console:
        page.on("console", lambda m: m.type == "error" and page.errors.append(m.text))
    return page


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        # Every address: a server may listen on 0.0.0.0, where a port that a client
        # socket holds on 127.0.0.x (the tests open thousands) is taken.
        sock.bind(("0.0.0.0", 0))
        return sock.getsockname()[1]


class LiveServer:
    """`qa-service serve` in a subprocess, for tests that need a real HTTP server."""

    def __init__(self, index_dir: Path, env: dict | None = None, args: tuple = ()):
        import os
        import subprocess
        import sys

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = index_dir.parent / f"serve-{self.port}.log"
        self._log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "qa_service", "serve", "--port", str(self.port),
             "--index-dir", str(index_dir), *args],
            stdout=self._log, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})},
        )
        self._wait_ready()

    def _wait_ready(self, timeout: float = 120.0) -> None:
        import time
        import urllib.request

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.log()}")
            try:
                with urllib.request.urlopen(self.url + "/api/health", timeout=2):
                    return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"server did not start: {self.log()}")

    def log(self) -> str:
        return self.log_path.read_text("utf-8", errors="replace")

    def wait_for_log(self, pattern: str, timeout: float = 10.0) -> bool:
        """Wait until a log line matches `pattern` (the server logs after it answers)."""
        import re
        import time

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if re.search(pattern, self.log(), re.M):
                return True
            time.sleep(0.05)
        return False

    def stop(self, timeout: float = 30.0) -> int:
        import signal

        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout)
        if not self._log.closed:
            self._log.close()
        return code


@pytest.fixture(scope="session")
def real_server(real_index):
    """The default corpus served over HTTP with the real model, once per session."""
    server = LiveServer(real_index.index_dir, env={"QA_MODEL": real_index.model.name})
    yield server
    server.stop()


CHROMIUM = os.environ.get("QA_CHROMIUM", "/usr/bin/chromium")
# axe-core at the exact version of tests/axe/package-lock.json; `make test` installs it.
AXE = REPO / "tests" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
API_KEY = "browser-key-5150"


@pytest.fixture(scope="session")
def browser():
    """Debian's chromium driven by Playwright (its own browser download does not work here)."""
    if not shutil.which(CHROMIUM):
        pytest.fail(f"{CHROMIUM} not found: install Debian's chromium (make test does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync"],
        )
        yield browser
        browser.close()


# The page sizes the browser tests look at: a desktop window and a phone.
SIZES = {"1280x900": (1280, 900), "390x844": (390, 844)}


@pytest.fixture
def context(browser, request):
    """A browser context at a size of SIZES (by parametrize, indirect; default 1280x900)."""
    width, height = SIZES[getattr(request, "param", "1280x900")]
    context = browser.new_context(viewport={"width": width, "height": height})
    context.size = (width, height)
    yield context
    context.close()


@pytest.fixture
def searcher_over(tmp_path, encoder):
    """Index a small corpus of files (name -> text) with the fake encoder; search it."""
    from qa_service.search import Searcher
    from qa_service.store import Index

    def make(files: dict[str, str], **options) -> Searcher:
        corpus = tmp_path / "small-corpus"
        corpus.mkdir()
        for name, text in files.items():
            (corpus / name).write_text(text)
        settings = Settings().with_(corpus=corpus, index_dir=tmp_path / "small-index",
                                    model=FAKE_MODEL, **options)
        build_index(settings, encoder)
        return Searcher(Index.load(settings.index_dir), encoder, settings)

    return make


@pytest.fixture(scope="module")
def keyed_server(tmp_path_factory):
    """The test corpus served with the fake model and API keys on (the key: API_KEY)."""
    settings = fake_index(tmp_path_factory.mktemp("browser-keys"))
    # Every page of these tests comes from one address and is refused on purpose (a page
    # asks before it has the key), more than the default 10 a minute: the throttle of
    # refused keys has its own tests (test_ops.py, test_serve_ops.py).
    server = LiveServer(settings.index_dir, env={"QA_MODEL": FAKE_MODEL, "QA_API_KEYS": API_KEY,
                                                 "QA_AUTH_FAILURE_LIMIT": "1000/minute"})
    yield server
    server.stop()


ADMIN_KEY = "admin-browser-7741"


@pytest.fixture(scope="module")
def admin_server(tmp_path_factory):
    """A copy of the test corpus served with the fake model and admin keys on (the key:
    ADMIN_KEY); writes land in the copy (`server.corpus`), never in the repository."""
    folder = tmp_path_factory.mktemp("admin")
    corpus = folder / "corpus"
    shutil.copytree(FIXTURES / "corpus", corpus)
    settings = Settings().with_(corpus=corpus, index_dir=folder / "index", model=FAKE_MODEL)
    build_index(settings, get_encoder(FAKE_MODEL))
    # Wrong keys are given on purpose; the throttle of refused keys has its own tests.
    server = LiveServer(settings.index_dir, args=("--corpus", str(corpus)), env={
        "QA_MODEL": FAKE_MODEL, "QA_ADMIN_KEYS": ADMIN_KEY,
        "QA_AUTH_FAILURE_LIMIT": "1000/minute"})
    server.corpus = corpus
    yield server
    server.stop()


def serious_violations(page) -> list[str]:
    """Run axe-core over the page; return its serious and critical violations, one line
    each (the rule, its impact and the elements)."""
    if not AXE.is_file():
        pytest.fail(f"{AXE} not found: run `make test`, or `npm ci` in tests/axe")
    if not page.evaluate("typeof axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    return page.evaluate("""async () => {
        const found = await axe.run(document, { resultTypes: ["violations"] });
        return found.violations
            .filter((v) => v.impact === "serious" || v.impact === "critical")
            .map((v) => `${v.id} (${v.impact}): ${v.help}: ` +
                        v.nodes.map((n) => n.target.join(" ")).join(", "));
    }""")


# Two small collections with sources of their own, for the pages' collection selector.
HARBOUR = {
    "fees.txt": "Boats under 10 m pay 18 euros a night at the Holm harbour.\n\n"
                "Boats over 10 m pay 30 euros a night at the Holm harbour.\n",
    "ferry.txt": "The Holm ferry leaves pier 4 at 9 am every day.\n",
    "sources.toml": '["fees.txt"]\nsource = "Harbour Office"\ntitle = "Mooring fees"\n'
                    'date = 2024-05-02\n\n["ferry.txt"]\nsource = "Harbour Office"\n'
                    'title = "Ferry times"\ndate = 2024-05-03\n',
}
LIBRARY = {
    "opening.txt": "The Lindow library was opened by Mayor Ada Brook in 1990.\n",
    "books.txt": "The Lindow library holds 120,000 books and 300 maps.\n",
    "sources.toml": '["opening.txt"]\nsource = "Library Board"\ntitle = "Opening of the library"\n'
                    'date = 1990-09-01\n\n["books.txt"]\nsource = "Library Board"\n'
                    'title = "Books and maps"\ndate = 2023-01-10\n',
}


def serve_collections(folder: Path, corpora: dict[str, dict[str, str]],
                      env: dict | None = None) -> LiveServer:
    """Serve corpora (name -> relative path -> text) as the collections of one server,
    the first the default, each built with the fake model."""
    from qa_service.collections import collections

    spec = []
    for name, files in corpora.items():
        for relpath, text in files.items():
            (folder / name / relpath).parent.mkdir(parents=True, exist_ok=True)
            (folder / name / relpath).write_text(text, "utf-8")
        spec.append(f"{name}={folder / name}")
    settings = Settings().with_(index_dir=folder / "index", model=FAKE_MODEL,
                                collections=",".join(spec))
    for collection in collections(settings):
        build_index(collection.settings, get_encoder(FAKE_MODEL))
    return LiveServer(settings.index_dir, env={"QA_MODEL": FAKE_MODEL,
                                               "QA_COLLECTIONS": settings.collections,
                                               **(env or {})})


@pytest.fixture(scope="module")
def collections_server(tmp_path_factory):
    """`harbour` (the default) and `library` served by one server, with the fake model."""
    server = serve_collections(tmp_path_factory.mktemp("collections"),
                               {"harbour": HARBOUR, "library": LIBRARY})
    yield server
    server.stop()
