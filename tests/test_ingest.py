"""Cleaning, metadata and chunking: what a passage holds and where it comes from."""

from __future__ import annotations

import json

import pytest

from qa_service.errors import CorpusError
from qa_service.ingest import ingest_document, read_corpus
from qa_service.ingest.chunk import chunk_blocks
from qa_service.ingest.clean import Block, clean_document
from qa_service.ingest.readers import RawDocument
from qa_service.text import approx_tokens, normalize, normalize_span


def ingest(corpus, max_file_bytes=None):
    """Yield each document of `corpus` that has text, with its passages, as a build would."""
    for raw in read_corpus(corpus, max_file_bytes):
        doc, passages = ingest_document(raw)
        if passages:
            yield doc, passages


def _docs(corpus):
    return {doc.doc_id: (doc, passages) for doc, passages in ingest(corpus)}


def test_text_document_keeps_the_story_and_drops_page_furniture(corpus):
    doc, passages = _docs(corpus)["flood.txt"]
    texts = [p.text for p in passages]
    joined = "\n".join(texts)
    assert texts[0].startswith("NORTHPORT -- The Riverside bridge")
    assert "Mayor Olga Brightwater" in texts[-1]
    for furniture in ("Accessibility links", "Breaking News", "By Jane Example",
                      "A photo shows", "Read more", "Do you like this article",
                      "Comment", "1500"):
        assert furniture not in joined
    assert [p.paragraph for p in passages] == [1, 2, 3]


def test_non_breaking_spaces_are_normalised_and_spans_point_into_the_source(corpus):
    raw = (corpus / "flood.txt").read_text("utf-8")
    assert "\u00a0" in raw
    doc, passages = _docs(corpus)["flood.txt"]
    for p in passages:
        assert "\u00a0" not in p.text
        assert normalize(raw[p.start : p.end]) == normalize(p.text)


def test_metadata_file_gives_source_title_date_and_url(corpus):
    doc, _ = _docs(corpus)["flood.txt"]
    assert doc.source == "Northport Gazette"
    assert doc.title == "Flood closes the Riverside bridge in Northport"
    assert doc.date == "2021-03-09"
    assert doc.url == "https://gazette.example/flood"


def test_missing_metadata_is_derived_from_the_text(corpus):
    doc, passages = _docs(corpus)["more/orchard.md"]
    assert doc.title == "Apple harvest starts early in Greenvale"
    assert doc.date == "2022-03-04"
    assert doc.source  # never empty: falls back to the corpus folder's name
    assert "**" not in passages[0].text and "](" not in passages[1].text
    assert "Share this article" not in " ".join(p.text for p in passages)


def test_html_goes_through_extraction_without_navigation_or_scripts(corpus):
    doc, passages = _docs(corpus)["more/museum.html"]
    joined = " ".join(p.text for p in passages)
    assert "Harbour Museum reopened" in joined
    assert "tracking" not in joined and "About us" not in joined
    assert "All rights reserved" not in joined
    assert doc.source == "City Arts Weekly"
    assert doc.date == "2023-05-12"


def test_a_heading_is_kept_with_its_paragraph_but_never_the_answering_sentence(corpus):
    _, passages = _docs(corpus)["more/orchard.md"]
    prices = passages[1]
    assert prices.text.startswith("Prices\nGrowers expect")
    assert all(prices.text[s:e] != "Prices" for s, e in prices.sentences)


def test_doc_id_is_the_path_relative_to_the_corpus(corpus):
    assert set(_docs(corpus)) == {"flood.txt", "more/museum.html", "more/orchard.md"}


def test_beir_corpus_jsonl_is_read_with_ids_and_titles(tmp_path):
    path = tmp_path / "corpus.jsonl"
    rows = [{"_id": "a#0", "title": "Alpha", "text": "Alpha is the first letter of the "
             "Greek alphabet and it comes before beta."},
            {"_id": "b#0", "title": "Beta", "text": "Beta is the second letter of the Greek "
             "alphabet and it follows alpha."}]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", "utf-8")
    docs = _docs(path)
    assert set(docs) == {"a#0", "b#0"}
    assert docs["a#0"][0].title == "Alpha"


@pytest.mark.parametrize("raw_id", [None, "", "  ", [1], {"a": 1}, True],
                         ids=["null", "empty", "blank", "list", "object", "true"])
def test_a_beir_line_without_a_usable_id_is_skipped_named_and_counted(tmp_path, caplog,
                                                                       raw_id):
    from qa_service.ingest.readers import Skips

    path = tmp_path / "corpus.jsonl"
    rows = [{"_id": "a", "title": "Alpha", "text": "Alpha comes first."},
            {"_id": raw_id, "title": "Nameless", "text": "No id names this line."},
            {"_id": 7, "title": "Seven", "text": "An integer id is an id."}]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", "utf-8")
    skips = Skips()
    ids = [raw.doc_id for raw in read_corpus(path, skips=skips)]
    assert ids == ["a", "7"]  # never "None", "", "[1]" or "True"
    assert skips.summary() == "Skipped 1 file: 1 bad _id"
    assert any("corpus.jsonl:2" in m and "_id must be a non-empty string or an integer" in m
               for m in caplog.messages), caplog.messages


def test_a_beir_list_title_is_its_items_joined_and_an_object_title_is_left_empty(tmp_path,
                                                                                 caplog):
    path = tmp_path / "corpus.jsonl"
    rows = [{"_id": "a", "title": ["Flood", "Aktobe"], "text": ["First part.", "Second."]},
            {"_id": "b", "title": {"en": "Museum"}, "text": "Museum text."}]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", "utf-8")
    raws = {raw.doc_id: raw for raw in read_corpus(path)}
    assert raws["a"].metadata["title"] == "Flood; Aktobe"
    assert raws["a"].raw == "First part.\n\nSecond."
    assert raws["b"].metadata["title"] == ""
    assert any("corpus.jsonl:2" in m and "title is not text" in m for m in caplog.messages)


def test_a_broken_beir_line_is_a_clear_error(tmp_path):
    path = tmp_path / "corpus.jsonl"
    path.write_text('{"_id": "a", "text": "fine"}\nnot json\n', "utf-8")
    with pytest.raises(CorpusError, match=r"corpus.jsonl:2"):
        list(ingest(path))


def test_missing_corpus_is_a_clear_error(tmp_path):
    with pytest.raises(CorpusError, match="not found"):
        list(ingest(tmp_path / "nowhere"))


def test_nfkc_folds_compatibility_characters():
    span = normalize_span("ﬁve\u00a0\u00a0km\u200b²", 10)
    assert span.text == "five km2"
    assert span.start == 10


def _blocks(*texts):
    doc = RawDocument("x.txt", "text", "\n\n".join(texts))
    return clean_document(doc).blocks


def test_long_paragraphs_are_split_at_sentence_boundaries_within_the_window():
    sentence = "The committee met on Monday and discussed the new budget for schools. "
    long_paragraph = sentence * 40
    chunks = chunk_blocks(_blocks("A headline for the test document here",
                                  long_paragraph.strip()), approx_tokens, max_tokens=64)
    assert len(chunks) > 1
    for chunk in chunks:
        assert approx_tokens(chunk.span.text) <= 62  # window less [CLS] and [SEP]
        assert chunk.span.text.startswith("The committee") and chunk.span.text.endswith(".")


def test_an_over_long_sentence_is_split_at_word_boundaries():
    words = " ".join(f"word{i}" for i in range(300)) + "."
    chunks = chunk_blocks([Block(normalize_span(words))], approx_tokens, max_tokens=50)
    assert len(chunks) >= 6
    assert " ".join(c.span.text for c in chunks) == words


def test_short_fragments_are_merged_with_a_neighbour():
    blocks = _blocks(
        "A headline that becomes the title",
        "The first paragraph is a full sentence that is long enough to stand alone.",
        "Too short.",
        "The third paragraph is also a full sentence that is long enough to stand.",
    )
    chunks = chunk_blocks(blocks, approx_tokens, max_tokens=256, min_chars=40)
    assert len(chunks) == 2
    assert "Too short." in chunks[0].span.text


def test_sentence_offsets_are_verbatim_slices_of_the_passage(corpus):
    for _, passages in ingest(corpus):
        for p in passages:
            assert p.sentences
            for s, e in p.sentences:
                assert 0 <= s < e <= len(p.text)
                assert p.text[s:e].strip() == p.text[s:e]


def test_passage_ids_are_stable_and_change_with_the_text(corpus):
    first = [p.id for _, ps in ingest(corpus) for p in ps]
    assert first == [p.id for _, ps in ingest(corpus) for p in ps]
    flood = corpus / "flood.txt"
    flood.write_text(flood.read_text("utf-8").replace("four metres", "five metres"), "utf-8")
    changed = [p.id for _, ps in ingest(corpus) for p in ps]
    assert len(set(first) - set(changed)) == 1
    assert first[0].startswith("flood.txt#1-")


def test_a_lead_paragraph_is_never_taken_for_the_title_and_lost():
    doc = clean_document(RawDocument("notes/b.txt", "text", (
        "Farmers near the river expect a large wheat harvest this year, the ministry said.\n\n"
        "Prices are expected to fall by a tenth over the summer months, traders said.")))
    assert doc.title == "b"
    assert [b.text[:7] for b in doc.blocks] == ["Farmers", "Prices "]


# Hostile corpus folders: every file is either indexed or skipped with a warning naming it.

STORY = ("The harbour ferry timetable changes in the spring, the port authority said on "
         "Monday, and the first boat will leave at six in the morning.")


def _ids(corpus, **kwargs):
    return [doc.doc_id for doc, _ in ingest(corpus, **kwargs)]


def test_empty_and_blank_files_are_skipped_with_a_warning(tmp_path, caplog):
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "blank.md").write_text("\n \n\t\n", "utf-8")
    (tmp_path / "story.txt").write_text(STORY, "utf-8")
    assert _ids(tmp_path) == ["story.txt"]
    assert "empty.txt" in caplog.text and "blank.md" in caplog.text


def test_binary_files_are_skipped_with_a_warning(tmp_path, caplog):
    (tmp_path / "image.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(200))
    (tmp_path / "story.txt").write_text(STORY, "utf-8")
    assert _ids(tmp_path) == ["story.txt"]
    assert "image.txt" in caplog.text and "binary" in caplog.text


def test_invalid_utf8_is_decoded_with_replacement_and_a_warning(tmp_path, caplog):
    (tmp_path / "latin1.txt").write_bytes(STORY.replace("harbour", "h\xe4rbour").encode(
        "latin-1"))
    [(doc, passages)] = list(ingest(tmp_path))
    assert "h\ufffdrbour ferry" in passages[0].text
    assert "latin1.txt" in caplog.text and "not valid UTF-8" in caplog.text


def test_files_over_the_size_limit_are_skipped_with_a_warning(tmp_path, caplog):
    (tmp_path / "big.txt").write_text(STORY * 20, "utf-8")
    (tmp_path / "small.txt").write_text(STORY.replace("ferry", "bus"), "utf-8")
    assert _ids(tmp_path, max_file_bytes=1000) == ["small.txt"]
    assert "big.txt" in caplog.text and "QA_MAX_FILE_BYTES" in caplog.text
    assert _ids(tmp_path) == ["big.txt", "small.txt"]  # no limit given: both


def test_the_size_limit_is_a_setting_read_from_the_environment():
    from qa_service.config import Settings
    from qa_service.errors import InvalidInput

    assert Settings.from_env({"QA_MAX_FILE_BYTES": "1234"}).build.max_file_bytes == 1234
    with pytest.raises(InvalidInput, match="max_file_bytes"):
        Settings.from_env({"QA_MAX_FILE_BYTES": "lots"})


def test_symlinks_that_leave_the_corpus_are_not_followed(tmp_path, caplog):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("The secret password of the vault is swordfish, "
                                        "the keeper said in a long sentence.", "utf-8")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "story.txt").write_text(STORY, "utf-8")
    (corpus / "leak.txt").symlink_to(outside / "secret.txt")
    (corpus / "leakdir").symlink_to(outside, target_is_directory=True)
    docs = list(ingest(corpus))
    assert [d.doc_id for d, _ in docs] == ["story.txt"]
    assert "swordfish" not in " ".join(p.text for _, ps in docs for p in ps)
    assert "leak.txt" in caplog.text and "outside the corpus" in caplog.text


def test_deeply_nested_folders_are_read(tmp_path):
    folder = tmp_path.joinpath(*[f"d{i}" for i in range(40)])
    folder.mkdir(parents=True)
    (folder / "deep.txt").write_text(STORY, "utf-8")
    assert _ids(tmp_path) == ["/".join(f"d{i}" for i in range(40)) + "/deep.txt"]


def test_duplicate_documents_are_indexed_once_and_the_warning_names_both(tmp_path, caplog):
    (tmp_path / "a.txt").write_text(STORY, "utf-8")
    (tmp_path / "copies").mkdir()
    (tmp_path / "copies" / "b.txt").write_text(STORY, "utf-8")
    assert _ids(tmp_path) == ["a.txt"]
    [warning] = [r.getMessage() for r in caplog.records if "same content" in r.getMessage()]
    assert "copies/b.txt" in warning and "a.txt" in warning


def test_markdown_link_targets_with_parentheses_leave_no_residue():
    from qa_service.ingest.readers.markdown import MarkdownReader

    found = MarkdownReader().read((
        b"# Links in a story\n\n"
        b"The [river Foo](https://en.wikipedia.org/wiki/Foo_(river)) flooded, the "
        b"[office](javascript:alert('x')) said, and ![a photo](img_(1).png) was taken."
    ), "links.md")
    doc = clean_document(RawDocument("links.md", "markdown", found.raw, found.metadata))
    assert doc.title == "Links in a story"  # its first heading
    assert doc.blocks[0].text == "The river Foo flooded, the office said, and was taken."


def test_a_very_long_line_is_split_into_the_same_sentences():
    from qa_service.ingest.chunk import SEGMENT_CHARS, split_sentences

    sentences = [f"Report number {i} said the ferry on line {i % 7} was late again." for i in
                 range(3 * SEGMENT_CHARS // 50)]
    line = "  ".join(sentences)
    assert len(line) > 2 * SEGMENT_CHARS  # several pieces
    text = "Title\n" + line
    assert [text[s:e] for s, e in split_sentences(text)] == ["Title", *sentences]


def test_a_txt_whose_first_line_opens_a_paragraph_keeps_it_in_the_text():
    text = ("The ferry to the island leaves at six from the north pier\n"
            "and returns at noon, the port authority said on Monday.\n\n"
            "Tickets are sold on board and at the harbour office near the gate.")
    doc, passages = ingest_document(RawDocument("ferry.txt", "text", text))
    whole = " ".join(p.text for p in passages)
    assert "leaves at six from the north pier and returns at noon" in whole
    assert "Tickets are sold on board" in whole
    # A headline standing alone is still the title, and not repeated in the text.
    text = ("Island ferry timetable changes in spring\n\n"
            "The ferry to the island leaves at six from the north pier and returns at "
            "noon, the port authority said on Monday.")
    doc, passages = ingest_document(RawDocument("ferry.txt", "text", text))
    assert doc.title == "Island ferry timetable changes in spring"
    assert [p.text for p in passages] == [text.split("\n\n")[1]]
