"""Figures and dates the answering reports give, and whether they differ."""

from __future__ import annotations

import pytest

from qa_service.response import PassageResult, answer_from_dict
from qa_service.search.disagreement import disagreement
from qa_service.text.values import answer_value, dates, numbers


@pytest.mark.parametrize("sentence, expected", [
    ("The ministry said on June 6 that 18 people had died, including 12 assailants.",
     [18, 12]),  # "June 6" is a date, not a count
    ("Six people, including civilians, were killed and 38 others were injured.", [6, 38]),
    ("The 27-year-old gunman opened fire at 14:28 on 18 July 2016.", []),
    ("It cost 2,500 euros; 1.5 million people and twenty-one towns.", [2500, 1_500_000, 21]),
])
def test_counts_leave_out_dates_times_years_and_ages(sentence, expected):
    assert [v.key[2] for v in numbers(sentence)] == expected


def test_qualified_and_vague_counts_keep_their_words():
    found = numbers("More than 20 people were killed and dozens were hurt.")
    assert [v.shown for v in found] == ["more than 20", "dozens"]
    assert not found[0].agrees(numbers("20 people")[0])  # "more than 20" is not 20


def test_a_time_joins_its_day_and_agrees_with_the_same_time_written_otherwise():
    day_and_time = dates("The violence began June 5 at 2.28pm, when gunmen attacked.")
    assert [v.text for v in day_and_time] == ["June 5 at 2.28pm"]
    clock = dates("They attacked the shop at 14:28 local time.")[0]
    assert day_and_time[0].agrees(clock)
    assert not day_and_time[0].agrees(dates("It began June 6.")[0])
    assert dates("Violence may return") == []  # "may" in lower case is a verb


def test_the_value_beside_the_questions_words_is_taken():
    sentence = "Six people, including civilians, were killed and 38 others were injured."
    assert answer_value("number", sentence, {"injur": 3.0, "peopl": 1.0}).shown == "38"
    assert answer_value("number", sentence, {"kill": 3.0, "peopl": 1.0}).shown == "6"
    assert answer_value("date", sentence, {"kill": 1.0}) is None


def _passage(rank, doc, highlight, score):
    return PassageResult(id=f"{doc}#{rank}", rank=rank, score=score, text=highlight,
                         highlight=highlight, doc_id=doc, title="t", source=f"S{doc}",
                         date=None, paragraph=1, url=None)


def test_only_answering_passages_one_per_report_are_compared():
    passages = [
        _passage(1, "a", "18 people had died in the attacks.", 0.4),
        _passage(2, "a", "Later, 19 people had died.", 0.3),  # the same report again
        _passage(3, "b", "Six people died in the violence.", 0.05),
        _passage(4, "c", "The man died on the spot.", 0.2),  # no figure
        _passage(5, "d", "Two people died in a crash in 2011.", 0.001),  # under the floor
    ]
    d = disagreement("number", passages, ("people", "died"), (), {}, 0.01, True)
    assert [(e.doc_id, e.value, e.rank) for e in d.sources] == [("a", "18", 1), ("b", "6", 3)]
    assert d.differ and d.values == ["6", "18"]


def test_agreement_and_too_few_sources():
    same = [_passage(1, "a", "18 people died.", 0.5), _passage(2, "b", "Eighteen died.", 0.2)]
    d = disagreement("number", same, ("died",), (), {}, 0.01, True)
    assert not d.differ and d.values == ["18"]
    assert disagreement("number", same[:1], ("died",), (), {}, 0.01, True) is None
    assert disagreement(None, same, ("died",), (), {}, 0.01, True) is None
    # Scores that are not probabilities: half the first's or more.
    assert disagreement("number", same, ("died",), (), {}, 0.01, False) is None


@pytest.mark.model
def test_the_aktobe_death_tolls_are_compared_on_the_default_corpus(real_searcher):
    answer = real_searcher.ask("How many people died in Aktobe?")
    d = answer.disagreement
    assert d is not None and d.differ and d.kind == "number"
    assert len({e.doc_id for e in d.sources}) == len(d.sources) >= 2
    assert set(d.values) <= {"6", "17", "18", "21", "more than 20"}
    by_rank = {p.rank: p for p in answer.passages}
    for entry in d.sources:  # each row points at the passage that gives its value
        assert by_rank[entry.rank].id == entry.passage_id
        assert by_rank[entry.rank].doc_id == entry.doc_id
    again = answer_from_dict(answer.to_dict())
    assert again.disagreement == d


@pytest.mark.model
def test_a_declined_question_has_no_comparison(real_searcher):
    assert real_searcher.ask("Who is the mayor of Paris?").disagreement is None


@pytest.mark.model
def test_the_comparison_is_in_the_openapi_document(real_searcher):
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource

    from qa_service.http.openapi import spec

    document = spec()
    resource = Resource.from_contents(
        {**document, "$schema": "https://json-schema.org/draft/2020-12/schema"})
    validator = Draft202012Validator({"$ref": "urn:openapi#/components/schemas/Answer"},
                                     registry=Registry().with_resource("urn:openapi",
                                                                       resource))
    body = real_searcher.ask("How many people died in Aktobe?").to_dict()
    assert "disagreement" in body
    validator.validate(body)
    body["disagreement"]["sources"] = body["disagreement"]["sources"][:1]
    assert not validator.is_valid(body)  # a comparison has two sources or more


def test_hostile_figures_are_read_without_error():
    huge = numbers("9" * 400 + " people and 1" + ",000" * 60 + " more")
    assert len(huge) == 2  # read, as whatever float they make, never an exception
    assert dates("On June 99 and 31:99 at 99pm") is not None
    assert answer_value("number", "x " * 5000 + "5 people", {"peopl": 1.0}).shown == "5"
