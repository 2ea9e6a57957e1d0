"""Encoder backends: choice by setting, the question cache, devices, and ONNX vs torch."""

from __future__ import annotations

import re

import numpy as np
import pytest

from qa_service.cli import cli
from qa_service.config import ModelSettings, Settings
from qa_service.encoders import (
    CachedEncoder,
    HashEncoder,
    backends,
    encoder_for,
    get_encoder,
    question_backend,
    resolve_backend,
)
from qa_service.errors import ModelError


class CountingEncoder(HashEncoder):
    """A hash encoder that records every text it is asked to encode."""

    def __init__(self):
        super().__init__(32)
        self.seen: list[str] = []

    def encode(self, texts, batch_size=64, progress=False):
        self.seen.extend(texts)
        return super().encode(texts, batch_size, progress)


def test_cached_encoder_returns_the_same_vectors_and_skips_repeated_texts():
    inner = CountingEncoder()
    cached = CachedEncoder(inner, size=2)
    first = cached.encode(["harbour bridge", "old town"])
    again = cached.encode(["old town", "harbour bridge"])
    assert np.array_equal(again, first[::-1])
    assert np.array_equal(first, HashEncoder(32).encode(["harbour bridge", "old town"]))
    assert inner.seen == ["harbour bridge", "old town"]


def test_cached_encoder_forgets_the_least_recently_used_text():
    inner = CountingEncoder()
    cached = CachedEncoder(inner, size=2)
    cached.encode(["a"])
    cached.encode(["b"])
    cached.encode(["a"])  # now "b" is the oldest
    cached.encode(["c"])
    cached.encode(["a", "b"])
    assert inner.seen == ["a", "b", "c", "b"]
    assert cached.encode([]).shape == (0, 32)


def test_serving_caches_question_vectors_unless_told_not_to():
    settings = Settings().with_(model="hash:16")
    assert isinstance(encoder_for(settings.model, serving=True), CachedEncoder)
    assert not isinstance(encoder_for(settings.with_(query_cache=0).model, serving=True),
                          CachedEncoder)
    assert not isinstance(encoder_for(settings.model), CachedEncoder)  # builds: each text once


@pytest.mark.model
def test_int8_questions_are_encoded_one_by_one_against_a_full_precision_index(tmp_path):
    settings = Settings().with_(backend="onnx", query_backend="int8", query_cache=0)
    questions = encoder_for(settings.model, serving=True)
    assert questions.backend == "int8"
    assert encoder_for(settings.model).backend == "onnx"  # a build keeps the index's backend
    # Alone or beside another text (a history entry), a question gets one vector, so the
    # same question gets the same answer whatever came with it.
    alone = questions.encode([TEXTS[0]])
    together = questions.encode([TEXTS[0], TEXTS[-1] * 5])
    assert np.array_equal(alone[0], together[0])
    with pytest.raises(ModelError, match="unknown backend 'fp4'"):
        encoder_for(settings.with_(query_backend="fp4").model, serving=True)


@pytest.mark.parametrize("amx", [True, False])
def test_auto_builds_in_bf16_where_the_hardware_multiplies_it_else_in_int8(monkeypatch, amx):
    monkeypatch.setattr(backends, "cpu_has_bf16", lambda: amx)
    assert resolve_backend("auto") == ("bf16" if amx else "int8")
    assert resolve_backend("auto", serving=True) == "onnx"
    assert resolve_backend("auto", "cuda") == resolve_backend("bf16", "cuda:1") == "bf16"
    assert resolve_backend("int8", "cuda") == "torch"  # onnxruntime here runs on the CPU
    assert resolve_backend("int8") == "int8" and resolve_backend("torch") == "torch"
    # A server left to choose encodes questions with onnx: torch stays out of its memory.
    assert question_backend(ModelSettings(backend="auto", query_backend="")) == "onnx"
    assert question_backend(ModelSettings(backend="bf16", query_backend="")) == "bf16"
    assert question_backend(ModelSettings()) == "int8"


def test_an_unknown_backend_is_refused_by_name():
    with pytest.raises(ModelError, match="unknown backend 'fast'"):
        get_encoder("hash:16", backend="fast")


def test_build_rejects_an_unknown_backend_in_one_line(runner, corpus):
    result = runner.invoke(cli, ["build", "--corpus", str(corpus), "--backend", "fast"])
    assert result.exit_code != 0 and "fast" in result.stderr


def test_build_on_cuda_without_cuda_is_a_clear_one_line_error(runner, corpus):
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    result = runner.invoke(cli, ["build", "--corpus", str(corpus), "--model",
                                 "all-MiniLM-L6-v2", "--device", "cuda"])
    assert result.exit_code == 1
    assert "CUDA is not available" in result.stderr and "--device cpu" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_an_unknown_device_is_named(runner, corpus):
    result = runner.invoke(cli, ["build", "--corpus", str(corpus), "--model",
                                 "all-MiniLM-L6-v2", "--device", "gpu"])
    assert result.exit_code == 1 and "unknown device 'gpu'" in result.stderr


TEXTS = ["Who is Marat Shibutov?", "x",
         "When did the attack on the Pallas gun store start? " * 40,  # beyond the window
         "How many people were injured in Aktobe, and what did officials say afterwards?"]


@pytest.fixture(scope="module")
def torch_encoder():
    return get_encoder("all-MiniLM-L6-v2", backend="torch")


@pytest.mark.model
@pytest.mark.parametrize("backend, min_cosine", [("onnx", 0.9999), ("int8", 0.98)])
def test_onnx_backends_give_the_vectors_of_torch(torch_encoder, backend, min_cosine):
    encoder = get_encoder("all-MiniLM-L6-v2", backend=backend)
    expected = torch_encoder.encode(TEXTS)
    got = encoder.encode(TEXTS, batch_size=3)  # batches of unlike lengths, padded
    assert got.shape == expected.shape and got.dtype == np.float32
    assert np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
    assert (got * expected).sum(axis=1).min() >= min_cosine
    assert encoder.max_tokens == torch_encoder.max_tokens
    for text in TEXTS:  # chunking counts every token, the window does not cut the count
        assert encoder.count_tokens(text) == torch_encoder.count_tokens(text)


@pytest.mark.model
def test_an_int8_build_runs_texts_side_by_side_and_gets_the_vectors_of_one_by_one(monkeypatch):
    from qa_service.encoders import onnx_model
    from qa_service.encoders.pooling import span_texts

    monkeypatch.setattr(onnx_model, "_cores", lambda: 3)
    build = get_encoder("all-MiniLM-L6-v2", backend="int8")  # threads 0: every core
    questions = get_encoder("all-MiniLM-L6-v2", backend="int8", threads=1)
    assert (build.lanes, questions.lanes) == (3, 1)
    texts = TEXTS * 5  # more texts than lanes and than the calls kept waiting
    spans = [[(0, len(t) // 2), (len(t) // 2, len(t))] for t in texts]
    vectors, pooled, missed = build.encode_spans(texts, spans)
    alone, pooled_alone, missed_alone = questions.encode_spans(texts, spans)
    # Every text's vector lands in its own row, the same as run alone on one thread.
    assert np.array_equal(vectors, alone) and np.array_equal(pooled, pooled_alone)
    assert missed == missed_alone and len(pooled) == len(span_texts(texts, spans))
    assert not np.array_equal(vectors[0], vectors[1])


@pytest.mark.model
def test_torch_backends_give_the_vectors_of_sentence_transformers(torch_encoder):
    # Our pre-tokenised, length-sorted batches must pool what the library's encode pools.
    library = torch_encoder.model.encode(TEXTS, normalize_embeddings=True)
    assert np.abs(torch_encoder.encode(TEXTS) - library).max() < 1e-5
    bf16 = get_encoder("all-MiniLM-L6-v2", backend="bf16")
    got = bf16.encode(TEXTS * 3)  # several batches of unlike lengths
    assert bf16.backend == "bf16" and got.dtype == np.float32 and got.shape == (12, 384)
    assert np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
    assert (got[:4] * library).sum(axis=1).min() >= 0.999
    assert np.array_equal(got[:4], got[4:8])  # a text's vector is its own, whatever the batch


@pytest.mark.model
def test_a_build_switched_to_int8_embeds_the_corpus_again(runner, corpus):
    build = ["build", "--corpus", str(corpus), "--model", "all-MiniLM-L6-v2", "--backend"]
    assert runner.invoke(cli, [*build, "onnx"]).exit_code == 0
    result = runner.invoke(cli, [*build, "int8", "--if-stale"])
    assert result.exit_code == 0, result.output
    assert "its vectors come from backend 'onnx', builds now use 'int8'" in result.stderr
    passages, reused, embedded = map(int, re.search(
        r"(\d+) passages? .*; (\d+) documents? reused, (\d+) passages? embedded",
        result.stderr).groups())
    assert reused == 0 and embedded == passages > 0
    again = runner.invoke(cli, [*build, "int8", "--if-stale"])
    assert "is up to date" in again.stderr


def test_an_index_of_int8_vectors_is_stale_for_full_precision_questions(built):
    from qa_service.indexing import stale_reason
    from qa_service.store import Index

    index = Index.load(built.index_dir)
    index.manifest.model.update(name="all-MiniLM-L6-v2", backend="int8")
    settings = built.with_(model="all-MiniLM-L6-v2")
    assert stale_reason(index.manifest, settings.with_(backend="int8")) is None
    assert "backend 'int8'" in stale_reason(index.manifest, settings.with_(backend="onnx"))
    index.manifest.model["backend"] = "torch"  # onnx computes the vectors torch does
    assert stale_reason(index.manifest, settings.with_(backend="onnx")) is None
    index.manifest.model["backend"] = "bf16"  # and bf16 vectors within 1e-4 cosine of them
    assert stale_reason(index.manifest, settings.with_(backend="onnx")) is None
    assert "backend 'bf16'" in stale_reason(index.manifest, settings.with_(backend="int8"))
    del index.manifest.model["backend"]  # built before backends were recorded: torch
    assert "int8" in stale_reason(index.manifest, settings.with_(backend="int8"))
    index.close()
