"""Sentence vectors pooled from their passage's own pass (encoders.pooling)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from qa_service.cli import cli
from qa_service.encoders import get_encoder
from qa_service.encoders.pooling import POOLED, SEPARATE, embed_with_spans, pool_spans
from qa_service.indexing.freshness import stale_reason
from qa_service.store import Index

PASSAGE = ("Gunmen attacked two gun shops in Aktobe on Sunday. Troops then fought them at "
           "a National Guard base. Officials said 17 people died.")


def _spans(text: str) -> list[tuple[int, int]]:
    spans, start = [], 0
    for part in text.split(". "):
        end = start + len(part) + (1 if start + len(part) < len(text) else 0)
        spans.append((start, min(end, len(text))))
        start = end + 1
    return spans


def test_a_span_is_the_mean_of_the_token_states_inside_it():
    # Tokens: [CLS] ab cd | ef gh [SEP] [PAD]; offsets as a tokenizer gives them.
    hidden = np.array([[9, 9], [1, 0], [3, 0], [0, 2], [0, 4], [9, 9], [9, 9]], np.float32)
    encoding = SimpleNamespace(
        offsets=[(0, 0), (0, 2), (3, 5), (6, 8), (9, 11), (0, 0), (0, 0)],
        attention_mask=[1, 1, 1, 1, 1, 1, 0], special_tokens_mask=[1, 0, 0, 0, 0, 1, 1])
    pooled, missed = pool_spans(hidden, encoding, [(0, 5), (6, 11), (12, 14)], False)
    assert np.allclose(pooled[0], [1, 0]) and np.allclose(pooled[1], [0, 1])
    assert missed == [2] and not pooled[2].any()  # no token: embedded alone by the caller
    # Cut at the window after "ef": the second span is not held whole.
    cut = SimpleNamespace(offsets=encoding.offsets[:4] + [(0, 0)],
                          attention_mask=[1] * 5, special_tokens_mask=[1, 0, 0, 0, 1])
    _, missed = pool_spans(hidden[:5], cut, [(0, 5), (6, 11)], True)
    assert missed == [1]


@pytest.mark.model
@pytest.mark.parametrize("backend", ["onnx", "torch"])
def test_pooled_sentences_come_from_the_passage_pass_and_past_the_window_alone(backend):
    encoder = get_encoder("all-MiniLM-L6-v2", backend=backend)
    long = " ".join(f"Sentence {i} tells of the attack in Aktobe." for i in range(60))
    texts, spans = [PASSAGE, long], [_spans(PASSAGE), _spans(long)]
    vectors, sentences = embed_with_spans(encoder, texts, spans, 8, how=POOLED)
    alone = encoder.encode([t[s:e] for t, own in zip(texts, spans) for s, e in own])
    assert np.allclose(vectors, encoder.encode(texts), atol=1e-5)
    assert sentences.shape == alone.shape
    assert np.allclose(np.linalg.norm(sentences, axis=1), 1.0, atol=1e-5)
    cosine = (sentences * alone).sum(axis=1)
    first = len(spans[0])
    # Read in their passage, the first sentences are near, not equal, to themselves alone.
    assert 0.5 < cosine[:first].min() and cosine[:first].max() < 0.9999
    # The long passage's last sentence lies past the 256-token window: embedded alone.
    assert cosine[-1] > 0.9999
    separate = embed_with_spans(encoder, texts, spans, 8, how=SEPARATE)[1]
    assert np.allclose(separate, alone, atol=1e-5)


@pytest.mark.model
def test_a_build_stores_pooled_sentence_vectors_and_a_separate_index_is_stale(
        runner, corpus, tmp_path, monkeypatch):
    index_dir = tmp_path / "idx"
    build = ["build", "--corpus", str(corpus), "--index-dir", str(index_dir),
             "--model", "all-MiniLM-L6-v2", "--backend", "onnx"]
    monkeypatch.setenv("QA_SENTENCE_VECTORS", "separate")
    assert runner.invoke(cli, build).exit_code == 0
    index = Index.load(index_dir)
    separate = np.asarray(index.vectors.sentences).copy()
    assert index.manifest.chunking["sentence_vectors"] == "separate"
    from qa_service.config import Settings
    pooled_settings = Settings(corpus=corpus, index_dir=index_dir).with_(
        model="all-MiniLM-L6-v2", backend="onnx")
    assert "sentence_vectors" in stale_reason(index.manifest, pooled_settings)
    index.close()
    monkeypatch.setenv("QA_SENTENCE_VECTORS", "pooled")
    result = runner.invoke(cli, build)
    assert result.exit_code == 0 and "0 documents reused" in result.output
    index = Index.load(index_dir)
    pooled = np.asarray(index.vectors.sentences)
    assert pooled.shape == separate.shape and not np.allclose(pooled, separate, atol=1e-3)
    assert stale_reason(index.manifest, pooled_settings) is None
    index.close()


@pytest.mark.parametrize("embed_title", [False, True])
def test_each_stored_sentence_vector_is_that_of_its_own_sentence(settings, encoder, embed_title):
    # The hashing encoder's pooled vector of a span is that span's text's own vector, so a
    # span shifted by the title put before the passage would show as a wrong vector.
    from qa_service.indexing import build_index

    settings = settings.with_(embed_title=embed_title)
    build_index(settings, encoder)
    index = Index.load(settings.index_dir)
    rows = list(range(index.manifest.counts["passages"]))
    records = index.passages.passages(rows)
    spans = index.passages.sentence_spans(rows)
    texts = [records[row]["text"][start:end] for _, row, start, end in spans]
    assert len(texts) > len(rows) > 3
    assert np.array_equal(np.asarray(index.vectors.sentences), encoder.encode(texts))
    index.close()


def test_a_cached_encoder_pools_as_the_encoder_it_wraps():
    from qa_service.encoders import CachedEncoder, HashEncoder
    from qa_service.encoders.pooling import can_pool

    inner = HashEncoder(16)
    cached = CachedEncoder(inner, size=4)
    assert can_pool(cached, POOLED) and not can_pool(cached, SEPARATE)
    texts, spans = [PASSAGE], [_spans(PASSAGE)]
    got = embed_with_spans(cached, texts, spans)
    assert all(np.array_equal(a, b) for a, b in zip(got, embed_with_spans(inner, texts, spans)))


def test_an_unknown_kind_of_sentence_vectors_stops_the_build_in_one_line(
        runner, corpus, monkeypatch):
    monkeypatch.setenv("QA_SENTENCE_VECTORS", "averaged")
    result = runner.invoke(cli, ["build", "--corpus", str(corpus), "--model", "hash:16"])
    assert result.exit_code == 1
    assert "sentence_vectors 'averaged': expected one of pooled, separate" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
