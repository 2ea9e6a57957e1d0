"""Signals: one list, each a named score over a question's candidates, each tested here."""

from __future__ import annotations

import math
import re

import pytest

from qa_service.search.signals import BY_NAME, SIGNALS

REPORTS = {
    "almaty.txt": "Gunman kills five\n\nA gunman opened fire at a police station "
    "in Almaty on Monday, officials said.\n\nFive people were killed, three of them police "
    "officers, before the gunman was detained.",
    "aktobe.txt": "Attacks on gun shops in Aktobe\n\nAttackers raided two gun shops and a "
    "military unit in Aktobe on Sunday.\n\nSeventeen people were killed in the Aktobe "
    "attacks, among them soldiers and attackers.",
}


@pytest.fixture
def searcher(searcher_over):
    return searcher_over(REPORTS, min_chars=20)


@pytest.fixture
def candidates(searcher):
    return searcher.candidates("how many people died in Almaty")


def _by_paragraph(candidates, scores):
    return {(candidates.records[r]["doc_id"], candidates.records[r]["paragraph"]): v
            for r, v in scores.items()}


def test_every_signal_is_named_once_described_in_one_line_and_scores_every_candidate(
        candidates):
    assert len(BY_NAME) == len(SIGNALS)
    for signal in SIGNALS:
        assert re.fullmatch(r"[a-z][a-z0-9_]*", signal.name)
        assert signal.description.endswith(".") and "\n" not in signal.description
        scores = signal.compute(candidates)
        assert set(scores) <= set(candidates.rows), signal.name
        assert all(math.isfinite(v) for v in scores.values()), signal.name
    assert [s.name for s in SIGNALS if s.alone] == ["dense", "lexical"]


def test_title_counts_the_question_s_words_in_the_document_title(searcher):
    candidates = searcher.candidates("what did the gunman do")
    title = _by_paragraph(candidates, BY_NAME["title"].compute(candidates))
    assert title[("almaty.txt", 2)] == title[("almaty.txt", 1)] > 0
    assert title[("aktobe.txt", 2)] == 0.0


def test_context_reads_a_passage_with_its_document_s_title_and_lead(candidates):
    # "Five people were killed" never says Almaty, nor does its title: its lead does.
    context = _by_paragraph(candidates, BY_NAME["context"].compute(candidates))
    coverage = _by_paragraph(candidates, BY_NAME["coverage"].compute(candidates))
    assert context[("almaty.txt", 2)] > coverage[("almaty.txt", 2)]
    assert context[("almaty.txt", 2)] > context[("aktobe.txt", 2)]


def test_the_lead_of_a_document_is_its_first_passage(candidates):
    from qa_service.text import content_keys

    leads = candidates.store.leads(["almaty.txt", "aktobe.txt"])
    texts = candidates.store.passages(list(leads.values()))
    assert texts[leads["almaty.txt"]]["text"].startswith("A gunman opened fire")
    assert texts[leads["aktobe.txt"]]["text"].startswith("Attackers raided")
    assert "almat" in candidates.lead_keys["almaty.txt"]
    for doc, row in leads.items():
        assert candidates.lead_keys[doc] == set(content_keys(texts[row]["text"])[1])


def test_event_reads_the_question_s_names_wherever_the_report_gives_them(searcher):
    # "Seventeen people were killed in the Aktobe attacks" shares more words with the
    # question than the Almaty report's "Five people were killed", but not its event.
    candidates = searcher.candidates("How many people were killed in the Almaty attack?")
    event = _by_paragraph(candidates, BY_NAME["event"].compute(candidates))
    assert event[("almaty.txt", 2)] == 1.0  # Almaty is in its lead and the passage before
    assert event[("aktobe.txt", 2)] == 0.0


def test_a_name_the_corpus_never_mentions_marks_every_candidate_down(searcher):
    candidates = searcher.candidates("How many people were killed in the Shymkent attack?")
    assert candidates.query.capitalised == ("shymkent",)
    event = BY_NAME["event"].compute(candidates)
    assert event and set(event.values()) == {0.0}
    # Without a capital the word is no name: nothing says what the question is about.
    lower = searcher.candidates("how many people were killed in the shymkent attack")
    assert set(BY_NAME["event"].compute(lower).values()) == {0.0}
    assert lower.query.capitalised == ()


def test_known_names_says_whether_the_corpus_mentions_the_question_s_names(searcher):
    def known(question):
        found = searcher.candidates(question)
        return set(BY_NAME["known_names"].compute(found).values())

    assert known("How many people were killed in the Almaty attack?") == {1.0}
    assert known("How many people were killed in the Paris attack?") == {0.0}
    assert known("how many people were killed") == {1.0}  # no name asked


def test_a_near_miss_counts_names_as_if_its_documents_were_gone(searcher):
    asked = "How many people were killed in the Almaty attack?"
    whole = searcher.candidates(asked)
    missed = searcher.candidates(asked, without=frozenset({"almaty.txt"}))
    assert {whole.records[r]["doc_id"] for r in whole.rows} >= {"almaty.txt"}
    assert all(missed.records[r]["doc_id"] != "almaty.txt" for r in missed.rows)
    assert set(BY_NAME["known_names"].compute(whole).values()) == {1.0}
    assert set(BY_NAME["known_names"].compute(missed).values()) == {0.0}
