"""qa-service eval: question files and BEIR folders, every ranking side by side."""

from __future__ import annotations

import json
import re

import pytest

from qa_service import progress
from qa_service.cli import cli
from qa_service.evaluate.questions import evidence_form, is_furniture
from tests.conftest import FIXTURES


@pytest.fixture
def questions_file(cli_built_index):
    return FIXTURES / "questions.jsonl"


@pytest.fixture
def cli_built_index(runner, corpus):
    result = runner.invoke(cli, ["build", "--corpus", str(corpus)])
    assert result.exit_code == 0, result.output
    return corpus


def test_question_file_report_has_a_row_per_ranking_and_every_score(runner, questions_file):
    result = runner.invoke(cli, ["eval", str(questions_file)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert [line.split()[0] for line in lines[2:6]] == ["dense", "lexical", "weighted",
                                                         "learned"]
    for column in ("hit@1", "hit@5", "mrr@10", "followup_hit@3", "unanswerable_declined",
                   "answerable_declined", "conflict_sources@5", "furniture@5"):
        assert column in lines[1]


def test_question_file_scores_as_json(runner, questions_file):
    result = runner.invoke(cli, ["eval", "--json", str(questions_file)])
    report = json.loads(result.stdout)
    assert set(report["rankings"]) == {"dense", "lexical", "weighted", "learned"}
    assert set(report["rankings"]["learned"]) == set(report["rankings"]["weighted"])
    # The hand-set fusion's figures on the fake encoder's vectors are fixed; the learned
    # ranker was fitted on the real model's.
    default = report["rankings"]["weighted"]
    assert default["questions"] == 5
    assert default["hit@1"] == 1.0 and default["mrr@10"] == 1.0  # both found first
    assert default["followup_hit@3"] == 1.0
    assert default["conflict_sources@5"] >= 2
    assert default["conflict_sources_with_evidence@5"] == 2
    assert default["furniture@5"] == 0
    assert default["unanswerable_declined"].endswith("/1")
    assert default["answerable_declined"].endswith("/4")


def test_a_miss_lowers_the_scores_and_verbose_lists_it(runner, cli_built_index, tmp_path):
    path = tmp_path / "q.jsonl"
    path.write_text(json.dumps({"id": "x", "kind": "answerable",
                                "question": "When did engineers inspect the bridge?",
                                "evidence": ["no passage says this"]}) + "\n")
    result = runner.invoke(cli, ["eval", "--json", str(path)])
    assert json.loads(result.stdout)["rankings"]["learned"]["mrr@10"] == 0.0
    verbose = runner.invoke(cli, ["eval", "--verbose", str(path)])
    assert "x [answerable]" in verbose.stdout and "no answer in the passages" in verbose.stdout
    assert "1. Northport Gazette" in verbose.stdout


def test_beir_folder_builds_its_index_and_reports_ir_metrics(runner, tmp_path):
    index = tmp_path / "beir-index"
    args = ["eval", "--json", "--beir", str(FIXTURES / "beir"), "--index-dir", str(index)]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "Building the index" in result.stderr
    report = json.loads(result.stdout)
    default = report["rankings"]["learned"]
    assert default["queries"] == 4
    assert set(default) >= {"ndcg@10", "recall@10", "recall@100", "mrr@10"}
    assert default["recall@100"] == 1.0 and default["mrr@10"] >= 0.75
    again = runner.invoke(cli, args)  # the index is reused
    assert "Building" not in again.stderr


def test_beir_sample_runs_that_many_queries(runner, tmp_path):
    result = runner.invoke(cli, ["eval", "--json", "--beir", str(FIXTURES / "beir"),
                                 "--index-dir", str(tmp_path / "i"), "--sample", "2"])
    assert json.loads(result.stdout)["rankings"]["lexical"]["queries"] == 2
    assert re.search(r"^Evaluating lexical: 2/2 queries \(100%\), done in \d+ s$",
                     result.stderr, re.M)


def test_eval_to_a_log_prints_counted_lines_for_each_ranking(runner, questions_file,
                                                              monkeypatch):
    monkeypatch.setattr(progress, "INTERVAL_S", 0)  # a line at every question
    result = runner.invoke(cli, ["eval", "--json", str(questions_file)])
    assert result.exit_code == 0, result.output
    json.loads(result.stdout)  # the report alone: progress goes to stderr
    lines = result.stderr.splitlines()
    for name in ("dense", "lexical", "weighted", "learned"):
        shown = [line for line in lines if line.startswith(f"Evaluating {name}: ")]
        assert re.fullmatch(rf"Evaluating {name}: 1/5 questions \(20%\), \d+ s elapsed, "
                            r"about \d+ s left", shown[0])
        assert re.fullmatch(rf"Evaluating {name}: 5/5 questions \(100%\), done in \d+ s",
                            shown[-1])
        assert len(shown) == 5  # four on the way, one at the end


@pytest.mark.parametrize("args, message", [
    (["eval"], "either a QUESTIONS file or --beir"),
    (["eval", "x.jsonl", "--beir", "y"], "either a QUESTIONS file or --beir"),
    (["eval", "--beir", "/nonexistent"], "not a BEIR folder"),
    (["eval", "/nonexistent.jsonl"], "cannot read questions"),
])
def test_bad_arguments_are_one_line_errors(runner, args, message):
    result = runner.invoke(cli, args)
    assert result.exit_code != 0
    assert message in result.stderr


def test_a_broken_question_line_is_named(runner, cli_built_index, tmp_path):
    path = tmp_path / "q.jsonl"
    path.write_text('{"id": "x", "kind": "answerable", "question": "ok"}\n{"id": 2}\n')
    result = runner.invoke(cli, ["eval", str(path)])
    assert result.exit_code == 1 and "q.jsonl:2" in result.stderr


def test_evidence_matching_folds_quotes_spaces_and_case():
    assert evidence_form("The \u201cRed\u201d\u00a0 Alert") == evidence_form('the "red" alert')


@pytest.mark.parametrize("text, expected", [
    ("Do you like this article?", True),
    ("0 Comment(s)", True),
    ("A photo shows the shop after the attack. [Jane Doe]", True),
    ("Accessibility links", True),
    ("The attackers stormed two gun shops and a National Guard base on Sunday.", False),
])
def test_furniture_detection(text, expected):
    assert is_furniture(text) is expected


def test_a_beir_run_lists_what_an_answer_would_first_then_a_deeper_search(built, encoder):
    from qa_service.evaluate import beir
    from qa_service.search import Searcher
    from qa_service.store import Index

    settings = built.with_(candidates=2)  # a served set smaller than the corpus
    searcher = Searcher(Index.load(settings.index_dir), encoder, settings)
    question = "When will the bridge reopen?"
    docs = list(beir.ranked_documents(searcher, question))
    served = searcher.rank(question, (), settings.ranking.candidates)
    shown = list(dict.fromkeys(served.records[r]["doc_id"] for r in served.rows))
    assert docs[:len(shown)] == shown  # the service's own order, not a deeper set's
    deeper = searcher.rank(question, (), beir.DEPTH)
    every = {deeper.records[r]["doc_id"] for r in deeper.rows}
    assert len(every) > len(shown)
    assert set(docs) == every | set(shown)  # and the deeper search's documents after
