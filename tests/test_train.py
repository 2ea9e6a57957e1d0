"""qa-service train-ranker: the learned ranker and answerability, fitted and shipped as text."""

from __future__ import annotations

import json
import re
import shutil

import pytest

from qa_service import progress
from qa_service.cli import cli
from qa_service.config import Settings
from qa_service.errors import InvalidInput
from qa_service.search.learned import load_ranker
from qa_service.search.signals import SIGNALS
from tests.conftest import FIXTURES

TOPICS = ["harbour crane", "orchard cider", "glacier melt", "violin workshop", "tram depot",
          "lighthouse lamp", "bakery oven", "comet sighting", "river ferry", "chess club",
          "wind farm", "library archive"]


def _collection(folder, name_prefix):
    """A BEIR folder of one short document and one question per topic."""
    (folder / "qrels").mkdir(parents=True)
    with open(folder / "corpus.jsonl", "w") as corpus, \
            open(folder / "queries.jsonl", "w") as queries:
        for n, topic in enumerate(TOPICS):
            corpus.write(json.dumps({"_id": f"{name_prefix}{n}", "title": topic.title(),
                                     "text": f"The {topic} was inspected on day {n} and "
                                             f"the {topic} passed every check."}) + "\n")
            queries.write(json.dumps({"_id": f"q{n}",
                                      "text": f"When was the {topic} inspected?"}) + "\n")
    (folder / "qrels" / "train.tsv").write_text(
        "query-id\tcorpus-id\tscore\n"
        + "".join(f"q{n}\t{name_prefix}{n}\t1\n" for n in range(len(TOPICS))))
    return folder


def _train(runner, tmp_path):
    """Train on two small collections; return the command's result."""
    first = tmp_path / "news-a"
    shutil.copytree(FIXTURES / "beir", first)
    second = _collection(tmp_path / "topics-b", "d")
    result = runner.invoke(cli, [
        "train-ranker", str(first), str(second), "--out", str(tmp_path / "ranker.json"),
        "--folds", "2", "--foreign", "3", "--seed", "7", "--index-root",
        str(tmp_path / "indexes"), "--report", str(tmp_path / "report.json")])
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture
def trained(runner, tmp_path):
    _train(runner, tmp_path)
    return tmp_path / "ranker.json", json.loads((tmp_path / "report.json").read_text())


def test_training_to_a_log_prints_counted_lines_as_it_gathers_and_fits(runner, tmp_path,
                                                                        monkeypatch):
    monkeypatch.setattr(progress, "INTERVAL_S", 0)  # a line at every question and fold
    lines = _train(runner, tmp_path).stderr.splitlines()
    assert "\r" not in "".join(lines)  # lines, not a bar redrawn into the log
    # Each corpus is asked its own questions (4 and 12), then 3 of the other's.
    for origin, corpus, count in (("news-a", "news-a", 4), ("topics-b", "news-a", 3),
                                  ("topics-b", "topics-b", 12), ("news-a", "topics-b", 3)):
        shown = [line for line in lines if line.startswith(f"Gathering {origin} on {corpus}:")]
        assert re.fullmatch(rf"Gathering {origin} on {corpus}: 1/{count} questions "
                            rf"\({100 // count}%\), \d+ s elapsed, about \d+ s left", shown[0])
        assert re.fullmatch(rf"Gathering {origin} on {corpus}: {count}/{count} questions "
                            r"\(100%\), done in \d+ s", shown[-1])
        assert len(shown) == count
    assert re.search(r"^Fitting the ranker: 1/2 folds \(50%\), .* left$", "\n".join(lines),
                     re.M)
    assert re.search(r"^Fitting the ranker: 2/2 folds \(100%\), done in \d+ s$",
                     "\n".join(lines), re.M)


def test_the_ranker_file_records_its_data_seed_and_command(trained):
    out, report = trained
    model = json.loads(out.read_text())
    assert model["seed"] == 7 and model["folds"] == 2
    assert model["command"].startswith("qa-service train-ranker ")
    assert "--seed 7" in model["command"]
    assert [d["collection"] for d in model["data"]] == ["news-a", "topics-b"]
    assert all(len(d["sha256"]["queries.jsonl"]) == 64 for d in model["data"])
    assert model["signals"] == [s.name for s in SIGNALS]
    assert model["held_out"] == report
    # Gathered over the settings' candidates: a server taking another number is told.
    assert model["candidates"] == Settings().ranking.candidates
    assert all(d["candidates"] == model["candidates"] for d in model["data"])
    # Which backend embedded each index is kept (the hashing encoder has none).
    assert all("backend" in d and d["backend"] is None for d in model["data"])


def test_a_server_taking_other_candidates_than_its_ranker_learned_on_says_so(trained,
                                                                              caplog):
    from qa_service.search.fusion import get_fusion

    out, _ = trained
    learned_on = json.loads(out.read_text())["candidates"]
    get_fusion(Settings().with_(ranker=str(out)).ranking)
    assert "trained on" not in caplog.text
    get_fusion(Settings().with_(ranker=str(out), candidates=learned_on + 20).ranking)
    assert f"trained on {learned_on} candidates per retriever; this ranking takes " \
           f"{learned_on + 20}" in caplog.text


def test_the_report_scores_every_ranking_on_held_out_folds(trained):
    _, report = trained
    for collection in ("news-a", "topics-b"):
        scores = report["ranking"][collection]
        assert set(scores) == {"queries", "dense", "lexical", "weighted", "learned"}
        assert all(0.0 <= scores[r]["mrr@10"] <= 1.0 for r in ("dense", "learned"))
    assert 0.0 <= report["calibration"]["auc"] <= 1.0
    assert 0.0 <= report["answerability"]["auc"] <= 1.0


def test_a_trained_file_ranks_and_calibrates_through_the_setting(trained, built, encoder):
    from qa_service.search import Searcher
    from qa_service.store import Index

    out, _ = trained
    settings = built.with_(ranker=str(out))
    answer = Searcher(Index.load(settings.index_dir), encoder, settings).ask(
        "Who is the museum director?")
    assert answer.passages and 0.0 <= answer.confidence <= 1.0
    # Two models: P(the first passage answers) shown, P(the corpus answers) decides.
    model = load_ranker(str(out))
    assert model.answerability is not model.calibration
    ranking = Searcher(Index.load(settings.index_dir), encoder, settings).rank(
        "Who is the museum director?")
    assert answer.confidence == round(ranking.confidence, 4)
    assert answer.answerable == (ranking.answers >= settings.ranking.answer_threshold)


def test_an_unreadable_ranker_file_is_a_clear_error(tmp_path):
    with pytest.raises(InvalidInput, match="cannot read ranker"):
        load_ranker(str(tmp_path / "missing.json"))
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": 99}')
    with pytest.raises(InvalidInput, match="not a ranker file"):
        load_ranker(str(bad))


def test_the_shipped_ranker_reads_every_signal_and_says_how_it_was_made():
    model = load_ranker(Settings().ranking.ranker)
    assert model.signals == tuple(s.name for s in SIGNALS)
    assert model.meta["command"].startswith("qa-service train-ranker ")
    assert {d["collection"] for d in model.meta["data"]} == {
        "realtimeqa-train", "squad-train-sample", "scifact-train", "squad-train-full"}
    assert model.answerability is not model.calibration
    # Fitted on the vectors `auto` builds on a CPU without AMX, as most machines are.
    assert {d["backend"] for d in model.meta["data"]} == {"int8"}
    assert model.meta["candidates"] == Settings().ranking.candidates  # gathered as served
    assert model.meta["answer_types"] == Settings().ranking.answer_types


@pytest.mark.parametrize("args, message", [
    (["train-ranker", "--out", "x.json"], "Missing argument"),
    (["train-ranker", "/nonexistent", "--out", "x.json"], "not a BEIR folder"),
])
def test_bad_arguments_are_one_line_errors(runner, args, message):
    result = runner.invoke(cli, args)
    assert result.exit_code != 0 and message in result.output


def test_near_misses_leave_out_the_documents_of_their_answer_and_release():
    from qa_service.learn.collect import answers_removed, release

    assert release("20200103_4") == "20200103" and release("5727f2e6ff") == "5727f2e6ff"
    assert release("Time_x") == "Time_x"  # not a numbered release
    qrels = {"20200103_0": {"a": 1}, "20200103_1": {"b": 1, "z": 0}, "20200110_0": {"c": 1},
             "q7": {"d": 1}}
    removed = answers_removed(["20200103_1", "20200110_0", "q7"], qrels)
    assert removed == {"20200103_1": {"a", "b"}, "20200110_0": {"c"}, "q7": {"d"}}


def test_a_near_miss_is_asked_without_its_answer_and_counts_as_unanswered(built, encoder):
    from qa_service.learn.collect import collect
    from qa_service.search import Searcher
    from qa_service.store import Index

    searcher = Searcher(Index.load(built.index_dir), encoder, built)
    question = {"q": "When did engineers inspect the Riverside bridge?"}
    qrels = {"q": {"flood.txt": 1}}
    [asked] = collect(searcher, "c", "c", question, qrels)
    [missed] = collect(searcher, "c", "c", question, qrels, {"q": frozenset({"flood.txt"})})
    assert "flood.txt" in asked.doc_ids and asked.own and asked.labels.any()
    assert "flood.txt" not in missed.doc_ids and missed.doc_ids
    assert missed.removed and not missed.own and not missed.labels.any()
    assert missed.question == question["q"]


def test_the_report_checks_confidence_bin_by_bin_and_ranks_by_kind(trained):
    _, report = trained
    calibration = report["calibration"]
    table = calibration["reliability"]
    assert sum(b["answers"] for b in table["bins"]) == table["answers"]
    assert 0.0 <= table["ece"] <= 1.0
    answerability = report["answerability"]
    assert answerability["threshold"] == Settings().ranking.answer_threshold
    for collection in ("news-a", "topics-b"):
        # The confidence over a collection's own questions, and its declines.
        assert calibration["collections"][collection]["answers"] > 0
        found = answerability["collections"][collection]
        assert {"own_declined", "near_misses_declined", "others_declined", "sweep"} <= set(
            found)
        assert [row["threshold"] for row in found["sweep"]] == sorted(
            row["threshold"] for row in found["sweep"])
    # Every question of topics-b asks "When was ...?".
    assert set(report["by_kind"]["topics-b"]) == {"when"}
    assert report["by_kind"]["topics-b"]["when"]["questions"] == len(TOPICS)


def test_reliability_bins_and_expected_calibration_error():
    import numpy as np

    from qa_service.learn.reliability import question_kind, reliability

    found = reliability(np.array([0.95, 0.95, 0.95, 0.95, 0.15, 0.15]),
                        np.array([1, 1, 1, 0, 0, 0]))
    assert [(b["bin"], b["answers"], b["right"]) for b in found["bins"]] == [
        ("0.1-0.2", 2, 0.0), ("0.9-1.0", 4, 0.75)]
    # |0.95 - 0.75| over 4 of 6 answers, |0.15 - 0| over 2 of 6.
    assert found["ece"] == pytest.approx(4 / 6 * 0.2 + 2 / 6 * 0.15, abs=1e-4)
    assert found["at_0.9"] == {"answers": 4, "right": 0.75}
    assert [question_kind(q) for q in ("How many died?", "Who opened it?", "Why?",
                                       "Which city?", "Aspirin cures colds.")] == [
        "how many", "who", "why", "what", "other"]


def test_the_confidence_reads_the_first_passage_lead_over_the_next():
    from qa_service.search.confidence import calibration_values

    signals = {"ranker": {1: 2.0, 2: 0.5, 3: 1.5}, "dense": {1: 0.3, 2: 0.6, 3: 0.1}}
    assert calibration_values(("gap.ranker", "top.dense", "best.dense"), signals, 1) == \
        pytest.approx([0.5, 0.3, 0.6])


def test_a_server_taking_other_answer_types_than_its_ranker_learned_with_says_so(trained,
                                                                                  caplog):
    from qa_service.search.fusion import get_fusion

    out, _ = trained
    assert json.loads(out.read_text())["answer_types"] is False  # gathered as the default
    get_fusion(Settings().with_(ranker=str(out)).ranking)
    assert "answer_types" not in caplog.text
    get_fusion(Settings().with_(ranker=str(out), answer_types=True).ranking)
    assert "trained with answer_types off; this ranking takes on" in caplog.text


def test_features_give_each_signal_its_aspects_in_the_order_the_ranker_learned():
    """Each signal's value, share of the best, gap, rank (ties share one) and best, in
    turn; an absent signal is all 0, and one whose best is not above 0 has no shares."""
    from qa_service.search.features import feature_columns, feature_names

    values = {"dense": [0.5, 0.25, 0.5], "lexical": [-1.0, -2.0, -1.0]}
    names = ("dense", "missing", "lexical")
    got = feature_columns(values, names, 3)
    assert feature_names(names)[:5] == [f"dense.{a}" for a in
                                       ("value", "of_best", "gap", "rank", "best")]
    assert got.shape == (3, 15)
    assert got[:, :5].tolist() == [[0.5, 1.0, 0.0, 1.0, 0.5],
                                   [0.25, 0.5, -0.25, 3.0, 0.5],
                                   [0.5, 1.0, 0.0, 1.0, 0.5]]
    assert got[:, 5:10].tolist() == [[0.0, 0.0, 0.0, 1.0, 0.0]] * 3
    assert got[:, 10:].tolist() == [[-1.0, 0.0, 0.0, 1.0, -1.0],
                                    [-2.0, 0.0, -1.0, 3.0, -1.0],
                                    [-1.0, 0.0, 0.0, 1.0, -1.0]]
    assert feature_columns(values, names, 0).shape == (0, 15)
