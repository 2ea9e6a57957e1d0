"""`build --engine ray`: a build read, cleaned, chunked and embedded on a Ray cluster
writes the same index as a local build."""

from __future__ import annotations

import json
import logging
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest

import qa_service
from qa_service.config import Settings
from qa_service.encoders import HashEncoder
from qa_service.indexing import build_index
from qa_service.store import MANIFEST, Index
from tests.conftest import FIXTURES, free_port

ray = pytest.importorskip("ray", reason="Ray is an optional extra: pip install '.[ray]'")


@pytest.fixture
def one_node_ray():
    # "local": a new cluster here, never one whose address another run left behind.
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False,
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
    # The sentences' vectors come back with their passages' (encoders.pooling).
    assert len(sents) > len(passages) and not any("sentences" in line for line in shown)


class _CounterStaysHere(HashEncoder):
    """The fake encoder, with a token counter that cannot be sent to workers (as a torch
    model without tokenizer.json)."""

    token_counter = None


@pytest.mark.parametrize("corpus, encoder", [
    (FIXTURES / "beir" / "corpus.jsonl", HashEncoder(256)),  # read here, cleaned there
    (FIXTURES / "corpus", _CounterStaysHere(256)),  # read there, cleaned here
], ids=["corpus.jsonl", "counter stays here"])
def test_a_ray_build_read_or_cleaned_on_the_driver_equals_a_local_build(
        corpus, encoder, tmp_path, one_node_ray):
    local = Settings.from_env(corpus=corpus, index_dir=tmp_path / "local")
    on_ray = local.with_(index_dir=tmp_path / "ray")
    report = build_index(local, encoder)
    ray_report = build_index(on_ray, encoder, engine="ray")
    assert _index_files(tmp_path / "ray") == _index_files(tmp_path / "local")
    assert ray_report.passages == report.passages > 0
    assert ray_report.stages["clean and chunk"].items == report.documents


# Seconds a node may take to start and join (about 10 each on a 2-core machine).
NODE_START_S = 120
_NODES = """
import json, sys, time, ray
ray.init(address=sys.argv[1], log_to_driver=False)
deadline = time.monotonic() + float(sys.argv[2])
while len([n for n in ray.nodes() if n["Alive"]]) < 2 and time.monotonic() < deadline:
    time.sleep(0.5)
print(json.dumps({n["NodeID"]: n["Resources"] for n in ray.nodes() if n["Alive"]}))
"""


@pytest.fixture(scope="module")
def two_nodes():
    """A cluster of two Ray nodes on this machine, made as `ray start` makes one across
    machines: a head and a second node, one CPU each, the second with a resource of its
    own ("node2"), token authentication on. Yields the environment a build run against
    it needs (RAY_ADDRESS, the token) and the second node's id. The nodes' processes
    (`ray start --block`, which stops its node when terminated) are stopped afterwards
    whatever the tests did; nothing else of Ray on this machine is touched."""
    # Short, and its own: Ray's socket paths must fit in 107 bytes, and another cluster
    # on this machine (a developer's) keeps its own address file and token.
    temp = Path(tempfile.mkdtemp(prefix="qa-ray-"))
    (temp / "auth_token").write_text(secrets.token_hex(32))
    port = free_port()
    # The nodes' workers import this checkout's qa_service, as the build does.
    source = str(Path(qa_service.__file__).resolve().parents[1])
    # Stopped at once: a node told to stop waits up to 30 s for work to drain by default.
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", "RAY_AUTH_MODE": "token",
           "RAY_GRACEFUL_SHUTDOWN_DRAIN_TIMEOUT_S": "0",
           "RAY_AUTH_TOKEN_PATH": str(temp / "auth_token"),
           "PYTHONPATH": os.pathsep.join(p for p in (source, os.environ.get("PYTHONPATH"))
                                         if p)}
    env.pop("RAY_ADDRESS", None)
    ray_command = [str(Path(sys.executable).with_name("ray")), "start", "--block",
                   "--num-cpus", "1", "--disable-usage-stats"]
    nodes: list[subprocess.Popen] = []

    def start(*args: str, log: str) -> None:
        with open(temp / log, "wb") as out:
            nodes.append(subprocess.Popen([*ray_command, *args], env=env, stdout=out,
                                          stderr=subprocess.STDOUT, start_new_session=True))

    try:
        start("--head", "--port", str(port), "--temp-dir", str(temp),
              "--include-dashboard=false", log="head.log")
        deadline = time.monotonic() + NODE_START_S
        while not _listening(port):
            assert time.monotonic() < deadline and nodes[0].poll() is None, _logs(temp)
            time.sleep(0.5)
        env["RAY_ADDRESS"] = f"127.0.0.1:{port}"
        start("--address", env["RAY_ADDRESS"], "--resources", '{"node2": 1}',
              log="node2.log")
        found = subprocess.run([sys.executable, "-c", _NODES, env["RAY_ADDRESS"],
                                str(NODE_START_S)], env=env, capture_output=True, text=True,
                               timeout=NODE_START_S + 60)
        assert found.returncode == 0, found.stderr + _logs(temp)
        alive = json.loads(found.stdout.splitlines()[-1])
        assert len(alive) == 2, _logs(temp)
        [second] = [node for node, resources in alive.items() if "node2" in resources]
        yield env, second
    finally:
        for node in reversed(nodes):
            node.terminate()
        for node in nodes:
            try:
                node.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(node.pid, signal.SIGKILL)  # its own session: its node's processes
                node.wait()
        shutil.rmtree(temp, ignore_errors=True)


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _logs(temp: Path) -> str:
    return "\n".join(p.read_text(errors="replace")[-3000:] for p in temp.glob("*.log"))


def _awkward_corpus(folder: Path) -> Path:
    """The test corpus, with files a build leaves out or warns about, and a line a source
    repeats: every path of a build that reads on workers and settles on the driver."""
    corpus = folder / "corpus"
    shutil.copytree(FIXTURES / "corpus", corpus)
    footer = "Read more stories from the Harbour Gazette every morning."
    (corpus / "gazette").mkdir()
    for n, topic in enumerate(["tides", "ferries", "lighthouse", "fishing fleet"], 1):
        (corpus / "gazette" / f"story-{n}.md").write_text(
            f"# The {topic} of Northport\n\nThe harbour master spoke about the {topic} on "
            f"Monday, saying that the season had been {n} weeks longer than usual and that "
            f"crews were ready.\n\n{footer}\n", "utf-8")
    (corpus / "zz-copy.txt").write_bytes((corpus / "flood.txt").read_bytes())
    (corpus / "empty.txt").write_text("", "utf-8")
    (corpus / "blob.txt").write_bytes(b"abc\x00def" * 10)
    (corpus / "notes.xyz").write_text("not a format the build reads", "utf-8")
    (corpus / "broken.docx").write_bytes(b"not a zip archive at all")
    (corpus / "latin.txt").write_bytes(b"Caf\xe9 owners in Northport said the square was "
                                       b"busy all week, with queues at every stall.\n")
    (corpus / "odd.md").write_text("---\ntitle: [unclosed\n---\nThe body of a note whose "
                                   "front matter is broken is still read as its text.\n",
                                   "utf-8")
    # Older than any build of it: a file changed in the second a build hashed it is read
    # again by the next (racily clean), which would make the two builds here differ.
    past = time.time() - 600
    for path in corpus.rglob("*"):
        os.utime(path, (past, past))
    return corpus


def _index_files(index_dir: Path) -> dict[str, bytes]:
    """Every file of the live index but the manifest (which says when and how it was
    built), by name."""
    folder = index_dir / "current"
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.name != MANIFEST}


def _build_both_ways(corpus: Path, folder: Path, env: dict, caplog) -> tuple:
    """Build `corpus` here and, by the command line, on the cluster `env` names; return
    the local build's report and warnings, and the cluster build's manifest and warnings
    (each as `logger: message`)."""
    local = Settings.from_env(corpus=corpus, index_dir=folder / "local")
    with caplog.at_level(logging.WARNING):
        caplog.clear()
        report = build_index(local, HashEncoder(256))
        warnings = [f"{r.name}: {r.getMessage()}" for r in caplog.records
                    if r.levelno >= logging.WARNING and r.name.startswith("qa_service")]
    # As one types it: paths relative to where the build runs, which no worker shares.
    run = subprocess.run(
        [sys.executable, "-m", "qa_service", "build", "--engine", "ray", "--corpus",
         os.path.relpath(corpus, folder), "--index-dir", "ray", "--model", "hash:256"],
        cwd=folder, env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    # The command line logs warnings as "WARNING name: message".
    ray_warnings = [line.removeprefix("WARNING ") for line in run.stderr.splitlines()
                    if line.startswith("WARNING qa_service")]
    manifest = Index.load(folder / "ray").manifest
    assert report.skipped.summary() in run.stderr.splitlines()
    return report, warnings, manifest, ray_warnings


def test_a_build_on_two_nodes_reads_cleans_and_embeds_on_both_and_writes_the_local_index(
        two_nodes, tmp_path, caplog):
    env, second = two_nodes
    report, warnings, manifest, ray_warnings = _build_both_ways(
        _awkward_corpus(tmp_path), tmp_path, env, caplog)
    # The same passages, metadata, sentences, lexicon and vectors, byte for byte.
    files = _index_files(tmp_path / "ray")
    assert set(files) >= {"passages.sqlite", "passages.faiss", "sentences.npy",
                          "lexicon_ptr.npy", "lexicon_docs.npy", "lexicon_hits.npy"}
    assert files == _index_files(tmp_path / "local")
    assert manifest.counts == {"documents": report.documents, "passages": report.passages,
                               "sentences": report.sentences}
    # Files left out, by reason (the summary line, above) and by name, and the workers'
    # warnings (a reader's, a skip's), logged by the build as a local build logs them.
    assert set(report.skipped) == {"duplicate", "empty", "binary", "unsupported type",
                                   "unreadable"}
    assert "repeat" in report.cleaning
    assert ray_warnings == warnings
    assert any("latin.txt is not valid UTF-8" in w for w in warnings)
    assert any(w.endswith("skipping zz-copy.txt: duplicate: same content as flood.txt, "
                          "which is indexed once") for w in warnings)
    # Each stage of the cluster's ran on both nodes; sentence vectors come back with their
    # passages' (pooled from the same pass, encoders.pooling), not from a job of their own.
    stages = manifest.extra["build"]["stages"]
    for stage in ("read", "clean and chunk", "embed passages"):
        assert len(stages[stage]["nodes"]) == 2 and second in stages[stage]["nodes"], stage
    assert "embed sentences" not in stages
    assert stages["read"]["items"] == 13


def test_an_incremental_build_on_two_nodes_writes_the_local_index(two_nodes, tmp_path,
                                                                  caplog):
    env, _ = two_nodes
    corpus = _awkward_corpus(tmp_path)
    # A line three of the source's seven documents share: not yet repeated enough.
    letters = "\nLetters to the editor go to letters@gazette.example.\n"
    for n in (1, 2, 3):
        story = corpus / "gazette" / f"story-{n}.md"
        story.write_text(story.read_text("utf-8") + letters, "utf-8")
        os.utime(story, (time.time() - 600,) * 2)
    _build_both_ways(corpus, tmp_path, env, caplog)
    # A fourth makes it a repeated line: the three, unchanged, are read and cleaned
    # again, after the first pass (the cluster reads them in a second round).
    (corpus / "gazette" / "story-5.md").write_text(
        "# Northport's new pier\n\nThe pier opened on Tuesday after two years of work, "
        "and the first ferry tied up there at noon.\n\nRead more stories from the "
        "Harbour Gazette every morning.\n" + letters, "utf-8")
    (corpus / "latin.txt").unlink()
    orchard = corpus / "more" / "orchard.md"
    orchard.write_text(orchard.read_text("utf-8") + "\nPickers start at six.\n", "utf-8")
    report, warnings, manifest, ray_warnings = _build_both_ways(corpus, tmp_path, env, caplog)
    assert _index_files(tmp_path / "ray") == _index_files(tmp_path / "local")
    assert ray_warnings == warnings
    build = manifest.extra["build"]
    assert build["reused_documents"] == report.reused_documents > 0
    assert build["embedded_passages"] == report.embedded_passages > 0
    # Read again: the new and changed files, those left out before (4), and the three
    # whose repeated lines changed; not the others.
    assert build["stages"]["read"]["items"] == 2 + 4 + 3
