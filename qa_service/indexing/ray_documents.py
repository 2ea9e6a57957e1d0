"""Read, clean and chunk a build's documents as Ray tasks; hand them back in corpus order.

Reading (checking and parsing each file with its format's reader) runs as tasks spread
over the cluster's nodes, in batches of files; what the build fetches is each file's
outcome and its document's facts, not its text, which stays in Ray's object store. The
build settles the files in corpus order (read_corpus's `fetch`), counts repeated lines
from the facts, and asks for the new documents to be cleaned and chunked: each batch's
on the node that read it. Results come back in the order the build asked for them.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

from qa_service.indexing.stages import Stage, record
from qa_service.ingest import RawDocument, read_corpus
from qa_service.ingest.document import ingest_document
from qa_service.ingest.readers import CorpusFile, Reader, Skips
from qa_service.ingest.readers.corpus import files_to_read
from qa_service.ingest.readers.files import Checked, Parsed, reading_here
from qa_service.ingest.worker import (
    Facts,
    FileRead,
    document_facts,
    ingest_documents,
    read_files,
    replay,
)
from qa_service.progress import Progress

# Files a reading task takes at most, and tasks aimed for per CPU of the cluster: small
# corpora still spread over every node, large ones pay one task's overhead per 64 files.
BATCH_FILES = 64
BATCHES_PER_CPU = 4
# Cleaning tasks in flight before the build waits for the oldest (bounds its memory).
IN_FLIGHT_PER_CPU = 4


def _node() -> str:
    import ray

    return ray.get_runtime_context().get_node_id()


def _read_batch(files: list[tuple[CorpusFile, dict]], default_source: str,
                max_file_bytes: int | None, limits) -> tuple[tuple, list]:
    reads, raws = read_files(files, default_source, max_file_bytes, limits)
    return (_node(), reads), raws  # two objects: the build fetches only the first


def _clean_batch(raws: list[RawDocument], picks: list[int] | None, args: tuple) -> tuple:
    chosen = raws if picks is None else [raws[i] for i in picks]
    return _node(), ingest_documents(chosen, *args)


class _Batch:
    """A reading task: where it ran, what each file gave, and its documents' object."""

    def __init__(self, raws):
        self.raws = raws  # an ObjectRef: fetched by the cleaning task, not by the build
        self.node: str | None = None
        self.reads: list[FileRead] = []


class RayReads:
    """Read a corpus's files as Ray tasks spread over the cluster, for read_corpus to settle."""

    def __init__(self, ray, stages: dict[str, Stage], progress: bool):
        self.ray, self.stages, self.progress = ray, stages, progress
        self.task = ray.remote(num_cpus=1, num_returns=2)(_read_batch)
        self.batches: list[_Batch] = []
        self.where: dict[str, tuple[int, int]] = {}  # relpath -> (batch, position in it)
        self._fetched: tuple[int, list] | None = None  # the batch document() got last
        self.rounds = 0  # times files were sent to be read (a second: files read late)

    def read(self, corpus: Path, max_file_bytes: int | None = None,
             skips: Skips | None = None, **options) -> Iterator[RawDocument]:
        """Read the files read_corpus would read (if not yet read), then let it settle them."""
        limits = options.get("limits")
        self._read_all(corpus, max_file_bytes, limits, options.get("unchanged"),
                       options.get("walked"))
        here = reading_here(max_file_bytes, limits)

        def fetch(f: CorpusFile, reader: Reader) -> tuple[Checked, Callable[[], Parsed]]:
            at = self.where.get(f.relpath)
            if at is None:  # not sent (sources.toml changed since): read here instead
                return here(f, reader)
            read = self.batches[at[0]].reads[at[1]]
            return read.checked, read.parsed

        return read_corpus(corpus, max_file_bytes, skips, fetch=fetch, **options)

    def facts(self, raw: RawDocument) -> Facts:
        at = self.where.get(raw.doc_id)
        if at is None:  # read here (a corpus.jsonl is one file, read by the build)
            return document_facts(raw)
        return self.batches[at[0]].reads[at[1]].facts

    def document(self, raw: RawDocument) -> RawDocument:
        """Return the whole document that `raw` (which read yielded) stands for."""
        at = self.where.get(raw.doc_id)
        if at is None:
            return raw
        if self._fetched is None or self._fetched[0] != at[0]:
            self._fetched = at[0], self.ray.get(self.batches[at[0]].raws)
        return self._fetched[1][at[1]]

    def _read_all(self, corpus: Path, max_file_bytes: int | None, limits, unchanged,
                  walked) -> None:
        files, default_source = files_to_read(corpus, unchanged, walked)
        # Absolute: a worker's working folder is not the build's.
        files = [(replace(f, path=f.path.absolute()), table) for f, table in files
                 if f.relpath not in self.where]
        if not files:
            return
        started = time.perf_counter()
        self.rounds += 1
        cpus = max(1, int(self.ray.cluster_resources().get("CPU", 1)))
        size = max(1, min(BATCH_FILES, -(-len(files) // (cpus * BATCHES_PER_CPU))))
        turns = _turns(self.ray)
        pending = {}
        for start in range(0, len(files), size):
            part = files[start:start + size]
            head, raws = self.task.options(
                scheduling_strategy=turns[start // size % len(turns)]).remote(
                part, default_source, max_file_bytes, limits)
            pending[head] = len(self.batches)
            for i, (f, _) in enumerate(part):
                self.where[f.relpath] = (len(self.batches), i)
            self.batches.append(_Batch(raws))
        nodes = set()
        with Progress(len(files) if self.progress else 0, "Reading on Ray", "files") as shown:
            while pending:
                [ready], _ = self.ray.wait(list(pending), num_returns=1)
                batch = self.batches[pending.pop(ready)]
                batch.node, batch.reads = self.ray.get(ready)
                nodes.add(batch.node)
                shown.update(len(batch.reads))
        record(self.stages, "read", started, len(files), nodes)


def _turns(ray) -> list:
    """Return where reading tasks go in turn: each node as often as it has CPUs.

    Ray's own SPREAD is no spread at the start: a worker already leased on one node
    takes the next tasks while another node's workers are still starting, so a small
    corpus was read on one node. Turns are static (a slow node is not relieved); a node
    gone passes its tasks on (`soft`).
    """
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    cpus = {n["NodeID"]: int(n["Resources"].get("CPU", 0)) for n in ray.nodes() if n["Alive"]}
    turns = [NodeAffinitySchedulingStrategy(node, soft=True)
             for turn in range(max(cpus.values(), default=0))
             for node in sorted(cpus) if cpus[node] > turn]
    return turns or ["SPREAD"]


class _Chunk:
    """A cleaning task's results, fetched once, freed once every one has been taken."""

    def __init__(self, ref, size: int):
        self.ref, self.left = ref, size
        self.results: list | None = None
        self.node: str | None = None


class RayIngest:
    """Clean and chunk documents as Ray tasks, handing results back in the order put
    (OrderedIngest's interface). Documents read by RayReads are cleaned from the object
    store, by default on the node that read them; others (a corpus.jsonl's) are sent.

    `shareable`: whether `count_tokens` pickles; if not, every document is cleaned here.
    """

    CHUNK = BATCH_FILES  # documents a cleaning task takes at most

    def __init__(self, ray, reads: RayReads, stages: dict[str, Stage], count_tokens,
                 max_tokens: int, min_chars: int, shareable: bool, boilerplate: frozenset):
        self.ray, self.reads, self.stages = ray, reads, stages
        self.here = not shareable
        self.args = (count_tokens, max_tokens, min_chars, boilerplate)
        self.task = ray.remote(num_cpus=1)(_clean_batch)
        self.most = IN_FLIGHT_PER_CPU * max(1, int(ray.cluster_resources().get("CPU", 1)))
        self.pending: deque = deque()  # (item, [chunk or None until sent, position] or None)
        self.chunk: list = []  # positions in a batch, or documents, not yet sent
        self.slots: list[list] = []
        self.key = None  # the batch the unsent documents were read in ("sent": none)
        self.in_flight: deque[_Chunk] = deque()
        self.started: float | None = None
        self.done, self.nodes = 0, set()

    def __enter__(self) -> RayIngest:
        if not self.here:
            self.args = self.ray.put(self.args)  # once, not with every task
        return self

    def __exit__(self, kind, *exc) -> None:
        if kind is not None:  # after an error: drop what is still queued
            for chunk in self.in_flight:
                self.ray.cancel(chunk.ref)
        elif self.started is not None:
            record(self.stages, "clean and chunk", self.started, self.done, self.nodes)

    def put(self, item, raw: RawDocument | None) -> Iterator[tuple]:
        """Queue `item` (with `raw` to ingest, or None); yield the (item, result) now due."""
        if raw is None:
            self.pending.append((item, None))
        elif self.here:
            self.started = self.started or time.perf_counter()
            result = ingest_document(self.reads.document(raw), *self.args)
            self.pending.append((item, [_Done(result), 0]))
            self.done += 1
        else:
            at = self.reads.where.get(raw.doc_id)
            key = at[0] if at is not None else "sent"
            if self.chunk and (key != self.key or len(self.chunk) >= self.CHUNK):
                self._send()
            self.key = key
            slot = [None, len(self.chunk)]
            self.chunk.append(at[1] if at is not None else raw)
            self.slots.append(slot)
            self.pending.append((item, slot))
        # The head is due when nothing is left to wait for, or too much is in flight.
        while self.pending and (self.pending[0][1] is None or isinstance(
                self.pending[0][1][0], _Done) or len(self.in_flight) > self.most):
            yield self._next()

    def drain(self) -> Iterator[tuple]:
        """Yield every (item, result) still queued, in order."""
        if self.chunk:
            self._send()
        while self.pending:
            yield self._next()

    def _send(self) -> None:
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        self.started = self.started or time.perf_counter()
        if self.key == "sent":
            ref = self.task.options(scheduling_strategy="SPREAD").remote(
                list(self.chunk), None, self.args)
        else:
            batch = self.reads.batches[self.key]
            # Where the documents are (elsewhere if that node is gone): the turns of the
            # reading tasks again, and no documents sent.
            ref = self.task.options(scheduling_strategy=NodeAffinitySchedulingStrategy(
                batch.node, soft=True)).remote(batch.raws, list(self.chunk), self.args)
            # Read in one round, a batch's documents come in a row and all go in this
            # task, which keeps them alive while it needs them: let go of them here.
            if self.reads.rounds == 1:
                batch.raws = None
        chunk = _Chunk(ref, len(self.chunk))
        for slot in self.slots:
            slot[0] = chunk
        self.in_flight.append(chunk)
        self.chunk, self.slots, self.key = [], [], None

    def _next(self) -> tuple:
        item, slot = self.pending.popleft()
        if slot is None:
            return item, None
        chunk, position = slot
        if isinstance(chunk, _Done):
            return item, chunk.value
        if chunk.results is None:
            chunk.node, chunk.results = self.ray.get(chunk.ref)
            self.nodes.add(chunk.node)
        result, warnings = chunk.results[position]
        replay(warnings)  # a document with no text left is named, as in a local build
        chunk.left -= 1
        self.done += 1
        if not chunk.left:
            self.in_flight.remove(chunk)
            chunk.results = None
        return item, result


class _Done:
    def __init__(self, value):
        self.value = value
