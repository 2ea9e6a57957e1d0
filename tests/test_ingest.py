"""Cleaning, metadata and chunking: what a passage holds and where it comes from."""

from __future__ import annotations

import json

import pytest

from qa_service.errors import CorpusError
from qa_service.ingest import ingest
from qa_service.ingest.chunk import approx_tokens, chunk_blocks
from qa_service.ingest.clean import Block, clean_document
from qa_service.ingest.normalize import normalize, normalize_span
from qa_service.ingest.readers import RawDocument


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
