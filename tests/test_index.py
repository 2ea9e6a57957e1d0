"""Building, loading, staleness and damage: an index is whole or clearly reported."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap

import pytest

from qa_service.errors import CorpusError, IndexCorrupt, IndexMissing, QAError
from qa_service.indexing import build_index, check
from qa_service.ingest import INGEST_VERSION
from qa_service.store import Index, Manifest, layout


def test_build_then_load(built):
    index = Index.load(built.index_dir)
    m = index.manifest
    assert m.counts["documents"] == 3
    assert m.counts["passages"] == index.vectors.count == 8
    assert m.model == {"name": "hash:256", "dimension": 256, "max_tokens": 256,
                       "backend": None}
    assert m.vectors["type"] == "flat" and m.vectors["metric"] == "inner_product"
    assert m.chunking == {"max_tokens": 256, "min_chars": 60, "embed_title": False,
                          "ingest_version": INGEST_VERSION, "sentence_vectors": "pooled"}
    assert len(m.corpus["fingerprint"]) == 64
    assert {"faiss", "numpy", "python", "qa-service"} <= set(m.versions)
    assert m.built_at and m.build_seconds >= 0
    assert set(m.files) == {"passages.sqlite", "passages.faiss", "sentences.npy",
                            "lexicon_ptr.npy", "lexicon_docs.npy", "lexicon_hits.npy",
                            "lexicon_lengths.npy", "words.txt", "word_vectors.npy",
                            "passage_words.npy", "passage_word_starts.npy",
                            "passage_words_ptr.npy", "passage_title_words.npy",
                            "passage_title_words_ptr.npy"}


def test_the_build_time_reported_counts_every_stage_reading_included(settings, encoder):
    report = build_index(settings, encoder)
    stages = report.stages
    assert {"passages written", "lexicon written", "vector index written"} <= set(stages)
    # The time a build reports (and the manifest keeps) is the whole build: at least the
    # sum of its stages, reading and cleaning the corpus among them.
    assert report.seconds >= sum(s.seconds for s in stages.values()) - 0.01
    assert Index.load(settings.index_dir).manifest.build_seconds == report.seconds


def test_above_the_exact_limit_an_approximate_index_is_chosen_and_recorded(settings, encoder):
    build_index(settings.with_(exact_limit=4), encoder)
    index = Index.load(settings.index_dir)
    assert index.manifest.vectors["type"] == "ivf"
    assert index.manifest.vectors["nprobe"] >= 1 and index.manifest.vectors["nlist"] >= 1
    assert index.vectors.count == 8


def test_rebuild_replaces_the_live_version_atomically_and_prunes_old_ones(built, encoder):
    root = built.index_dir
    first = layout.resolve(root)
    for _ in range(3):
        build_index(built, encoder)
    live = layout.resolve(root)
    assert live != first and (root / "current").is_symlink()
    versions = sorted(p.name for p in root.glob("v-*"))
    assert len(versions) == 2 and live.name == versions[-1]  # live plus the one before


def test_missing_index_is_a_clear_error(tmp_path):
    with pytest.raises(IndexMissing, match="qa-service build"):
        Index.load(tmp_path / "nothing")


def test_up_to_date_index_is_not_stale(built):
    assert check(built.index_dir, built) is None


@pytest.mark.parametrize("change", ["edit", "add", "remove", "metadata"])
def test_corpus_changes_make_the_index_stale(built, change):
    corpus = built.corpus
    if change == "edit":
        (corpus / "flood.txt").write_text("Changed.\n\nA new story about the weather.", "utf-8")
    elif change == "add":
        (corpus / "new.txt").write_text("A new story about the weather in the city.", "utf-8")
    elif change == "remove":
        (corpus / "more" / "orchard.md").unlink()
    else:
        with open(corpus / "sources.toml", "a", encoding="utf-8") as fh:
            fh.write('\n["more/orchard.md"]\nsource = "Greenvale Post"\n')
    reason = check(built.index_dir, built)
    assert reason and reason.startswith("corpus file 1 ")  # one file changed, in the singular


def test_a_touched_but_unchanged_file_is_not_stale(built):
    path = built.corpus / "flood.txt"
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))
    assert check(built.index_dir, built) is None


def test_another_model_or_chunking_makes_the_index_stale(built):
    assert "model" in check(built.index_dir, built.with_(model="hash:32"))
    assert "chunking" in check(built.index_dir, built.with_(max_tokens=128))


def test_truncated_vector_file_is_reported_by_name(built):
    path = layout.resolve(built.index_dir) / "passages.faiss"
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(IndexCorrupt, match="passages.faiss"):
        Index.load(built.index_dir)


def test_garbage_sqlite_of_the_right_size_is_reported_by_name(built):
    path = layout.resolve(built.index_dir) / "passages.sqlite"
    path.write_bytes(b"\x00garbage" * (path.stat().st_size // 8) + b"\x00" * (
        path.stat().st_size % 8))
    with pytest.raises(IndexCorrupt, match="passages.sqlite"):
        Index.load(built.index_dir)


def test_garbage_vectors_of_the_right_size_are_reported_by_name(built):
    path = layout.resolve(built.index_dir) / "passages.faiss"
    path.write_bytes(b"\xff" * path.stat().st_size)
    with pytest.raises(IndexCorrupt, match="passages.faiss"):
        Index.load(built.index_dir)


def test_missing_file_and_broken_manifest_are_reported(built):
    folder = layout.resolve(built.index_dir)
    (folder / "sentences.npy").unlink()
    with pytest.raises(IndexCorrupt, match=r"sentences.npy of version v-\S+ is missing"):
        Index.load(built.index_dir)
    (folder / "manifest.json").write_text("{not json", "utf-8")
    with pytest.raises(IndexCorrupt, match="manifest.json"):
        Index.load(built.index_dir)
    assert "manifest.json" in check(built.index_dir, built)


def test_manifest_that_disagrees_with_the_files_is_reported(built):
    folder = layout.resolve(built.index_dir)
    data = json.loads((folder / "manifest.json").read_text("utf-8"))
    data["counts"]["passages"] += 1
    (folder / "manifest.json").write_text(json.dumps(data), "utf-8")
    with pytest.raises(IndexCorrupt, match="counts"):
        Index.load(built.index_dir)


def test_a_failed_build_leaves_the_previous_index_whole(built, encoder, monkeypatch):
    before = Manifest.read(layout.resolve(built.index_dir))

    def explode(*args, **kwargs):
        raise RuntimeError("encoder died")

    monkeypatch.setattr(encoder, "encode", explode)
    with pytest.raises(RuntimeError):
        build_index(built, encoder)
    assert Index.load(built.index_dir).manifest.built_at == before.built_at
    assert not list(built.index_dir.glob(".work-*"))


def test_an_empty_corpus_is_an_error_and_keeps_the_old_index(built, encoder, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "blank.txt").write_text("\n\n", "utf-8")
    with pytest.raises(CorpusError, match="no text"):
        build_index(built.with_(corpus=empty), encoder)
    assert Index.load(built.index_dir).manifest.counts["documents"] == 3


def test_a_build_killed_half_way_leaves_the_previous_index_whole(built, encoder):
    before = Manifest.read(layout.resolve(built.index_dir))
    # A real SIGKILL in the middle of embedding, in a separate process.
    script = textwrap.dedent(f"""
        import os, signal
        from pathlib import Path
        from qa_service.config import Settings
        from qa_service.encoders import get_encoder
        from qa_service.indexing import build_index
        encoder = get_encoder("hash:256")
        def die(*args, **kwargs):
            os.kill(os.getpid(), signal.SIGKILL)
        encoder.encode = die
        build_index(Settings().with_(corpus=Path({str(built.corpus)!r}),
                                     index_dir=Path({str(built.index_dir)!r}), model="hash:256"),
                    encoder)
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=120)
    assert proc.returncode == -signal.SIGKILL
    assert list(built.index_dir.glob(".work-*"))  # it died with its work folder in place
    index = Index.load(built.index_dir)
    assert index.manifest.built_at == before.built_at
    assert index.passages.count("passages") == before.counts["passages"]
    build_index(built, encoder)
    assert not list(built.index_dir.glob(".work-*"))  # the next build cleans up


def test_loading_never_unpickles(built):
    folder = layout.resolve(built.index_dir)
    import numpy as np

    np.save(folder / "sentences.npy", np.array([object()], dtype=object), allow_pickle=True)
    data = json.loads((folder / "manifest.json").read_text("utf-8"))
    data["files"]["sentences.npy"] = (folder / "sentences.npy").stat().st_size
    (folder / "manifest.json").write_text(json.dumps(data), "utf-8")
    with pytest.raises(IndexCorrupt, match="sentences.npy"):
        Index.load(built.index_dir)


@pytest.mark.skipif(not os.path.exists("/proc/self/maps"), reason="needs Linux /proc")
@pytest.mark.parametrize("exact_limit", [100, 2])
def test_vectors_are_memory_mapped_so_workers_share_them(settings, encoder, exact_limit):
    build_index(settings.with_(exact_limit=exact_limit), encoder)
    index = Index.load(settings.index_dir)
    maps = open("/proc/self/maps").read()
    assert str(index.path / "passages.faiss") in maps
    assert str(index.path / "sentences.npy") in maps
    index.words.vectors([0])  # read on first use, then mapped like the rest
    assert str(index.path / "word_vectors.npy") in open("/proc/self/maps").read()
    index.close()


def test_ray_engine_without_ray_installed_is_a_clear_error(settings, encoder, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray now raises ImportError
    with pytest.raises(QAError, match=r"pip install 'qa-service\[ray\]'"):
        build_index(settings, encoder, engine="ray")
    assert not settings.index_dir.exists() or not list(settings.index_dir.glob("v-*"))


def _edit_manifest(folder, change) -> None:
    data = json.loads((folder / "manifest.json").read_text("utf-8"))
    change(data)
    (folder / "manifest.json").write_text(json.dumps(data), "utf-8")


def _resize_in_manifest(folder, name) -> None:
    _edit_manifest(folder, lambda d: d["files"].update({name: (folder / name).stat().st_size}))


def test_a_truncated_vector_file_is_caught_by_faiss_itself(built):
    # The manifest is made to agree with the new size: the reader must still notice.
    folder = layout.resolve(built.index_dir)
    path = folder / "passages.faiss"
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    _resize_in_manifest(folder, "passages.faiss")
    with pytest.raises(IndexCorrupt, match=r"passages.faiss of version v-\S+ is corrupt"):
        Index.load(built.index_dir)


def test_a_truncated_sqlite_file_is_reported_by_name(built):
    folder = layout.resolve(built.index_dir)
    path = folder / "passages.sqlite"
    path.write_bytes(path.read_bytes()[:1000])
    _resize_in_manifest(folder, "passages.sqlite")
    with pytest.raises(IndexCorrupt, match="passages.sqlite"):
        Index.load(built.index_dir)


@pytest.mark.parametrize("change, message", [
    (lambda d: d["counts"].update(sentences=d["counts"]["sentences"] - 1), "counts"),
    (lambda d: d["counts"].update(passages=d["counts"]["passages"] - 1), "counts"),
    (lambda d: d["model"].update(dimension=128), "256-dimensional vectors, the manifest says"),
])
def test_a_manifest_that_disagrees_with_the_files_is_reported(built, change, message):
    _edit_manifest(layout.resolve(built.index_dir), change)
    with pytest.raises(IndexCorrupt, match=message):
        Index.load(built.index_dir)


def test_a_manifest_naming_a_model_of_another_dimension_is_reported(built):
    from qa_service.service import Service

    _edit_manifest(layout.resolve(built.index_dir), lambda d: d["model"].update(name="hash:128"))
    with pytest.raises(IndexCorrupt, match="'hash:128', which gives 128-dimensional"):
        Service.load(built)


def test_an_index_damaged_while_served_gives_503_json_not_answers(app, client, built):
    path = layout.resolve(built.index_dir) / "passages.sqlite"
    with open(path, "r+b") as fh:  # in place, as a failing disk would
        fh.write(b"\x00garbage" * (path.stat().st_size // 8))
    for response in (client.post("/api/ask", json={"question": "bridge"}),
                     client.get("/api/documents/flood.txt"), client.get("/api/documents")):
        assert response.status_code == 503
        error = response.get_json()["error"]
        assert error["code"] == "index_corrupt" and "passages.sqlite" in error["message"]
    # Same size, so only reading finds it: liveness stays 200 but does not call it fine.
    health = client.get("/api/health").get_json()
    assert health["status"] == "degraded" and health["index"] == "unavailable"
    assert client.get("/api/ready").status_code == 503


def test_the_app_starts_on_a_damaged_index_and_answers_503_naming_the_file(built):
    from qa_service.http import create_app
    from tests.test_api import assert_matches

    version = layout.resolve(built.index_dir)
    path = version / "passages.faiss"
    path.write_bytes(b"\xff" * path.stat().st_size)
    client = create_app({"index_dir": built.index_dir}).test_client()
    response = client.post("/api/ask", json={"question": "bridge"})
    assert response.status_code == 503
    error = response.get_json()["error"]
    assert error["code"] == "index_corrupt"
    assert error["message"].startswith(f"passages.faiss of version {version.name} is corrupt")
    assert str(built.index_dir) not in error["message"]
    health = client.get("/api/health")
    assert health.status_code == 200 and health.get_json()["index"] == "unavailable"
    assert_matches(health, "/api/health")  # as the OpenAPI document describes it
    assert client.get("/api/ready").status_code == 503


@pytest.mark.parametrize("scan_limit", [0, 10_000])
def test_term_matches_among_rows_are_the_same_by_scan_or_by_lookup(built, monkeypatch,
                                                                   scan_limit):
    from qa_service.store import passages

    monkeypatch.setattr(passages, "SCAN_LIMIT", scan_limit)
    store = Index.load(built.index_dir).passages
    every = list(range(store.passage_count))
    holding = {r for r, _ in store.bm25('"bridge"', len(every))}
    assert holding and len(holding) < len(every)  # the word is in some passages only
    some = every[::2]
    assert holding & set(some) and holding - set(some)  # found among the rows, and not
    assert sorted(store.matching('"bridge"', some)) == sorted(holding & set(some))
    assert store.matching('"bridge"', []) == []


def test_a_build_stores_each_passage_s_word_keys_as_its_text_gives_them(built):
    from qa_service.text import content_keys

    store = Index.load(built.index_dir).passages
    rows = list(range(store.passage_count))
    assert store.has_keys
    stored = store.word_keys(rows)
    texts = store.passages(rows)
    for row in rows:
        offsets, keys = content_keys(texts[row]["text"])
        assert keys and (list(stored[row][0]), list(stored[row][1])) == (list(offsets),
                                                                         list(keys))


def test_keys_made_another_way_are_not_read_but_made_again_from_the_text(built, tmp_path):
    import shutil
    import sqlite3

    from qa_service.store import PassageStore

    live = Index.load(built.index_dir).passages
    copy = tmp_path / "other-keys.sqlite"
    shutil.copy(live.path, copy)
    with sqlite3.connect(copy) as db:
        db.execute("UPDATE passage_keys SET keys = 'wrong'")
        db.execute("UPDATE meta SET value = 'another-scheme' WHERE name = 'key_scheme'")
    other = PassageStore(copy)
    assert not other.has_keys
    assert other.word_keys([0, 1]) == {r: tuple(map(tuple, v))
                                       for r, v in live.word_keys([0, 1]).items()}


@pytest.mark.parametrize("missing", ["keys", "spans", "document_keys"])
def test_an_index_without_stored_keys_ranks_exactly_as_one_with_them(built, encoder, missing):
    from qa_service.search import Searcher

    def ranked(stored: bool):
        index = Index.load(built.index_dir)
        assert index.passages.has_keys and index.passages.has_spans
        assert index.passages.has_document_keys
        setattr(index.passages, f"has_{missing}", stored)  # as a build before they were kept
        ranking = Searcher(index, encoder, built).rank("When did the bridge open?", (), 5)
        return ranking.rows, ranking.signals, ranking.highlights

    assert ranked(True) == ranked(False)


def test_a_build_stores_sentence_spans_and_documents_title_and_lead_keys(built):
    from qa_service.text import content_keys

    store = Index.load(built.index_dir).passages
    rows = list(range(store.passage_count))
    records = store.passages(rows, keys=True)  # one read brings the keys along
    keys, spans = store.record_keys(records)
    assert keys == {r: (list(o), list(k)) for r, (o, k) in store.word_keys(rows).items()}
    table = store.sentence_spans(rows)
    assert [(records[p]["sent_first"] + i, p, s, e) for p in rows
            for i, (s, e) in enumerate(spans[p])] == table
    stored = store.record_documents(records)
    docs = sorted({rec["doc_id"] for rec in records.values()})
    leads = store.leads(docs)
    assert stored.keys() == set(docs)
    for doc in docs:
        title, lead = stored[doc]
        assert title == list(content_keys(records[leads[doc]]["title"])[1])
        assert set(lead) == set(content_keys(records[leads[doc]]["text"])[1])
    plain = store.passages(rows)  # answers read without them
    assert "key_words" not in plain[0].keys() and store.record_documents(plain) == {}
