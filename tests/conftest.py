"""Shared fixtures: an isolated index folder, a fast fake encoder, the real model once."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from qa_service.config import Settings
from qa_service.embed import get_encoder
from qa_service.store.build import build_index

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
    build_index(settings, get_encoder(settings.model))
    return settings


@pytest.fixture(scope="session")
def real_searcher(real_index):
    from qa_service.search import Searcher
    from qa_service.store.index import Index

    index = Index.load(real_index.index_dir)
    return Searcher(index, get_encoder(index.model), real_index)
