"""Several collections served by one process, each answering only from its own documents."""

from __future__ import annotations

import io
import json

import pytest

from qa_service.collections import collection_settings, collections
from qa_service.config import Settings
from qa_service.errors import InvalidInput, NotFound
from qa_service.http import create_app
from qa_service.indexing import build_index
from tests.conftest import FAKE_MODEL

HARBOUR = {"fees.txt": "Boats under 10 m pay 18 euros a night at the Holm harbour.\n",
           "ferry.txt": "The Holm ferry leaves pier 4 at 9 am every day.\n"}
LIBRARY = {"opening.txt": "The Lindow library was opened by Mayor Ada Brook in 1990.\n",
           "books.txt": "The Lindow library holds 120,000 books and 300 maps.\n"}


@pytest.fixture
def two(tmp_path, encoder) -> Settings:
    """Settings serving `harbour` (the default) and `library`, both built."""
    for name, files in (("harbour", HARBOUR), ("library", LIBRARY)):
        (tmp_path / name).mkdir()
        for file, text in files.items():
            (tmp_path / name / file).write_text(text)
    settings = Settings.from_env(index_dir=tmp_path / "index", collections=(
        f"harbour={tmp_path / 'harbour'},library={tmp_path / 'library'}"))
    for c in collections(settings):
        build_index(c.settings, encoder)
    return settings


@pytest.fixture
def client(two):
    return create_app({"index_dir": two.index_dir, "collections": two.collections,
                       "model": FAKE_MODEL, "admin_keys": "k", "TESTING": True}).test_client()


def doc_ids(answer: dict) -> set[str]:
    return {p["doc_id"] for p in answer["passages"]}


def test_each_collection_answers_only_from_its_own_documents(client):
    question = "Who opened the library and how much do boats pay a night?"
    harbour = client.post("/api/ask", json={"question": question}).json
    library = client.post("/api/ask", json={"question": question,
                                            "collection": "library"}).json
    assert doc_ids(harbour) <= set(HARBOUR) and doc_ids(harbour)
    assert doc_ids(library) <= set(LIBRARY) and doc_ids(library)
    listed = client.get("/api/documents?collection=library").json["documents"]
    assert {d["doc_id"] for d in listed} == set(LIBRARY)
    assert client.get("/api/documents/fees.txt?collection=library").status_code == 404
    assert client.get("/api/documents/fees.txt").status_code == 200


def test_the_collections_are_listed_with_their_size_and_version(client, two):
    found = client.get("/api/collections").json["collections"]
    assert [(c["name"], c["default"], c["documents"], c["status"]) for c in found] == [
        ("harbour", True, 2, "ok"), ("library", False, 2, "ok")]
    assert found[1]["version"] == (two.index_dir / "library" / "current").resolve().name
    assert found[0]["model"] == FAKE_MODEL


def test_an_unknown_collection_is_a_404_naming_those_that_exist(client):
    for response in (client.post("/api/ask", json={"question": "fees", "collection": "x"}),
                     client.get("/api/documents?collection=x"),
                     client.get("/api/health?collection=x")):
        assert response.status_code == 404
        assert response.json["error"]["message"] == (
            "no collection 'x'; the collections are: harbour, library")
    response = client.post("/api/ask", json={"question": "fees", "collection": 3})
    assert response.status_code == 400


def test_a_write_changes_only_its_own_collection(client, two):
    response = client.post("/api/documents?collection=library&wait=30",
                           headers={"Authorization": "Bearer k"},
                           content_type="multipart/form-data",
                           data={"file": [(io.BytesIO(b"The library opens late on Thursdays."),
                                           "hours.txt")]})
    assert response.status_code == 202 and response.json["state"] == "done"
    assert response.headers["Location"].endswith("collection=library")
    library = collection_settings(two, "library")
    assert (library.corpus / "hours.txt").exists()
    assert not (collection_settings(two, "harbour").corpus / "hours.txt").exists()
    assert "hours.txt" in doc_ids(client.post("/api/ask", json={
        "question": "When does the library open late?", "collection": "library"}).json)
    assert "hours.txt" not in doc_ids(client.post("/api/ask", json={
        "question": "When does the library open late?"}).json)
    # A job belongs to its collection.
    job = response.json["id"]
    assert client.get(f"/api/jobs/{job}?collection=library",
                      headers={"Authorization": "Bearer k"}).status_code == 200
    assert client.get(f"/api/jobs/{job}", headers={"Authorization": "Bearer k"}
                      ).status_code == 404


def test_metrics_count_questions_by_collection(client):
    client.post("/api/ask", json={"question": "Who opened the library?",
                                  "collection": "library"})
    text = client.get("/metrics").get_data(as_text=True)
    assert 'qa_questions_total{collection="library",outcome="answered"}' in text
    assert 'qa_index_passages{collection="harbour"}' in text


def test_the_command_line_builds_and_asks_a_named_collection(runner, two, monkeypatch):
    from qa_service.cli.main import cli

    monkeypatch.setenv("QA_COLLECTIONS", two.collections)
    monkeypatch.setenv("QA_INDEX_DIR", str(two.index_dir))
    result = runner.invoke(cli, ["build", "--collection", "library"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(cli, ["ask", "--json", "--collection", "library",
                                 "Who opened the library?"])
    assert result.exit_code == 0, result.output
    assert doc_ids(json.loads(result.stdout)) <= set(LIBRARY)
    result = runner.invoke(cli, ["ask", "--json", "Who opened the library?"])
    assert doc_ids(json.loads(result.stdout)) <= set(HARBOUR)
    result = runner.invoke(cli, ["documents", "--collection", "nope"])
    assert result.exit_code == 1
    assert "no collection 'nope'; the collections are: harbour, library" in result.stderr


@pytest.mark.parametrize("spec, message", [
    ("news", "is not NAME=CORPUS_FOLDER"),
    ("News=x", "lower-case"),
    ("current=x", "lower-case"),
    ("v-1=x", "lower-case"),
    ("a=x,a=y", "names 'a' twice"),
])
def test_a_bad_collections_setting_is_refused(spec, message):
    with pytest.raises(InvalidInput, match=message):
        collections(Settings.from_env(collections=spec))


def test_without_the_setting_there_is_one_collection_as_before():
    settings = Settings.from_env(corpus="c", index_dir="i")
    [only] = collections(settings)
    assert (only.name, only.settings) == ("default", settings)
    with pytest.raises(NotFound):
        collection_settings(settings, "other")


def test_a_real_server_serves_both_and_follows_a_rebuild_of_one(two, encoder):
    from tests.conftest import LiveServer, post_json

    server = LiveServer(two.index_dir, env={"QA_MODEL": FAKE_MODEL,
                                            "QA_COLLECTIONS": two.collections})
    try:
        assert "collections harbour, library" in server.log()
        status, answer = post_json(server.url + "/api/ask", {
            "question": "Who opened the library?", "collection": "library"})
        assert status == 200 and doc_ids(answer) <= set(LIBRARY)
        library = collection_settings(two, "library")
        (library.corpus / "maps.txt").write_text("The Lindow maps room shows 300 maps.\n")
        build_index(library, encoder)
        import time

        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            status, answer = post_json(server.url + "/api/ask", {
                "question": "Where are the maps shown?", "collection": "library"})
            if "maps.txt" in doc_ids(answer):
                break
            time.sleep(0.2)
        assert "maps.txt" in doc_ids(answer)
        status, answer = post_json(server.url + "/api/ask", {"question": "maps room"})
        assert status == 200 and doc_ids(answer) <= set(HARBOUR)
    finally:
        server.stop()


def test_the_access_log_names_the_collection_asked(client, caplog):
    import logging

    with caplog.at_level(logging.INFO, logger="qa_service.http.access"):
        client.post("/api/ask", json={"question": "books", "collection": "library"})
    [line] = [r for r in caplog.records if r.name == "qa_service.http.access"]
    assert line.getMessage().endswith("[library]") and line.collection == "library"
