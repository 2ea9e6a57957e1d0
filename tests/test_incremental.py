"""Incremental builds: only new or changed documents are embedded; the result equals a
full build of the same corpus."""

from __future__ import annotations

import os

import numpy as np
import pytest

from qa_service.encoders import HashEncoder
from qa_service.indexing import build_index
from qa_service.store import Index


class CountingEncoder(HashEncoder):
    """The fake encoder, remembering every text it was asked to embed."""

    def __init__(self):
        super().__init__(256)
        self.texts: list[str] = []

    def encode(self, texts, batch_size=64, progress=False):
        self.texts += list(texts)
        return super().encode(texts, batch_size, progress)


# Every stored table, in full: an incremental build copies rows and postings that a full
# build works out again, and each must come out the same.
TABLES = ("documents", "passages", "sentences", "passage_keys", "document_keys", "doc_hashes",
          "doc_lines", "vocab", "vocab_counts", "lexicon_terms")


def _contents(settings) -> tuple[dict, np.ndarray, np.ndarray]:
    from qa_service.store.lexicon import FILES

    index = Index.load(settings.index_dir)
    try:
        found = {table: [tuple(r) for r in index.passages._query(
            f"SELECT * FROM {table} ORDER BY 1")] for table in TABLES}
        found["fts"] = [tuple(r) for r in index.passages._query(
            "SELECT rowid FROM passages_fts WHERE passages_fts MATCH 'the OR a OR in' "
            "ORDER BY rowid")]
        for name in FILES:
            found[name] = np.load(index.path / name).tolist()
        return found, index.vectors.all_vectors(), np.asarray(index.vectors.sentences)
    finally:
        index.close()


def _assert_same_as_full_build(settings, tmp_path):
    ids, vecs, sents = _contents(settings)
    full = settings.with_(index_dir=tmp_path / "full")
    build_index(full, HashEncoder(256))
    full_ids, full_vecs, full_sents = _contents(full)
    for key in full_ids:
        assert ids[key] == full_ids[key], key
    np.testing.assert_allclose(vecs, full_vecs, atol=1e-6)
    np.testing.assert_allclose(sents, full_sents, atol=1e-6)


def _only_from(settings, texts: list[str], doc_id: str) -> bool:
    """Say whether every embedded text is (part of) a passage of `doc_id` in the index
    (a word the corpus did not hold before is embedded alone, folded: its word vector)."""
    index = Index.load(settings.index_dir)
    try:
        passages = [r["text"] for r in index.passages.document(doc_id)[1]]
    finally:
        index.close()
    return bool(texts) and all(any(t in p or t in p.lower() for p in passages) for t in texts)


@pytest.fixture
def counting():
    return CountingEncoder()


def test_an_unchanged_corpus_embeds_nothing(built, counting, tmp_path):
    report = build_index(built, counting)
    assert counting.texts == []
    assert report.reused_documents == 3 and report.embedded_passages == 0
    _assert_same_as_full_build(built, tmp_path)


def test_adding_a_document_embeds_only_its_passages(built, counting, tmp_path):
    text = ("A heron nested on the old mill chimney in Eastwick this spring.\n\n"
            "Birdwatchers counted four chicks by the end of May.")
    (built.corpus / "heron.txt").write_text(text, "utf-8")
    report = build_index(built, counting)
    assert report.reused_documents == 3 and report.embedded_passages >= 1
    assert _only_from(built, counting.texts, "heron.txt")
    index = Index.load(built.index_dir)
    hits = index.vectors.search(counting.encode(["heron chimney chicks"])[0], 1)
    assert index.passages.passages([hits[0][0]])[hits[0][0]]["doc_id"] == "heron.txt"
    index.close()
    _assert_same_as_full_build(built, tmp_path)


def test_changing_a_document_re_embeds_only_it(built, counting, tmp_path):
    path = built.corpus / "more" / "orchard.md"
    path.write_text(path.read_text("utf-8") + "\n\nThe cider press opens on Saturdays.\n",
                    "utf-8")
    report = build_index(built, counting)
    assert report.reused_documents == 2
    assert _only_from(built, counting.texts, "more/orchard.md")
    _assert_same_as_full_build(built, tmp_path)


def test_metadata_change_re_embeds_that_document(built, counting):
    with open(built.corpus / "sources.toml", "a", encoding="utf-8") as fh:
        fh.write('\n["more/orchard.md"]\nsource = "Greenvale Post"\n')
    report = build_index(built, counting)
    assert report.reused_documents == 2
    index = Index.load(built.index_dir)
    assert index.passages.document("more/orchard.md")[0]["source"] == "Greenvale Post"
    index.close()


def test_deleting_a_document_removes_it_from_results(built, counting, tmp_path):
    (built.corpus / "flood.txt").unlink()
    report = build_index(built, counting)
    assert counting.texts == [] and report.documents == 2
    index = Index.load(built.index_dir)
    query = counting.encode(["flood riverside bridge"])[0]
    found = index.vectors.search(query, 20)
    docs = {r["doc_id"] for r in index.passages.passages([r for r, _ in found]).values()}
    assert "flood.txt" not in docs and docs
    index.close()
    _assert_same_as_full_build(built, tmp_path)


@pytest.mark.parametrize("change", [{"max_tokens": 128}, {"embed_title": True},
                                    {"model": "hash:128"}])
def test_a_model_or_chunking_change_forces_a_full_build(built, change):
    counting = CountingEncoder() if "model" not in change else HashEncoder(128)
    settings = built.with_(**change)
    report = build_index(settings, counting)
    assert report.reused_documents == 0 and report.embedded_passages == report.passages


class StandInModel(HashEncoder):
    """Hash vectors under a real model's name, computed by the backend given."""

    def __init__(self, backend: str):
        super().__init__(256)
        self.name, self.backend = "stand-in-model", backend


def test_a_switch_between_int8_and_full_precision_vectors_embeds_everything(settings):
    from qa_service.indexing import stale_reason

    first = build_index(settings, StandInModel("onnx"))
    # torch and bf16 compute the vectors onnx does (to 1e-4): they are reused.
    for backend in ("torch", "bf16"):
        again = build_index(settings, StandInModel(backend))
        assert (again.reused_documents, again.embedded_passages) == (first.documents, 0)
    switched = build_index(settings, StandInModel("int8"))
    assert switched.reused_documents == 0 and switched.embedded_passages == switched.passages
    index = Index.load(settings.index_dir)
    assert index.manifest.model["backend"] == "int8"
    # The same rule decides staleness: fresh for int8 builds, stale for full precision.
    named = settings.with_(model="stand-in-model")
    assert stale_reason(index.manifest, named.with_(backend="int8")) is None
    assert "backend 'int8'" in stale_reason(index.manifest, named.with_(backend="onnx"))
    index.close()
    back = build_index(settings, StandInModel("onnx"))
    assert back.reused_documents == 0 and back.embedded_passages == back.passages


def test_full_flag_rebuilds_everything(built, counting):
    report = build_index(built, counting, full=True)
    assert report.reused_documents == 0 and len(counting.texts) > report.passages


def test_an_approximate_index_is_rebuilt_incrementally_too(settings, counting, tmp_path,
                                                         monkeypatch):
    import faiss

    approx = settings.with_(exact_limit=2)
    build_index(approx, HashEncoder(256))
    (approx.corpus / "heron.txt").write_text("A heron nested on the mill chimney.", "utf-8")
    with monkeypatch.context() as patch:
        # The trained centroids of the live index are reused: no k-means again.
        patch.setattr(faiss.IndexIVFFlat, "train", lambda *a: pytest.fail("retrained"))
        report = build_index(approx, counting)
    assert report.vector_index == "ivf" and report.reused_documents == 3
    _assert_same_as_full_build(approx, tmp_path)


def test_documents_cleaned_in_worker_processes_give_the_index_of_a_serial_build(
        settings, tmp_path, monkeypatch):
    from qa_service.ingest import parallel

    started = []
    start_pool = parallel.OrderedIngest._start_pool
    monkeypatch.setattr(parallel.OrderedIngest, "_start_pool",
                        lambda self: started.append(1) or start_pool(self))
    monkeypatch.setattr(parallel, "WORKERS", 2)
    monkeypatch.setattr(parallel, "POOL_AFTER", 1)  # every document after the first
    monkeypatch.setattr(parallel, "WINDOW_PER_WORKER", 1)  # writing waits on the workers
    build_index(settings, HashEncoder(256))
    assert started == [1]
    monkeypatch.setattr(parallel, "POOL_AFTER", 10**9)
    serial = settings.with_(index_dir=tmp_path / "serial")
    build_index(serial, HashEncoder(256))
    assert started == [1]
    ids, vecs, sents = _contents(settings)
    serial_ids, serial_vecs, serial_sents = _contents(serial)
    assert ids == serial_ids and len(ids) > 3
    assert np.array_equal(vecs, serial_vecs) and np.array_equal(sents, serial_sents)


def test_an_encoder_whose_token_counter_cannot_be_shared_builds_in_one_process(
        settings, monkeypatch):
    from qa_service.ingest import parallel

    monkeypatch.setattr(parallel, "WORKERS", 2)
    monkeypatch.setattr(parallel, "POOL_AFTER", 1)
    monkeypatch.setattr(parallel.OrderedIngest, "_start_pool", lambda self: 1 / 0)
    encoder = HashEncoder(256)
    encoder.token_counter = None  # e.g. a model without a tokenizer.json
    report = build_index(settings, encoder)
    assert report.passages > 3


def test_a_document_that_fails_in_a_worker_fails_the_build_and_keeps_the_old_index(
        built, monkeypatch):
    from qa_service.ingest import parallel

    before = Index.load(built.index_dir)
    version = before.path
    before.close()
    monkeypatch.setattr(parallel, "WORKERS", 2)
    monkeypatch.setattr(parallel, "POOL_AFTER", 0)  # every document goes to a worker
    here = os.getpid()

    def boom(raw, *args):
        raise RuntimeError(f"cannot clean {raw.doc_id} in a worker: {os.getpid() != here}")

    monkeypatch.setattr(parallel, "ingest_document", boom)  # workers are forked: they see it
    with pytest.raises(RuntimeError, match="in a worker: True"):
        build_index(built, HashEncoder(256), full=True)
    after = Index.load(built.index_dir)
    assert after.path == version
    after.close()


def _pdf_paged(path, new_page_before: int) -> None:
    """Write three paragraphs as a PDF, a new page before paragraph `new_page_before`."""
    import datetime as dt

    from fpdf import FPDF

    paragraphs = (
        "The north pier was closed for repairs in March, and the ferries used the south "
        "quay until the work was done in May.",
        "The lighthouse on the headland was repainted in the summer, its lamp serviced by "
        "two engineers from the mainland.",
        "Passenger numbers rose by a tenth over the year, with the busiest week in August "
        "when the festival was held.")
    pdf = FPDF()
    pdf.set_creation_date(dt.datetime(2024, 5, 3, tzinfo=dt.UTC))
    pdf.set_font("Helvetica", size=11)
    pdf.add_page()
    for i, text in enumerate(paragraphs):
        if i == new_page_before:
            pdf.add_page()
        pdf.multi_cell(0, 6, text)
        pdf.ln(6)
    pdf.output(str(path))


def test_a_pdf_repaginated_with_the_same_text_gets_its_new_page_numbers(built, counting):
    def pages() -> dict[str, int]:
        index = Index.load(built.index_dir)
        try:
            return {r["text"].split()[1]: r["page"]
                    for r in index.passages.document("report.pdf")[1]}
        finally:
            index.close()

    _pdf_paged(built.corpus / "report.pdf", new_page_before=2)
    build_index(built, counting)
    assert pages() == {"north": 1, "lighthouse": 1, "numbers": 2}
    _pdf_paged(built.corpus / "report.pdf", new_page_before=1)
    report = build_index(built, counting)
    assert report.reused_documents == 3
    assert pages() == {"north": 1, "lighthouse": 2, "numbers": 2}


def _age(folder, seconds: float = 3600) -> None:
    """Set every file's mtime back, as files written well before a build are."""
    for path in folder.rglob("*"):
        if path.is_file():
            os.utime(path, (path.stat().st_atime - seconds, path.stat().st_mtime - seconds))


def test_files_unchanged_since_the_build_before_are_not_read_again(
        settings, counting, tmp_path, monkeypatch):
    from qa_service.ingest.readers.text import TextReader

    _age(settings.corpus)
    build_index(settings, counting)
    reads: list[str] = []
    original = TextReader.read
    monkeypatch.setattr(TextReader, "read",
                        lambda self, data, name: reads.append(name) or original(self, data, name))
    (settings.corpus / "heron.txt").write_text(
        "A heron nested on the old mill chimney in Eastwick this spring.\n", "utf-8")
    (settings.corpus / "more" / "orchard.md").unlink()
    report = build_index(settings, counting)
    # Only the new file is read (for repeated lines, then for its text); flood.txt,
    # unchanged, is not, and is reused as stored.
    assert reads == ["heron.txt", "heron.txt"]
    assert report.reused_documents == 2
    _assert_same_as_full_build(settings, tmp_path)


def test_a_metadata_change_alone_is_seen_without_a_content_change(settings, counting, tmp_path):
    _age(settings.corpus)
    build_index(settings, counting)
    toml = settings.corpus / "sources.toml"
    toml.write_text(toml.read_text("utf-8").replace("Northport Gazette", "Northport Times"),
                    "utf-8")
    build_index(settings, counting)
    index = Index.load(settings.index_dir)
    try:
        assert index.passages.document("flood.txt")[0]["source"] == "Northport Times"
    finally:
        index.close()
    _assert_same_as_full_build(settings, tmp_path)
