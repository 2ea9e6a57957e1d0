"""Hybrid search with the fake encoder: the response contract and request limits."""

from __future__ import annotations

import pytest

from qa_service.config import RankingSettings
from qa_service.errors import InvalidInput
from qa_service.search import Searcher, analyse
from qa_service.search.filters import parse_filters
from qa_service.search.fusion import ReciprocalRankFusion, WeightedFusion
from qa_service.search.lexical import match_expression
from qa_service.store import Index
from qa_service.text import are_variants, terms


@pytest.fixture
def searcher(built, encoder):
    return Searcher(Index.load(built.index_dir), encoder, built)


def test_answer_follows_the_contract(searcher):
    answer = searcher.ask("  When will the Riverside bridge reopen?  ")
    assert answer.question == "When will the Riverside bridge reopen?"
    assert answer.query == answer.question
    assert answer.took_ms >= 0
    assert [p.rank for p in answer.passages] == list(range(1, len(answer.passages) + 1))
    scores = [p.score for p in answer.passages]
    assert scores == sorted(scores, reverse=True)
    top = answer.passages[0]
    assert top.doc_id == "flood.txt" and top.source == "Northport Gazette"
    assert top.date == "2021-03-09" and top.url == "https://gazette.example/flood"
    assert top.title == "Flood closes the Riverside bridge in Northport"
    for p in answer.passages:
        assert p.highlight and p.highlight in p.text
        assert p.id.startswith(f"{p.doc_id}#{p.paragraph}-")


def test_the_highlight_is_the_sentence_that_answers(searcher):
    answer = searcher.ask("When did the engineers inspect the bridge?")
    top = answer.passages[0]
    assert top.highlight == "Engineers inspected the bridge at 6.15am and found water above " \
                            "the deck."


def test_top_k_limits_the_passages(searcher):
    assert len(searcher.ask("museum", top_k=2).passages) == 2
    assert len(searcher.ask("museum", top_k=20).passages) == 8  # all there are


def test_history_informs_the_query(searcher):
    plain = searcher.ask("How much does it cost?")
    followed = searcher.ask("How much does it cost?",
                            ["What happened at the Harbour Museum?"])
    assert followed.query != plain.query and "Harbour Museum" in followed.query
    assert followed.passages[0].doc_id == "more/museum.html"


@pytest.mark.parametrize("question, history, top_k, message", [
    ("", [], 5, "non-empty"),
    ("   ", [], 5, "non-empty"),
    ("x" * 1001, [], 5, "longer than 1000"),
    ("fine", "not a list", 5, "list of strings"),
    ("fine", [1, 2], 5, "list of strings"),
    ("fine", ["q"] * 11, 5, "more than 10"),
    ("fine", ["x" * 1001], 5, "longer than 1000"),
    ("fine", [], 0, "top_k"),
    ("fine", [], 21, "top_k"),
    ("fine", [], True, "top_k"),
    (None, [], 5, "non-empty"),
])
def test_bad_requests_are_refused_with_a_reason(searcher, question, history, top_k, message):
    with pytest.raises(InvalidInput, match=message):
        searcher.ask(question, history, top_k)


def test_question_of_only_stopwords_or_symbols_still_answers(searcher):
    assert searcher.ask("what is it?").passages
    assert searcher.ask("?!*\"").passages


def test_lexical_terms_are_content_words_quoted_for_fts():
    assert terms("When did the Pallas gun-store attack start?") == [
        "pallas", "gun", "store", "attack", "start"]
    assert match_expression(["a", "b"]) == '"a" OR "b"'
    # Query syntax in a question is never an operator.
    assert terms('NEAR(xx yy) OR "zz" AND col:ww*') == ["near", "xx", "yy", "zz", "col", "ww"]


def test_query_keeps_the_recent_history_newest_first():
    q = analyse("Where was it built?", ["first", "", "second", "third", "fourth"])
    assert q.history == ("fourth", "third", "second")
    assert q.weights == (1.0, 1.0, 0.5, 0.25)


@pytest.mark.parametrize("question, refers_back", [
    ("How many people died there?", True),
    ("What did he say about it?", True),
    ("Why?", True),
    ("Is there a museum in Greenvale?", False),  # existential "there"
    ("When did the harvest start in Greenvale?", False),
])
def test_a_question_that_points_back_weighs_its_history_more(question, refers_back):
    q = analyse(question, ["What happened at the museum?"])
    assert q.refers_back is refers_back
    assert q.weights == ((1.0, 1.0) if refers_back else (1.0,))
    kept = analyse(question, ["What happened at the museum?"],
                   RankingSettings(self_contained_history=1.0))
    assert kept.weights == (1.0, 1.0 if refers_back else 0.5)


def test_weighted_fusion_scales_each_signal_and_weights_them():
    fused = WeightedFusion({"dense": 0.5, "lexical": 0.5}).fuse(
        {"dense": {1: 0.9, 2: 0.5, 3: 0.1}, "lexical": {2: 10.0}}, [1, 2, 3])
    assert fused[2] > fused[1] > fused[3]
    assert fused[3] == 0.0 and fused[2] == pytest.approx(0.75)


def test_reciprocal_rank_fusion_sums_reciprocal_ranks():
    # It reads the retrieval signals (those that rank alone) and nothing else.
    fused = ReciprocalRankFusion(k=60).fuse(
        {"dense": {1: 3.0, 2: 2.0}, "lexical": {2: 5.0}, "names": {1: 9.0}}, [1, 2])
    assert fused[2] == pytest.approx(1 / 62 + 1 / 61)
    assert fused[1] == pytest.approx(1 / 61)


@pytest.mark.parametrize("filters, docs", [
    ({"sources": ["northport gazette"]}, {"flood.txt"}),
    ({"sources": ["City Arts Weekly", "Northport Gazette"]}, {"flood.txt", "more/museum.html"}),
    ({"date_from": "2022-01-01"}, {"more/orchard.md", "more/museum.html"}),
    ({"date_to": "2022-03-04"}, {"flood.txt", "more/orchard.md"}),
    ({"date_from": "2022-03-04", "date_to": "2022-03-04"}, {"more/orchard.md"}),
    ({"sources": ["Northport Gazette"], "date_from": "2022-01-01"}, set()),
    ({"where": {"author": "jane example"}}, {"flood.txt"}),
    ({"where": {"tags": ["transport", "flood"]}}, {"flood.txt"}),
    ({"where": {"source": "City Arts Weekly", "date": {"from": "2022-01-01"}}},
     {"more/museum.html"}),
    ({"where": {"tags": {"from": "2020-01-01"}}}, set()),  # not dates: in no range
])
def test_filters_apply_before_ranking(searcher, filters, docs):
    answer = searcher.ask("bridge museum harvest", top_k=20, filters=parse_filters(filters))
    assert {p.doc_id for p in answer.passages} == docs
    if not docs:
        assert answer.answerable is False


@pytest.mark.parametrize("filters, message", [
    ({"sources": ["Nobody"]}, "no document has source 'Nobody'; its values are: "
     "City Arts Weekly, Northport Gazette, corpus"),
    ({"where": {"tags": ["flood", "sport"]}}, "no document has tags 'sport'; its values are: "
     "flood, transport"),
    ({"where": {"autor": "Jane"}}, "no document has a field 'autor'; the fields are: "
     "doc_id, title, source, date, url, author, tags"),
])
def test_a_filter_value_that_matches_nothing_names_the_values_that_exist(
        searcher, filters, message):
    with pytest.raises(InvalidInput) as error:
        searcher.ask("bridge", filters=parse_filters(filters))
    assert str(error.value) == message


@pytest.mark.parametrize("filters, missing", [
    ({"sources": ["NORTHPORT GAZETTE", "Nobody", "city arts weekly", "Nor"]}, "Nobody"),
    ({"where": {"tags": ["Transport", "sport", "flood", "spor"]}}, "sport"),
    ({"where": {"source": ["City Arts Weekly", "Northport Gazette"]}}, None),
    ({"where": {"tags": ["flood", "transport"]}}, None),
])
def test_the_values_of_one_field_are_checked_in_one_query(searcher, filters, missing):
    from qa_service.search.filters import check_values

    store = searcher.index.passages
    queries: list[str] = []
    store.db.set_trace_callback(queries.append)
    try:
        if missing is None:
            check_values(parse_filters(filters), store)
        else:
            with pytest.raises(InvalidInput, match=f"has [a-z]+ '{missing}';"):
                check_values(parse_filters(filters), store)
    finally:
        store.db.set_trace_callback(None)
    checks = [q for q in queries if "IN (" in q]
    assert len(checks) == 1, queries


@pytest.mark.parametrize("filters", [
    {"sources": ""}, {"sources": 0}, {"sources": False}, {"sources": {}},
    {"date_from": "2016-W23-1"}, {"where": []}, {"where": {"a\"b": "x"}},
    {"where": {"author": ""}}, {"where": {"author": []}}, {"where": {"author": True}},
    {"where": {"date": {"from": "2022-02-01", "to": "2022-01-01"}}},
    {"where": {"date": {"since": "2022-01-01"}}},
])
def test_malformed_filters_are_refused(filters):
    with pytest.raises(InvalidInput):
        parse_filters(filters)


def test_filters_also_apply_with_an_approximate_index(settings, encoder):
    from qa_service.indexing import build_index

    build_index(settings.with_(exact_limit=2), encoder)
    searcher = Searcher(Index.load(settings.index_dir), encoder, settings)
    answer = searcher.ask("bridge", top_k=20,
                          filters=parse_filters({"sources": ["City Arts Weekly"]}))
    assert {p.doc_id for p in answer.passages} == {"more/museum.html"}


@pytest.mark.parametrize("filters, message", [
    ("RT", "must be an object"),
    ({"source": ["RT"]}, "unknown filter 'source'"),
    ({"sources": "RT"}, "list of non-empty strings"),
    ({"sources": [""]}, "list of non-empty strings"),
    ({"date_from": "2016-13-01"}, "YYYY-MM-DD"),
    ({"date_from": "June 5"}, "YYYY-MM-DD"),
    ({"date_to": 20160605}, "YYYY-MM-DD"),
    ({"date_from": "2016-06-07", "date_to": "2016-06-05"}, "after"),
])
def test_bad_filters_are_refused_with_a_reason(filters, message):
    with pytest.raises(InvalidInput, match=message):
        parse_filters(filters)


@pytest.mark.parametrize("a, b, expected", [
    ("aktobe", "aqtobe", True),
    ("tokayev", "toqaev", True),
    ("nazarbayev", "nazarbaev", True),
    ("Kazakhstan", "kazakstan", True),
    ("police", "polite", False),  # different words, different keys
    ("rifles", "rivals", False),  # same key, but three edits apart
    ("karim", "karin", False),
    ("aktobe", "aktobe", False),  # the same word is no variant
    ("astana", "asana", False),
])
def test_spelling_variants_of_names(a, b, expected):
    assert are_variants(a, b) is expected


@pytest.fixture
def variant_searcher(searcher_over):
    return searcher_over({
        "a.txt":
        "Report one\n\nThe governor of Aqtobe province opened the new hospital on Monday, "
        "officials in Aqtobe said.\n\nThe police said the roads were closed for the day.",
        "b.txt":
        "Report two\n\nFarmers near Aktobe expect a large wheat harvest this year, the "
        "ministry said.\n\nA new policy on grain exports was announced by the Policy "
        "Council of the Policy Institute.",
    })


def test_a_name_finds_its_other_spellings(variant_searcher):
    answer = variant_searcher.ask("Aktobe", top_k=4, explain=True)
    matched = {p.doc_id: p.explain["matched_terms"] for p in answer.passages
               if p.explain["matched_terms"]}
    assert set(matched) == {"a.txt", "b.txt"}  # Aqtobe and Aktobe both match
    assert variant_searcher.lexical.expand(["aqtobe"])["aqtobe"] == ["aqtobe", "aktobe"]


def test_a_common_word_is_not_expanded_to_a_capitalised_neighbour(variant_searcher):
    assert variant_searcher.lexical.expand(["police"]) == {"police": ["police"]}


def test_near_duplicate_passages_are_folded_into_one_result(searcher_over):
    wire = ("Police in Northport arrested three men after a robbery at the central bank "
            "branch on Friday, the interior ministry said in a statement.")
    searcher = searcher_over({
        "one.txt": f"First paper headline here\n\n{wire}\n\n"
        "The harbour ferry timetable changes in the spring, the port authority said today.",
        "two.txt": f"Second paper headline here\n\n{wire} Reuters\n\n"
        "Apple growers in the valley expect a large harvest this autumn, their union said.",
    })
    answer = searcher.ask("robbery at the bank in Northport", top_k=3)
    top = answer.passages[0]
    assert top.also_in and len(top.also_in) == 1
    other = top.also_in[0]
    assert {top.doc_id, other["doc_id"]} == {"one.txt", "two.txt"}
    assert all("robbery" not in p.text for p in answer.passages[1:])  # shown once


def test_a_passage_naming_the_question_s_subject_scores_on_names(searcher_over):
    searcher = searcher_over({
        "a.txt": "Report one\n\nThe analyst Ivo Brandt told reporters that the attackers "
        "were most likely a small local cell, and Brandt added that more arrests would "
        "follow.",
        "b.txt": "Report two\n\nThe attackers all belonged to extremist movements, the "
        "police said on Monday after the raids in the north of the country.",
        "c.txt": "Report three\n\nAt the Nordhaven depot the guards heard shots shortly "
        "after midnight and called for help from the city.\n\nThe attackers fled from the "
        "depot with six trucks before the police arrived at the scene.\n\nNordhaven "
        "residents were told to stay at home until the search of the port area had ended.",
        "d.txt": "Report four\n\nThe attackers left two of the trucks on a farm road, where "
        "the police found them on Tuesday morning.",
    }, min_chars=20)
    # Typed in lower case: the corpus, not the question, says that "brandt" is a name.
    answer = searcher.ask("what does brandt think the attackers belonged to", top_k=4,
                          explain=True)
    names = {p.doc_id: p.explain["signals"]["names"]["value"] for p in answer.passages}
    assert names["a.txt"] == 1.0 and names["b.txt"] == 0.0
    # A report names the depot once, then says "the depot": the next passage of the same
    # document counts as naming it, while another document's passage does not.
    ranking = searcher.rank("how many trucks did the attackers take from nordhaven", top_k=8)
    by_passage = {(ranking.records[r]["doc_id"], ranking.records[r]["paragraph"]): share
                  for r, share in ranking.signals["names"].items()}
    assert [by_passage[("c.txt", p)] for p in (1, 2, 3)] == [1.0, 1.0, 1.0]
    # d.txt's passage follows c.txt's last one, which names the depot: not the same report.
    rows = {(rec["doc_id"], rec["paragraph"]): r for r, rec in ranking.records.items()}
    assert rows[("d.txt", 1)] == rows[("c.txt", 3)] + 1
    assert by_passage[("d.txt", 1)] == 0.0
    # Words the corpus writes in lower case, or only capitalised to open a sentence, are
    # not names: a question without names scores 0 on this signal everywhere.
    ranking = searcher.rank("what did the police say about the attackers")
    assert set(ranking.signals["names"].values()) == {0.0}


def test_no_document_crowds_out_the_others():
    from qa_service.search.diversity import crowd

    doc_of = {1: "a", 2: "a", 3: "a", 4: "b", 5: "a", 6: "c"}
    assert crowd([1, 2, 3, 4, 5, 6], doc_of, 2) == [1, 2, 4, 6, 3, 5]
    assert crowd([1, 2, 3, 4, 5, 6], doc_of, 0) == [1, 2, 3, 4, 5, 6]
    # One document alone keeps its order.
    assert crowd([3, 1, 2], doc_of, 1) == [3, 1, 2]


@pytest.mark.parametrize("question,history", [
    ("When will the Riverside bridge reopen?", ()),
    ("Who inspected it?", ("When will the Riverside bridge reopen?",)),
])
def test_lexical_scores_are_the_same_read_whole_or_by_ranked_queries(
        built, encoder, monkeypatch, question, history):
    from qa_service.search import lexical

    # Fewer candidates than passages match, so that each path ranks and scores the rest.
    searcher = Searcher(Index.load(built.index_dir), encoder, built.with_(candidates=1))

    def retrieved(whole_limit: int) -> tuple[list[int], dict]:
        monkeypatch.setattr(lexical, "WHOLE_LIMIT", whole_limit)
        found = searcher.candidates(question, history, None, 1)
        return found.rows, found.retrieved

    rows, whole = retrieved(10_000)
    assert retrieved(0) == (rows, whole)
    assert len(whole["lexical"]) > 1  # rows found only by dense search were scored too


QUESTIONS = ["When will the Riverside bridge reopen?", "museum director", "harvest orchard",
             "Who inspected the bridge at 6.15am?", "flooded river council said metres",
             "Northport Aqtöbe", "the and of"]


@pytest.mark.parametrize("question", QUESTIONS)
def test_bm25_from_the_lexicon_equals_fts5_s_own(searcher, question):
    store, lexicon = searcher.index.passages, searcher.index.lexicon
    assert lexicon is not None
    words = [w for group in searcher.lexical.expand(terms(question)).values() for w in group]
    weights = searcher.lexical.column_weights
    mine = lexicon.bm25(words, weights).as_dict()
    theirs = store.bm25_all(match_expression(words), 10_000, weights=weights)
    assert mine.keys() == theirs.keys()
    assert all(mine[r] == pytest.approx(theirs[r], rel=1e-12, abs=1e-12) for r in theirs)


def test_an_index_without_a_lexicon_ranks_with_fts5_alone(built, encoder):
    def ranked(with_lexicon: bool):
        index = Index.load(built.index_dir)
        if not with_lexicon:
            index.lexicon = None  # as an index built before it
        found = Searcher(index, encoder, built).candidates("When will the bridge reopen?")
        return found.rows, found.retrieved

    rows, retrieved = ranked(True)
    assert ranked(False)[0] == rows
    before = ranked(False)[1]["lexical"]
    assert before.keys() == retrieved["lexical"].keys()
    assert all(before[r] == pytest.approx(retrieved["lexical"][r], rel=1e-12)
               for r in before)


def test_a_full_token_cache_still_answers_for_every_word_asked(searcher, monkeypatch):
    from qa_service.store import lexicon as lexicon_module

    monkeypatch.setattr(lexicon_module, "TOKEN_CACHE", 3)
    lexicon = Index.load(searcher.index.path.parent).lexicon
    assert lexicon.tokens(["bridge", "museum"]) == ["bridg", "museum"]
    # "bridge" is cached; making room for the new words drops it mid-question.
    assert lexicon.tokens(["bridge", "orchard", "harvest", "council"]) == [
        "bridg", "orchard", "harvest", "council"]


def test_a_word_of_several_fts5_tokens_is_left_to_fts5(searcher):
    lexicon = searcher.index.lexicon
    assert lexicon.tokens(["Bridges", "Aqtöbe"]) == ["bridg", "aqtob"]  # FTS5's own
    assert lexicon.tokens(["bridge", "river-side"]) is None  # two tokens: a phrase
    assert lexicon.bm25(["river-side"], (0.5, 1.0)) is None
    assert searcher.lexical.match_count(["river-side"]) == searcher.index.passages.match_count(
        '"river-side"')  # FTS5 answers


@pytest.mark.parametrize("question", QUESTIONS)
def test_matches_from_the_lexicon_equal_fts5_s(searcher, question):
    lexical, store = searcher.lexical, searcher.index.passages
    every = list(range(store.passage_count))
    for word, group in lexical.expand(terms(question)).items():
        expression = match_expression(group)
        assert lexical.match_count(group) == store.match_count(expression), word
        assert lexical.matching(group, every[::2]) == sorted(
            store.matching(expression, every[::2])), word


@pytest.mark.parametrize("question", [
    "How much does it cost?",  # a pronoun
    "And in Almaty?",  # an ellipsis
    "What about the museum?",
    "How many died?",  # names almost nothing itself
])
def test_a_question_that_leans_on_the_conversation_takes_its_history(question):
    query = analyse(question, ["What happened at the Harbour Museum?"])
    assert query.history == ("What happened at the Harbour Museum?",)
    assert "Harbour" in query.text


def test_a_self_contained_question_is_searched_alone(searcher):
    history = ["When was the bridge inspected?", "Who is the museum director?"]
    query = analyse("How many people were injured in the Aktobe attack?", history)
    assert query.history == () and query.weights == (1.0,) and not query.history_terms
    question = "When did engineers inspect the Riverside bridge?"
    alone, after = searcher.ask(question), searcher.ask(question, history)
    assert after.query == alone.query == question
    assert [p.id for p in after.passages] == [p.id for p in alone.passages]


def test_history_for_self_contained_questions_is_a_setting():
    ranking = RankingSettings(self_contained_history=1.0)
    query = analyse("Who founded the museum?", ["What flooded?"], ranking)
    assert query.history == ("What flooded?",) and query.weights == (1.0, 0.5)


@pytest.mark.parametrize("question", [
    "Which two companies are suing California over its law on gig workers?",  # a name first
    "Who won the Almaty marathon this year?",  # a time
    "This artist is the first to score a No. 1 hit across four different decades.",
    "There is one US state with no commercial airline service: which one?",
])
def test_words_that_point_inside_the_question_or_to_a_time_take_no_history(question):
    assert analyse(question, ["What happened at the Harbour Museum?"]).history == ()


@pytest.mark.parametrize("question", ["When did this attack happen?", "Who said that?",
                                      "What did the president say about their attack?"])
def test_a_short_question_with_a_demonstrative_or_a_pronoun_takes_its_history(question):
    assert analyse(question, ["What happened at the Harbour Museum?"]).history


def test_a_question_naming_only_what_no_passage_holds_is_declined(searcher):
    # "Zanzibar" is in no document of the fixture corpus; "Harbour Museum" is.
    answer = searcher.ask("How much did the Zanzibar museum cost?")
    assert not answer.answerable and answer.confidence == 0.0 and answer.passages
    known = searcher.ask("How much did the Harbour Museum cost?")
    assert known.confidence > 0.0


def test_declining_unknown_names_is_a_setting(built, encoder):
    settings = built.with_(decline_unknown_names=False)
    answer = Searcher(Index.load(settings.index_dir), encoder, settings).ask(
        "How much did the Zanzibar museum cost?")
    assert answer.confidence > 0.0
