"""The text analyser: one fold, one tokeniser, one stemmer for every stage."""

from __future__ import annotations

import pytest

from qa_service.ingest.metadata import parse_date
from qa_service.search import analyse
from qa_service.text import approx_tokens, content_keys, fold, key, terms


def test_fold_lowers_case_and_strips_diacritics_of_any_text():
    assert fold("Aqtöbe") == "aqtobe"
    assert fold("Straße") == "strasse"
    assert fold("“Café” — NAÏVE") == "“cafe” — naive"  # punctuation stays as it was


@pytest.mark.parametrize("a, b", [("injured", "injuries"), ("shops", "shop"),
                                  ("attacked", "attack"), ("Aqtöbe", "aqtobe"),
                                  ("governments", "governmental")])
def test_inflections_of_one_word_share_a_key(a, b):
    assert key(a) == key(b)


@pytest.mark.parametrize("a, b", [("attack", "attain"), ("shop", "shot"), ("army", "arms")])
def test_different_words_keep_different_keys(a, b):
    assert key(a) != key(b)


def test_content_keys_skip_stopwords_and_keep_offsets():
    text = "The gunmen attacked two shops."
    offsets, keys = content_keys(text)
    assert keys == (key("gunmen"), key("attacked"), key("two"), key("shops"))
    assert [text[o:o + 3] for o in offsets] == ["gun", "att", "two", "sho"]


def test_terms_and_word_keys_fold_the_same_way():
    assert terms("Where is Aqtöbe?") == terms("where is AQTOBE") == ["aqtobe"]
    assert set(content_keys("Aqtöbe, aqtobe and AQTOBE")[1]) == {key("aqtobe")}


def test_a_question_names_its_pairs_and_answer_kind_once():
    query = analyse("How many gun shops were attacked in Aqtöbe?")
    assert query.question_terms == ("gun", "shops", "attacked", "aqtobe")
    assert (key("gun"), key("shops")) in query.pairs
    assert query.answer_kind == "number"
    with pytest.raises(AttributeError):
        query.question = "something else"  # frozen: analysed once, read everywhere


def test_the_token_estimate_counts_words_and_marks():
    assert approx_tokens("Six people, it said.") == 6


@pytest.mark.parametrize("text, date", [("Sept. 5, 2016", "2016-09-05"),
                                        ("5 June 2016", "2016-06-05"),
                                        ("Published: Jun 7, 2016 10:00", "2016-06-07")])
def test_dates_read_with_the_shared_month_names(text, date):
    assert parse_date(text) == date
