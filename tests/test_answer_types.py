"""Typed spans stored with each passage at build time, and the answer_type signal on them.

The feature is off by default (setting answer_types): its tests turn it on (`ON`); the
last ones check that off, nothing calls spaCy.
"""

from __future__ import annotations

import shutil
import sqlite3

import pytest

from qa_service.search import Searcher, answer_type
from qa_service.search.signals import BY_NAME
from qa_service.store import PassageStore
from qa_service.store.keys import pack_types, unpack_types

FESTIVAL = "The festival opens on 28 September in Greenvale."
ANSWERS = {
    "dated.txt": "Harvest festival\n\nThe harvest festival of the old town opens on "
    "28 September.",
    "counted.txt": "Harvest festival library\n\nThe harvest festival library of the old "
    "town holds 120,000 books.",
}
QUESTION = "When is the harvest festival?"
# The setting that turns spaCy's answer types on, for a build and for questions.
ON = {"answer_types": True}


def _typed(searcher, question):
    candidates = searcher.candidates(question)
    scores = BY_NAME["answer_type"].compute(candidates)
    return {candidates.records[r]["doc_id"]: v for r, v in scores.items()}, candidates


def test_typed_spans_pack_and_unpack():
    spans = [(22, 34, "date"), (38, 47, "place"), (0, 3, "money")]
    assert unpack_types(pack_types(spans)) == spans
    assert unpack_types(pack_types([])) == []


def test_a_build_stores_each_passage_s_typed_spans_at_their_offsets(searcher_over):
    searcher = searcher_over({"festival.txt": FESTIVAL}, min_chars=20, **ON)
    store = searcher.index.passages
    assert store.has_types
    records = store.passages(list(range(store.passage_count)), keys=True)
    (row, record), = records.items()
    text = record["text"]
    spans = store.record_types(records)[row]
    found = {text[start:end]: kind for start, end, kind in spans}
    assert found == {"28 September": "date", "Greenvale": "place"}
    assert all(text.find(text[s:e]) == s for s, e, _ in spans)


def test_answer_type_reads_the_stored_span_of_the_kind_asked(searcher_over):
    searcher = searcher_over(ANSWERS, min_chars=20, **ON)
    assert searcher.index.passages.has_types
    typed, candidates = _typed(searcher, QUESTION)
    assert candidates.query.answer_kind == "date"
    assert candidates.stored_types is not None
    assert typed == {"dated.txt": 1.0, "counted.txt": 0.0}
    # A "how many" question: the books are a number, the date is not.
    typed, _ = _typed(searcher, "How many books does the festival library hold?")
    assert typed == {"dated.txt": 0.0, "counted.txt": 1.0}


def test_an_index_built_without_typed_spans_reads_the_text_by_pattern(searcher_over):
    searcher = searcher_over(ANSWERS, min_chars=20)  # built with answer types off
    searcher = Searcher(searcher.index, searcher.encoder, searcher.settings.with_(**ON))
    assert not searcher.index.passages.has_types
    typed, candidates = _typed(searcher, QUESTION)
    assert candidates.stored_types is None
    assert typed == {"dated.txt": 1.0, "counted.txt": 0.0}
    answer = searcher.ask(QUESTION)
    assert answer.passages[0].doc_id in ANSWERS


def test_an_index_without_the_types_column_still_answers(searcher_over, tmp_path):
    # The passages file as a build before typed spans wrote it: no column, no meta row.
    searcher = searcher_over(ANSWERS, min_chars=20, **ON)
    older = tmp_path / "older.sqlite"
    shutil.copy(searcher.index.passages.path, older)
    db = sqlite3.connect(older)
    db.execute("ALTER TABLE passage_keys DROP COLUMN types")
    db.execute("DELETE FROM meta WHERE name = 'span_kinds'")
    db.commit()
    db.close()
    index = searcher.index
    index.passages = PassageStore(older)
    searcher = Searcher(index, searcher.encoder, searcher.settings)
    assert not index.passages.has_types and index.passages.has_spans
    typed, candidates = _typed(searcher, QUESTION)
    assert candidates.stored_types is None
    assert typed == {"dated.txt": 1.0, "counted.txt": 0.0}
    assert searcher.ask(QUESTION).passages[0].doc_id in ANSWERS


@pytest.mark.parametrize("kind, spans, start, end, held", [
    ("date", [(10, 22, "date")], 0, 30, True),
    ("date", [(10, 22, "date")], 12, 30, False),  # the span starts before the sentence
    ("date", [(10, 22, "number")], 0, 30, False),
    ("quantity", [(10, 22, "date")], 0, 30, True),  # "three years" answers "how long"
    ("person", [(0, 5, "organisation"), (40, 45, "person")], 0, 30, True),
    ("place", [(0, 5, "person"), (40, 45, "place")], 0, 30, False),
    (None, [(0, 5, "date")], 0, 30, False),
])
def test_a_span_answers_a_kind_it_is_accepted_for(kind, spans, start, end, held):
    assert answer_type.answers(kind, spans, start, end) is held


def test_the_kind_asked_is_worked_out_once_per_question():
    answer_type.asked.cache_clear()
    assert answer_type.expected(QUESTION, typed=True) == "date"
    assert answer_type.expected(QUESTION, typed=True) == "date"
    assert answer_type.asked.cache_info().hits == 1


def test_a_rebuild_keeps_the_spans_of_unchanged_passages_and_finds_the_new_ones(
        tmp_path, encoder, monkeypatch):
    from qa_service.config import Settings
    from qa_service.indexing import build_index, types
    from qa_service.store import Index

    corpus = tmp_path / "typed-corpus"
    corpus.mkdir()
    for name, text in ANSWERS.items():
        (corpus / name).write_text(text)
    settings = Settings().with_(corpus=corpus, index_dir=tmp_path / "typed-index",
                                model="hash:256", min_chars=20, **ON)
    build_index(settings, encoder)
    (corpus / "festival.txt").write_text(FESTIVAL)
    analysed = []
    real = types.typed_spans
    monkeypatch.setattr(types, "typed_spans",
                        lambda texts: analysed.extend(texts) or real(texts))
    report = build_index(settings, encoder)
    assert report.reused_documents == 2
    assert analysed == [FESTIVAL]  # the reused passages' spans are copied
    store = Index.load(settings.index_dir).passages
    records = store.passages(list(range(store.passage_count)), keys=True)
    stored = store.record_types(records)
    kinds = {records[r]["doc_id"]: {k for _, _, k in spans} for r, spans in stored.items()}
    assert kinds == {"dated.txt": {"date"}, "counted.txt": {"number"},
                     "festival.txt": {"date", "place"}}


def test_a_loaded_service_has_the_pipeline_ready_before_its_first_question(built):
    from qa_service.service import Service
    from qa_service.text import entities

    service = Service.load(built.with_(**ON))
    assert entities._nlp is not None
    assert service.ask({"question": QUESTION}).passages


def test_a_rebuild_over_an_index_without_spans_finds_them_for_reused_passages(
        tmp_path, encoder):
    from qa_service.config import Settings
    from qa_service.indexing import build_index
    from qa_service.store import Index

    corpus = tmp_path / "typed-corpus"
    corpus.mkdir()
    for name, text in ANSWERS.items():
        (corpus / name).write_text(text)
    settings = Settings().with_(corpus=corpus, index_dir=tmp_path / "typed-index",
                                model="hash:256", min_chars=20)  # answer types off
    build_index(settings, encoder)
    assert not Index.load(settings.index_dir).passages.has_types
    report = build_index(settings.with_(**ON), encoder)
    assert report.reused_documents == 2  # the passages and vectors, not the spans
    store = Index.load(settings.index_dir).passages
    assert store.has_types
    records = store.passages(list(range(store.passage_count)), keys=True)
    assert all(store.record_types(records).values())


def _refuse_spacy(monkeypatch):
    """Make every way into spaCy fail the test (the modules that import it by name too)."""
    from qa_service.indexing import types
    from qa_service.text import entities

    def refuse(*args, **kwargs):
        raise AssertionError("spaCy was called with answer types off")

    for module, name in [(entities, "answer_kind"), (entities, "typed_spans"),
                         (entities, "pipeline"), (answer_type, "answer_kind"),
                         (answer_type, "pipeline"), (types, "typed_spans")]:
        monkeypatch.setattr(module, name, refuse)
    answer_type.asked.cache_clear()  # no kind remembered from a test with them on


def test_by_default_a_build_stores_no_spans_and_questions_never_call_spacy(
        searcher_over, monkeypatch):
    from qa_service.config import Settings
    from qa_service.service import Service

    assert Settings().ranking.answer_types is False
    assert Settings.from_env({}).ranking.answer_types is False
    assert Settings.from_env({"QA_ANSWER_TYPES": "1"}).ranking.answer_types is True
    _refuse_spacy(monkeypatch)
    searcher = searcher_over(ANSWERS, min_chars=20)
    store = searcher.index.passages
    assert not store.has_types
    db = sqlite3.connect(store.path)
    assert db.execute("SELECT count(*) FROM passage_keys WHERE types IS NOT NULL"
                      ).fetchone() == (0,)
    assert db.execute("SELECT count(*) FROM meta WHERE name = 'span_kinds'").fetchone() == (0,)
    db.close()
    # The kind asked by pattern, the sentence read by pattern: a date for "when".
    typed, candidates = _typed(searcher, QUESTION)
    assert candidates.query.answer_kind == "date"
    assert candidates.stored_types is None
    assert typed == {"dated.txt": 1.0, "counted.txt": 0.0}
    typed, _ = _typed(searcher, "How many books does the festival library hold?")
    assert typed == {"dated.txt": 1.0, "counted.txt": 1.0}  # by pattern "28" is a number
    assert answer_type.expected("Who opened the festival library?") is None
    # A server loads no pipeline and answers.
    service = Service.load(searcher.settings, searcher.encoder)
    assert service.ask({"question": QUESTION}).passages
    service.index.close()


def test_an_index_built_with_spans_served_with_them_off_ignores_them(searcher_over,
                                                                       monkeypatch):
    searcher = searcher_over(ANSWERS, min_chars=20, **ON)
    assert searcher.index.passages.has_types
    _refuse_spacy(monkeypatch)
    off = Searcher(searcher.index, searcher.encoder, searcher.settings.with_(answer_types=False))
    typed, candidates = _typed(off, QUESTION)
    assert candidates.query.answer_kind == "date"
    assert candidates.stored_types is None
    assert typed == {"dated.txt": 1.0, "counted.txt": 0.0}
    assert off.ask(QUESTION).passages[0].doc_id in ANSWERS
