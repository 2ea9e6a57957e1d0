"""A new build is served without a restart: one index per answer, none dropped."""

from __future__ import annotations

import gc
import logging
import threading
import weakref

import pytest

from qa_service.indexing import build_index
from qa_service.store import layout

NEW_DOC = ("Zebracorn parade\n\nThe zebracorn parade crossed the Riverside bridge in "
           "Northport on Sunday, watched by four thousand people.\n")


def _add_document(corpus) -> None:
    (corpus / "parade.txt").write_text(NEW_DOC, "utf-8")


def _ask(client, question: str = "zebracorn parade") -> dict:
    response = client.post("/api/ask", json={"question": question, "top_k": 3})
    assert response.status_code == 200
    return response.get_json()


def _version(client) -> str:
    return client.get("/api/health").get_json()["index"]["version"]


def test_a_new_build_is_served_after_a_check_and_found(app, client, built, corpus, encoder):
    live = app.extensions["qa"]
    old = _version(client)
    assert live.check() is False  # nothing new yet
    _add_document(corpus)
    build_index(built, encoder)
    assert _version(client) == old  # nothing changes under a server until it checks
    assert "parade.txt" not in {p["doc_id"] for p in _ask(client)["passages"]}
    assert live.check() is True
    new = layout.resolve(built.index_dir).name
    assert new != old and _version(client) == new
    answer = _ask(client)
    assert answer["index"] == new and answer["passages"][0]["doc_id"] == "parade.txt"
    assert live.check() is False


def test_a_request_keeps_its_index_across_a_swap_which_is_freed_after_it(
        app, built, corpus, encoder):
    live = app.extensions["qa"]
    held = live.current  # what a request in flight holds
    old_path = held.index.path
    _add_document(corpus)
    build_index(built, encoder)
    assert live.check() is True
    answers: list = []
    # A thread that never read the old index before opens its own connection to it.
    reader = threading.Thread(target=_ask_into, args=(held, answers))
    reader.start()
    reader.join()
    assert answers[0].index == old_path.name
    assert "parade.txt" not in {p.doc_id for p in answers[0].passages}
    for _ in range(2):  # enough builds to prune the old version, were it unused
        build_index(built, encoder)
    assert old_path.is_dir()  # still in use: kept
    freed = weakref.ref(held.index)
    del held, answers, reader
    gc.collect()
    assert freed() is None  # the last user gone, the old index is closed
    build_index(built, encoder)
    assert not old_path.exists()
    assert live.check() is True


def _ask_into(service, answers: list) -> None:
    answers.append(service.ask({"question": "zebracorn"}))


def test_a_build_that_cannot_be_loaded_leaves_the_old_index_serving(
        app, client, built, corpus, encoder, caplog):
    live = app.extensions["qa"]
    old = _version(client)
    _add_document(corpus)
    broken = build_index(built, encoder).path
    size = (broken / "passages.faiss").stat().st_size
    with open(broken / "passages.faiss", "r+b") as fh:
        fh.truncate(10)
    with caplog.at_level(logging.ERROR, logger="qa_service.http.live"):
        assert live.check() is False
        assert live.check() is False
    assert [r.getMessage() for r in caplog.records if "cannot load" in r.getMessage()] == [
        f"still serving {old}: cannot load {broken} (passages.faiss of version {broken.name} "
        f"has 10 bytes, the manifest says {size}; rebuild the index)"]
    assert _version(client) == old and _ask(client)["index"] == old
    fixed = build_index(built, encoder).path
    assert live.check() is True and _version(client) == fixed.name


def test_a_negative_reload_interval_is_refused(built):
    from qa_service.errors import InvalidInput
    from qa_service.http import create_app

    app = create_app({"index_dir": built.index_dir, "reload_interval": -1})
    with pytest.raises(InvalidInput, match="reload_interval"):
        app.extensions["qa"].watch()
