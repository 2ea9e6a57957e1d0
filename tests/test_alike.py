"""Words of like meaning: the build's word vectors and the two signals that read them."""

from __future__ import annotations

import numpy as np
import pytest

from qa_service.errors import IndexCorrupt
from qa_service.indexing import build_index, check
from qa_service.search.alike import ALIKE_MIN, Alike
from qa_service.search.signals import BY_NAME
from qa_service.store import Index
from qa_service.store.words import FILES, VECTORS_FILE, WORDS_FILE
from qa_service.text import vector_words
from tests.test_incremental import CountingEncoder

REPORTS = {
    "almaty.txt": "Gunman kills five\n\nA gunman opened fire at a police station "
    "in Almaty on Monday, officials said.\n\nFive people were killed, three of them police "
    "officers, before the gunman was detained.",
    "aktobe.txt": "Attacks on gun shops in Aktobe\n\nAttackers raided two gun shops and a "
    "military unit in Aktobe on Sunday.\n\nSeventeen people were wounded in the Aktobe "
    "attacks, among them soldiers.",
}


class Words:
    """Word vectors chosen by hand: "died" and "killed" alike, the rest apart."""

    available = True

    def __init__(self, table: dict[str, list[float]]):
        self.table = table
        self.order = list(table)

    def rows(self, words):
        return {w: self.order.index(w) for w in words if w in self.table}

    def __len__(self):
        return len(self.order)

    def text_rows(self, text):
        return np.array(list(self.rows(dict.fromkeys(vector_words(text))).values()),
                        dtype=np.int64)

    def vectors(self, rows):
        found = np.array([self.table[self.order[r]] for r in rows], dtype=np.float32)
        return found / np.linalg.norm(found, axis=1, keepdims=True)


def test_vector_words_are_the_content_words_folded_once_each():
    assert vector_words("The Gunman KILLED five in Almaty, the gunman fled; 2016 U.S.") == [
        "gunman", "killed", "five", "almaty", "fled"]


def test_a_build_writes_a_vector_for_each_content_word_of_passages_and_titles(built):
    index = Index.load(built.index_dir)
    words = (index.path / WORDS_FILE).read_text("utf-8").split("\n")
    passages = index.passages.passages(list(range(index.vectors.count)))
    expected = set()
    for rec in passages.values():
        expected.update(vector_words(rec["text"]))
        expected.update(vector_words(rec["title"] or ""))
    assert set(words) == expected and words == sorted(words)
    assert len(index.words) == len(words)
    norms = np.linalg.norm(index.words.vectors(list(range(len(words)))), axis=1)
    assert np.allclose(norms, 1.0, atol=1e-2)
    assert set(FILES) <= set(index.manifest.files)
    # Each passage's stored words are its text's, at their offsets, and its title's words
    # are its document's title's, each once.
    for row, rec in passages.items():
        rows, starts, _ = index.words.passages_words([row])
        assert rows.size and all(rec["text"][s:s + len(words[r])].lower() == words[r]
                                 for r, s in zip(rows.tolist(), starts.tolist()))
        titled, _ = index.words.titles_words([row])
        assert [words[r] for r in titled.tolist()] == vector_words(rec["title"] or "")


def test_a_rebuild_encodes_only_the_words_it_has_not_seen(settings):
    build_index(settings, CountingEncoder())
    before = Index.load(settings.index_dir)
    old = set(before.words.table())
    (settings.corpus / "new.txt").write_text("Zymurgy flourished at the brewery.")
    counting = CountingEncoder()
    build_index(settings, counting)
    after = Index.load(settings.index_dir)
    words_encoded = [t for t in counting.texts if " " not in t]
    assert set(words_encoded) == {"zymurgy", "flourished", "brewery"} - old
    assert {"zymurgy", "brewery"} <= set(after.words.table())
    row = before.words.rows(["gunman"]) or before.words.rows([next(iter(old))])
    word = next(iter(row))
    assert np.array_equal(before.words.vectors(list(row.values())),
                          after.words.vectors(list(after.words.rows([word]).values())))


def test_a_word_of_like_meaning_counts_by_its_cosine_an_unlike_one_not_at_all():
    close = 0.8
    words = Words({"died": [1, 0, 0], "killed": [close, (1 - close ** 2) ** 0.5, 0],
                   "wounded": [0.3, -0.95, 0], "almaty": [0, 0, 1]})
    alike = Alike({"died": 3.0, "almaty": 1.0}, words)
    shares = alike.shares(["Five were killed.", "Five were wounded.", "Almaty: five died."])
    assert shares[0] == pytest.approx(0.75 * close, abs=1e-4)
    assert shares[1] == 0.0  # cosine 0.3, below ALIKE_MIN
    assert shares[2] == pytest.approx(1.0)
    assert 0.3 < ALIKE_MIN < close


def test_a_question_word_the_corpus_lacks_is_encoded_once_and_numbers_count_as_written():
    words = Words({"killed": [1.0, 0.0], "police": [0.0, 1.0]})
    counting = CountingEncoder()
    counting.name = "counting-test"  # its own entries among the remembered words
    Alike({"slain": 1.0, "2016": 1.0}, words, counting)
    Alike({"slain": 1.0}, words, counting)
    assert counting.texts == ["slain"]
    alike = Alike({"police": 1.0, "2016": 1.0}, words)
    assert alike.shares(["In 2016 the police came.", "In 2015 police came."]).tolist() == \
        pytest.approx([1.0, 0.5])


def test_the_signals_meet_the_question_s_words_in_the_sentence_and_the_passage(
        searcher_over):
    searcher = searcher_over(REPORTS, min_chars=20)
    found = searcher.candidates("how many people were killed by the gunman")
    sentence = BY_NAME["alike_sentence"].compute(found)
    passage = BY_NAME["alike_passage"].compute(found)
    by = {(found.records[r]["doc_id"], found.records[r]["paragraph"]): r for r in found.rows}
    killed = by[("almaty.txt", 2)]
    wounded = by[("aktobe.txt", 2)]
    assert sentence[killed] == pytest.approx(1.0)  # people, killed, gunman: one sentence
    assert sentence[wounded] < sentence[killed]
    assert all(passage[r] >= sentence[r] - 1e-6 for r in found.rows)


def test_an_index_built_before_word_vectors_scores_every_passage_alike(searcher_over):
    searcher = searcher_over(REPORTS, min_chars=20)
    folder = searcher.index.path
    for name in FILES:
        (folder / name).unlink()
    manifest = (folder / "manifest.json")
    import json
    data = json.loads(manifest.read_text())
    for name in FILES:
        data["files"].pop(name)
    manifest.write_text(json.dumps(data))
    old = Index.load(folder.parent)
    from qa_service.search import Searcher
    found = Searcher(old, searcher.encoder, searcher.settings).candidates("who was killed")
    assert found.alike is None
    for name in ("alike_sentence", "alike_passage"):
        assert set(BY_NAME[name].compute(found).values()) == {0.0}
    # Such an index is out of date: `build --if-stale` (make run) adds them.
    assert check(folder.parent, searcher.settings) == \
        "it was built before word vectors were written"
    build_index(searcher.settings, searcher.encoder)
    assert check(folder.parent, searcher.settings) is None


def test_word_vectors_that_disagree_with_their_words_are_reported_not_misread(built):
    index = Index.load(built.index_dir)
    np.save(index.path / VECTORS_FILE, np.zeros((2, 4), dtype=np.float16))
    with pytest.raises(IndexCorrupt, match="rebuild the index"):
        index.words.vectors([0])


def test_passages_words_run_the_stored_words_of_rows_in_any_order(built):
    index = Index.load(built.index_dir)
    rows = [2, 0, 2, 1]
    words, starts, lengths = index.words.passages_words(rows)
    apart = [index.words.passages_words([r]) for r in rows]
    assert lengths.tolist() == [len(w) for w, _, _ in apart]
    assert words.tolist() == np.concatenate([w for w, _, _ in apart]).tolist()
    assert starts.tolist() == np.concatenate([s for _, s, _ in apart]).tolist()
    with pytest.raises(IndexCorrupt, match="rebuild the index"):
        index.words.passages_words([0, index.vectors.count])
    titles, counts = index.words.titles_words(rows)
    assert counts.tolist() == [len(index.words.titles_words([r])[0]) for r in rows]
    assert titles.tolist() == np.concatenate(
        [index.words.titles_words([r])[0] for r in rows]).tolist()


def test_scores_from_the_stored_words_equal_those_of_the_texts_read_afresh(searcher_over):
    reports = dict(REPORTS)
    # Not ASCII (folding moves offsets), a number, a two-letter word: each term without
    # a vector is found as written, in sentence and passage.
    reports["cafe.txt"] = ("Café siege, 12 hurt\n\nPolice said “twelve” people were hurt "
                           "at the Café Nur in Almaty in 2016. The UN condemned it. "
                           "Officers killed 2 of the gunmen.")
    reports["plain.txt"] = ("Almaty police report\n\nIn 2016 the police came at 12. The UN "
                            "office was shut. Nobody was hurt in Almaty that day.")
    # "ß" folds to two letters: offsets move, each sentence is folded and searched alone.
    reports["strasse.txt"] = ("Straße siege\n\nAt the Große Straße, Fußweg, hurt: 12. The UN "
                              "came in 2016. Police killed the gunmen in Almaty.")
    searcher = searcher_over(reports, min_chars=20)
    for question in ("were 12 people hurt at the cafe in Almaty in 2016 un",
                     "how many police officers were killed", "12 un 2016",
                     "was there a siege"):  # "siege": in titles only
        found = searcher.candidates(question)
        assert found.alike.plain or not any(c.isdigit() for c in question)
        spans = {r: [s for s, _ in found.sentences[r]] for r in found.records}
        for holding in (None, found.matched):
            by_sentence, by_passage = found.alike.passage_shares(found.records, spans,
                                                                 holding)
            for row, rec in found.records.items():
                text = rec["text"]
                assert by_sentence[row] == pytest.approx(max(
                    found.alike.shares([text[a:b] for a, b in spans[row]]).tolist()),
                    abs=1e-6)
                assert by_passage[row] == pytest.approx(found.alike.shares(
                    [f"{rec['title'] or ''}\n{text}"])[0], abs=1e-6)
