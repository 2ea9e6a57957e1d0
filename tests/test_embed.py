"""Encoder backends: choice by setting, the question cache, devices, and ONNX vs torch."""

from __future__ import annotations

import numpy as np
import pytest

from qa_service.cli import cli
from qa_service.config import Settings
from qa_service.embed import CachedEncoder, HashEncoder, encoder_for, get_encoder
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
    settings = Settings(model="hash:16")
    assert isinstance(encoder_for(settings, serving=True), CachedEncoder)
    assert not isinstance(encoder_for(settings.with_(query_cache=0), serving=True),
                          CachedEncoder)
    assert not isinstance(encoder_for(settings), CachedEncoder)  # builds see each text once


@pytest.mark.model
def test_int8_questions_are_encoded_one_by_one_against_a_full_precision_index(tmp_path):
    settings = Settings(query_backend="int8", query_cache=0)
    questions = encoder_for(settings, serving=True)
    assert questions.backend == "int8"
    assert encoder_for(settings).backend == "onnx"  # a build keeps the index's backend
    # Alone or beside another text (a history entry), a question gets one vector, so the
    # same question gets the same answer whatever came with it.
    alone = questions.encode([TEXTS[0]])
    together = questions.encode([TEXTS[0], TEXTS[-1] * 5])
    assert np.array_equal(alone[0], together[0])
    with pytest.raises(ModelError, match="unknown backend 'fp4'"):
        encoder_for(settings.with_(query_backend="fp4"), serving=True)


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


def test_an_index_of_int8_vectors_is_stale_for_full_precision_questions(built):
    from qa_service.store.index import Index, stale_reason

    index = Index.load(built.index_dir)
    index.manifest.model.update(name="all-MiniLM-L6-v2", backend="int8")
    settings = built.with_(model="all-MiniLM-L6-v2")
    assert stale_reason(index.manifest, settings.with_(backend="int8")) is None
    assert "backend 'int8'" in stale_reason(index.manifest, settings.with_(backend="onnx"))
    index.manifest.model["backend"] = "torch"  # onnx computes the vectors torch does
    assert stale_reason(index.manifest, settings.with_(backend="onnx")) is None
    del index.manifest.model["backend"]  # built before backends were recorded: torch
    assert "int8" in stale_reason(index.manifest, settings.with_(backend="int8"))
    index.close()
