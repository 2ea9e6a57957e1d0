"""End to end on the default corpus with the real model (loaded once per session)."""

from __future__ import annotations

import json

import pytest

from qa_service.cli import cli

pytestmark = pytest.mark.model


@pytest.mark.parametrize("question, evidence", [
    ("When did the attack on the Pallas gun store start?", ("2.28pm", "14:28")),
    ("Who is Marat Shibutov?", ("Almaty political scientist",)),
    ("How long will the nationwide yellow alert last?", ("40 days",)),
    ("How far is Aqtobe from the Russian border?", ("100 kilometers",)),
    ("How many rifles did the attackers steal from the Pallas shop?", ("rifle",)),
    ("What did the Kremlin spokesman say?", ("Peskov",)),
])
def test_questions_are_answered_at_rank_one(real_searcher, question, evidence):
    answer = real_searcher.ask(question)
    top = answer.passages[0]
    assert answer.answerable
    assert any(e in top.text for e in evidence), top.text
    assert top.highlight in top.text


def test_the_pallas_answer_is_attributed_and_highlights_the_start_time(real_searcher):
    top = real_searcher.ask("When did the attack on the Pallas gun store start?").passages[0]
    assert (top.source, top.date) in {("Caravanserai", "2016-06-07"),
                                      ("Vestnik Kavkaza", "2016-06-06")}
    assert top.paragraph >= 1 and top.title and top.doc_id.endswith(".txt")
    assert "2.28pm" in top.highlight or "14:28" in top.highlight


def test_a_follow_up_uses_the_conversation(real_searcher):
    alone = real_searcher.ask("How many people died there?")
    followed = real_searcher.ask("How many people died there?",
                                 ["What happened at the Panther gun shop?"])
    assert "Panther" in followed.passages[0].text
    assert "Panther" not in alone.passages[0].text


@pytest.mark.parametrize("question", [
    "Who won the football World Cup in 2014?",
    "Who is the mayor of Paris?",
])
def test_questions_the_documents_do_not_answer_are_declined(real_searcher, question):
    answer = real_searcher.ask(question)
    assert answer.answerable is False
    assert len(answer.passages) == 5  # the closest passages are still shown


def test_confidence_is_a_probability_that_compares_across_questions(real_searcher):
    on_topic = real_searcher.ask("How many people were killed in the Aktobe attacks?")
    off_topic = real_searcher.ask("Which river flows through Budapest?")
    assert 0.0 <= off_topic.confidence < 0.1 < on_topic.confidence < 1.0
    assert on_topic.answerable and not off_topic.answerable
    # Scores are the ranker's, not rescaled per answer: an off-topic answer's best
    # passage does not score like an on-topic one's.
    assert off_topic.passages[0].score < on_topic.passages[0].score


def test_a_word_the_passage_does_not_use_does_not_decline_the_answer(real_searcher):
    # The README's own example: its first passage says "were killed", not "died".
    from qa_service.search import Filters

    answer = real_searcher.ask("How many died?", filters=Filters(
        sources=("RT",), date_from="2016-06-01", date_to="2016-06-30"))
    assert answer.answerable
    assert "killed" in answer.passages[0].text


@pytest.mark.parametrize("question", [
    "How many people died in the Paris attacks?",  # a city no report names
    "Who won the 2014 football World Cup?",
])
def test_a_question_on_events_the_reports_never_mention_is_declined(real_searcher, question):
    answer = real_searcher.ask(question)
    assert not answer.answerable and answer.confidence < 0.1


def test_a_self_contained_question_after_others_gets_its_own_answer(real_searcher):
    # Asked after questions on deaths, the injured are still what is asked for.
    answer = real_searcher.ask("How many people were injured in the Aktobe attacks?",
                               ["How many people died in Aktobe?",
                                "How many attackers were killed?"])
    assert answer.query == "How many people were injured in the Aktobe attacks?"
    assert "injured" in answer.passages[0].highlight


def test_page_furniture_is_never_returned(real_searcher):
    answer = real_searcher.ask("Do you like this article? Comment policy, accessibility links",
                               top_k=20)
    for p in answer.passages:
        for furniture in ("Do you like this article", "Comment(s)", "Accessibility links",
                          "Dismiss", "16x9 Image", "Read more"):
            assert furniture not in p.text


def test_cli_json_equals_the_searcher_answer(real_index, real_searcher, runner, monkeypatch):
    monkeypatch.setenv("QA_INDEX_DIR", str(real_index.index_dir))
    monkeypatch.setenv("QA_MODEL", real_index.model.name)
    question = "When did the attack on the Pallas gun store start?"
    result = runner.invoke(cli, ["ask", "--json", question])
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    expected = real_searcher.ask(question).to_dict()
    body.pop("took_ms"), expected.pop("took_ms")
    assert body == expected
