"""Writes over HTTP: add, replace and delete documents, each a job that a build runs."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys

import pytest

from qa_service.http import create_app
from qa_service.indexing import check
from qa_service.writes import Writer
from qa_service.writes.jobs import JobStore
from tests.conftest import FAKE_MODEL

ADMIN = {"Authorization": "Bearer admin-key"}
READER = {"Authorization": "Bearer read-key"}
WAIT = "?wait=60"


@pytest.fixture
def app(built):
    return create_app({"index_dir": built.index_dir, "corpus": built.corpus,
                       "model": FAKE_MODEL, "admin_keys": "admin-key", "TESTING": True})


def upload(client, files: dict[str, bytes], metadata=None, headers=ADMIN, **fields):
    data = {"file": [(io.BytesIO(body), name) for name, body in files.items()]}
    if metadata is not None:
        data["metadata"] = json.dumps(metadata)
    data.update(fields)
    return client.post(f"/api/documents{WAIT}", data=data, headers=headers,
                       content_type="multipart/form-data")


def ask(client, question: str) -> dict:
    response = client.post("/api/ask", json={"question": question})
    assert response.status_code == 200, response.json
    return response.json


def test_an_uploaded_file_is_answerable_with_its_metadata_after_its_job(client, built):
    text = b"# Harvest\n\nThe Lindow harvest festival is held on 3 October in the square.\n"
    response = upload(client, {"harvest.md": text},
                      {"source": "Lindow Parish", "date": "2024-09-01",
                       "tags": ["harvest", "festival"]})
    assert response.status_code == 202
    job = response.json
    assert response.headers["Location"] == f"/api/jobs/{job['id']}"
    assert job["state"] == "done", job
    assert job["files"] == [{"name": "harvest.md", "doc_id": "harvest.md",
                             "outcome": "indexed", "passages": 1}]
    assert job["index_version"] == client.get("/api/health").json["index"]["version"]
    first = ask(client, "When is the Lindow harvest festival?")["passages"][0]
    assert first["doc_id"] == "harvest.md"
    assert (first["source"], first["date"]) == ("Lindow Parish", "2024-09-01")
    # The corpus folder holds it, so a build from the folder agrees with the API.
    assert (built.corpus / "harvest.md").read_bytes() == text
    assert check(built.index_dir, built, built.corpus) is None
    assert client.get(f"/api/jobs/{job['id']}", headers=ADMIN).json == job


def test_a_document_sent_as_json_is_stored_as_text_with_its_title(client, built):
    response = client.post(f"/api/documents{WAIT}", headers=ADMIN, json={
        "title": "Library opening", "metadata": {"source": "Town Hall"},
        "text": "The new library was opened by Mayor Ada Brook on 4 May 2023."})
    assert response.status_code == 202 and response.json["state"] == "done"
    doc_id = response.json["files"][0]["doc_id"]
    assert doc_id.startswith("library-opening-") and doc_id.endswith(".txt")
    doc = client.get(f"/api/documents/{doc_id}").json
    assert (doc["title"], doc["source"]) == ("Library opening", "Town Hall")
    assert "Mayor Ada Brook" in doc["paragraphs"][0]["text"]


def test_replace_and_delete_change_what_is_answered(client, built):
    upload(client, {"notice.txt": b"The ferry to Holm leaves at 9 am from pier 4 daily.\n"})
    response = client.put(f"/api/documents/notice.txt{WAIT}", headers=ADMIN,
                          json={"text": "The ferry to Holm now leaves at 11 am from pier 2."})
    assert response.status_code == 202 and response.json["state"] == "done"
    assert response.json["files"][0]["outcome"] == "indexed"
    text = client.get("/api/documents/notice.txt").json["paragraphs"][0]["text"]
    assert "11 am" in text and "9 am" not in text
    response = client.delete(f"/api/documents/notice.txt{WAIT}", headers=ADMIN)
    assert response.status_code == 202
    assert response.json["files"] == [{"doc_id": "notice.txt", "outcome": "removed"}]
    assert client.get("/api/documents/notice.txt").status_code == 404
    assert not (built.corpus / "notice.txt").exists()
    assert all(p["doc_id"] != "notice.txt"
               for p in ask(client, "When does the ferry to Holm leave?")["passages"])


def test_deleting_a_document_drops_its_metadata_from_the_corpus_file(client, built):
    assert client.delete(f"/api/documents/flood.txt{WAIT}", headers=ADMIN).status_code == 202
    assert '["flood.txt"]' not in (built.corpus / "sources.toml").read_text("utf-8")
    # The file's comments and the other tables are kept.
    assert (built.corpus / "sources.toml").read_text("utf-8").startswith("# Metadata")


def test_a_file_the_build_skips_says_why_in_its_job(client):
    job = upload(client, {"scan.pdf": b"%PDF-1.4 not really a pdf"}).json
    assert job["state"] == "done"
    assert job["files"][0]["outcome"] == "skipped"
    assert job["files"][0]["reason"].startswith("unreadable as pdf")


@pytest.mark.parametrize("name, message", [
    ("../escape.txt", "holds a path"),
    ("a/b.txt", "holds a path"),
    (".hidden.txt", "starts with a dot"),
    ("sources.toml", "metadata file"),
    ("run.exe", "unsupported type"),
    ("bad\u202etxt.txt", "invisible"),
    (" spaced.txt", "spaces"),
    ("x" * 300 + ".txt", "longer than 255 bytes"),
])
def test_a_bad_file_name_is_refused_and_nothing_is_stored(client, built, name, message):
    before = sorted(p.name for p in built.corpus.rglob("*"))
    response = upload(client, {name: b"Some text about a harvest."})
    assert response.status_code == 400
    assert message in response.json["error"]["message"]
    assert sorted(p.name for p in built.corpus.rglob("*")) == before


def test_an_existing_document_is_not_clobbered_by_an_add(client, built):
    before = (built.corpus / "flood.txt").read_bytes()
    response = upload(client, {"flood.txt": b"Overwritten."})
    assert response.status_code == 409
    assert "PUT /api/documents/flood.txt" in response.json["error"]["message"]
    assert (built.corpus / "flood.txt").read_bytes() == before


def test_a_request_is_all_or_nothing(client, built):
    response = upload(client, {"one.txt": b"A first new report.", "flood.txt": b"clash"})
    assert response.status_code == 409
    assert not (built.corpus / "one.txt").exists()


@pytest.mark.parametrize("metadata, message", [
    ({"date": "someday"}, "is not a date"),
    ({f"f{i}": "v" for i in range(101)}, "at most 100"),
    ({"note": "x" * 2001}, "longer than 2000"),
    ({"bad key": "v"}, "field name"),
    ({"nested": {"a": 1}}, "must be text"),
    ([1, 2], "JSON object"),
])
def test_bad_metadata_is_refused(client, built, metadata, message):
    response = upload(client, {"new.txt": b"A new report."}, metadata)
    assert response.status_code == 400
    assert message in response.json["error"]["message"]
    assert not (built.corpus / "new.txt").exists()


def test_sizes_and_counts_are_bounded(built):
    app = create_app({"index_dir": built.index_dir, "corpus": built.corpus,
                      "model": FAKE_MODEL, "admin_keys": "admin-key", "TESTING": True,
                      "max_file_bytes": 100, "max_upload_files": 2,
                      "max_upload_bytes": 10_000})
    client = app.test_client()
    response = upload(client, {"big.txt": b"word " * 100})
    assert response.status_code == 413
    assert "over the limit of 100" in response.json["error"]["message"]
    response = upload(client, {f"{i}.txt": b"short text." for i in range(3)})
    assert response.status_code == 400 and "at most 2" in response.json["error"]["message"]
    response = upload(client, {"huge.txt": b"x" * 20_000})
    assert response.status_code == 413
    assert response.json["error"]["code"] == "payload_too_large" or \
        response.json["error"]["code"] == "request_entity_too_large"
    assert not any((built.corpus / n).exists() for n in ("big.txt", "0.txt", "huge.txt"))


def test_writes_are_refused_without_admin_keys(built):
    app = create_app({"index_dir": built.index_dir, "corpus": built.corpus,
                      "model": FAKE_MODEL, "TESTING": True})
    response = app.test_client().delete("/api/documents/flood.txt")
    assert response.status_code == 403
    assert "QA_ADMIN_KEYS" in response.json["error"]["message"]
    assert (built.corpus / "flood.txt").exists()


def test_read_keys_cannot_write_and_wrong_keys_are_throttled(built):
    app = create_app({"index_dir": built.index_dir, "corpus": built.corpus,
                      "model": FAKE_MODEL, "TESTING": True, "api_keys": "read-key",
                      "admin_keys": "admin-key", "auth_failure_limit": "3/minute"})
    client = app.test_client()
    response = client.delete("/api/documents/flood.txt", headers=READER)
    assert response.status_code == 403 and "read but not write" in \
        response.json["error"]["message"]
    # An admin key reads too.
    assert client.post("/api/ask", json={"question": "flood"}, headers=ADMIN).status_code == 200
    codes = [client.delete("/api/documents/flood.txt",
                           headers={"Authorization": f"Bearer guess-{i}"}).status_code
             for i in range(5)]
    assert codes == [401, 401, 401, 429, 429]
    assert (built.corpus / "flood.txt").exists()


def test_the_writes_probe_says_whether_writes_are_on_and_their_limits(built):
    app = create_app({"index_dir": built.index_dir, "corpus": built.corpus,
                      "model": FAKE_MODEL, "TESTING": True, "api_keys": "read-key",
                      "admin_keys": "admin-key", "auth_failure_limit": "3/minute",
                      "max_upload_files": 5})
    client = app.test_client()
    response = client.get("/api/writes", headers=ADMIN)
    assert response.status_code == 200
    body = response.json
    assert body["writable"] is True and body["reason"] is None
    assert body["max_upload_files"] == 5 and ".md" in body["types"]
    assert body["max_file_bytes"] == built.build.max_file_bytes
    assert client.get("/api/writes", headers=READER).status_code == 403
    # /api/health (open) says that writes are on, so that a page can offer the key's form.
    assert client.get("/api/health").json["writes"] is True
    assert client.get("/api/ready", headers=READER).json["writes"] is True
    codes = [client.get("/api/writes", headers={"Authorization": f"Bearer guess-{i}"}
                        ).status_code for i in range(4)]
    assert codes == [401, 401, 401, 429]
    # Without admin keys: 403, saying how to turn writes on; and health says they are off.
    off = create_app({"index_dir": built.index_dir, "corpus": built.corpus,
                      "model": FAKE_MODEL, "TESTING": True}).test_client()
    response = off.get("/api/writes")
    assert response.status_code == 403 and "QA_ADMIN_KEYS" in response.json["error"]["message"]
    assert off.get("/api/health").json["writes"] is False


def test_a_job_cut_off_by_a_crash_is_marked_failed_and_the_index_is_unchanged(built):
    store = JobStore(built.index_dir)
    job = store.create("add", [{"name": "x.txt", "doc_id": "x.txt"}])
    store.claim()
    # A process that no longer exists held it.
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()
    with store._connect() as db:
        db.execute("UPDATE jobs SET owner = ? WHERE id = ?",
                   (f"{os.uname().nodename}:{dead}", job["id"]))
    version = (built.index_dir / "current").resolve().name
    app = create_app({"index_dir": built.index_dir, "corpus": built.corpus,
                      "model": FAKE_MODEL, "admin_keys": "admin-key", "TESTING": True})
    found = app.test_client().get(f"/api/jobs/{job['id']}", headers=ADMIN).json
    assert found["state"] == "failed" and "stopped during this job's build" in found["error"]
    assert (built.index_dir / "current").resolve().name == version


def test_a_corpus_jsonl_cannot_be_written(tmp_path, encoder):
    from qa_service.config import Settings
    from qa_service.indexing import build_index

    (tmp_path / "beir").mkdir()
    (tmp_path / "beir" / "corpus.jsonl").write_text(
        json.dumps({"_id": "d1", "title": "T", "text": "Some text about floods."}) + "\n")
    settings = Settings.from_env(corpus=tmp_path / "beir", index_dir=tmp_path / "bi")
    build_index(settings, encoder)
    app = create_app({"index_dir": settings.index_dir, "corpus": settings.corpus,
                      "model": FAKE_MODEL, "admin_keys": "admin-key", "TESTING": True})
    response = upload(app.test_client(), {"new.txt": b"A new report."})
    assert response.status_code == 400
    assert "only in a folder corpus" in response.json["error"]["message"]
    probe = app.test_client().get("/api/writes", headers=ADMIN).json
    assert probe["writable"] is False and "only in a folder corpus" in probe["reason"]


def test_writes_during_a_build_go_into_the_next_one(built):
    writer = Writer(built, background=False)
    from qa_service.writes import Upload

    first = writer.add([Upload("a.txt", b"Report A on the harbour works.")])
    # Claimed by a build; a second write arrives before that build runs.
    claimed = writer.jobs.claim()
    second = writer.add([Upload("b.txt", b"Report B on the harbour works.")])
    assert [j["id"] for j in claimed] == [first["id"]]
    assert writer.jobs.get(second["id"])["state"] == "queued"
    writer.jobs._connect().execute("UPDATE jobs SET state = 'queued' WHERE id = ?",
                                   (first["id"],))
    while writer.runner.run_pending():
        pass
    a, b = writer.job(first["id"]), writer.job(second["id"])
    assert a["state"] == b["state"] == "done"
    assert a["files"][0]["outcome"] == b["files"][0]["outcome"] == "indexed"


def test_cli_add_and_remove_change_the_corpus_and_the_index(runner, built, tmp_path):
    from qa_service.cli.main import cli

    note = tmp_path / "note.md"
    note.write_text("The museum night is on 12 June with free entry to all halls.\n")
    args = ["--corpus", str(built.corpus), "--index-dir", str(built.index_dir)]
    result = runner.invoke(cli, ["add", str(note), "--meta", "source=Museum",
                                 "--meta", "tags=a", "--meta", "tags=b", *args])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == ["note.md: indexed (1 passage)"]
    assert 'tags = ["a", "b"]' in (built.corpus / "sources.toml").read_text("utf-8")
    result = runner.invoke(cli, ["add", str(note), *args])
    assert result.exit_code == 1 and "a document 'note.md' exists" in result.stderr
    result = runner.invoke(cli, ["remove", "note.md", *args])
    assert result.exit_code == 0 and result.stdout.splitlines() == ["note.md: removed"]
    result = runner.invoke(cli, ["remove", "note.md", *args])
    assert result.exit_code == 1
    assert result.stderr.strip() == "Error: no document 'note.md' in the corpus"


def test_a_real_server_takes_uploads_bigger_than_a_question_and_serves_them(
        runner, built, tmp_path, monkeypatch):
    from qa_service.cli.main import cli
    from tests.conftest import LiveServer, post_json

    server = LiveServer(built.index_dir, env={"QA_MODEL": FAKE_MODEL,
                                              "QA_ADMIN_KEYS": "admin-key"},
                        args=("--corpus", str(built.corpus)))
    try:
        # 400 KB: over the 256 KB a question may be, within an upload's 32 MB.
        report = tmp_path / "report.txt"
        report.write_text("The Holm lighthouse was relit on 2 April 2022 by the keeper.\n\n"
                          + "Unrelated filler about the weather in the bay. " * 8000)
        monkeypatch.setenv("QA_ADMIN_KEY", "admin-key")
        result = runner.invoke(cli, ["add", str(report), "--server", server.url,
                                     "--meta", "source=Holm Times"])
        assert result.exit_code == 0, result.output
        assert result.stdout.startswith("report.txt: indexed (")
        status, answer = post_json(server.url + "/api/ask",
                                   {"question": "When was the Holm lighthouse relit?"})
        assert status == 200
        assert answer["passages"][0]["doc_id"] == "report.txt"
        assert answer["passages"][0]["source"] == "Holm Times"
        monkeypatch.setenv("QA_ADMIN_KEY", "wrong")
        result = runner.invoke(cli, ["remove", "report.txt", "--server", server.url])
        assert result.exit_code == 1
        assert result.stderr.strip() == "Error: the admin key is not valid"
        assert (built.corpus / "report.txt").exists()
    finally:
        server.stop()
