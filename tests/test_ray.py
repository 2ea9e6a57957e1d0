"""`build --engine ray`: a Ray Data job writes the same index as a local build."""

from __future__ import annotations

import numpy as np
import pytest

from qa_service.encoders import HashEncoder
from qa_service.indexing import build_index
from qa_service.store import Index

ray = pytest.importorskip("ray", reason="Ray is an optional extra: pip install '.[ray]'")


@pytest.fixture(scope="module")
def one_node_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             ignore_reinit_error=True)
    yield
    ray.shutdown()


def _read(settings):
    index = Index.load(settings.index_dir)
    try:
        rows = index.passages._query("SELECT id, text FROM passages ORDER BY rowid")
        return ([tuple(r) for r in rows], index.vectors.all_vectors(),
                np.asarray(index.vectors.sentences), index.manifest)
    finally:
        index.close()


def test_a_ray_build_equals_a_local_build(settings, tmp_path, one_node_ray, capsys):
    local = settings.with_(index_dir=tmp_path / "local")
    build_index(local, HashEncoder(256))
    report = build_index(settings, HashEncoder(256), engine="ray", progress=True)
    passages, vecs, sents, manifest = _read(settings)
    local_passages, local_vecs, local_sents, local_manifest = _read(local)
    assert report.embedded_passages == len(passages) > 0
    assert passages == local_passages
    np.testing.assert_allclose(vecs, local_vecs, atol=1e-6)
    np.testing.assert_allclose(sents, local_sents, atol=1e-6)
    assert manifest.vectors == local_manifest.vectors
    assert manifest.extra["build"]["engine"] == "ray"
    # Counted as the job's batches come back (stderr is no terminal here: lines).
    shown = [line for line in capsys.readouterr().err.splitlines()
             if line.startswith("Embedding")]
    assert shown[0].startswith(f"Embedding: {len(passages)}/{len(passages)} passages (100%)")
    assert shown[-1].startswith(f"Embedding: {len(sents)}/{len(sents)} sentences (100%)")
