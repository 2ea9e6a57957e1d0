"""Clean and chunk documents in worker processes, handing them back in corpus order.

Cleaning, sentence splitting and token counting are pure Python on one core: a build
of short passages on a GPU, or of a large corpus on many cores, waits on them rather
than on the model. A pool of processes (one a core) takes documents in turn; results
come back in the order they were given, so a parallel build writes exactly the index a
serial one does. Small corpora stay in this process, where a warning about a document
is logged like any other.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterator

from qa_service.ingest.document import Document, Passage, ingest_document
from qa_service.ingest.readers import RawDocument

log = logging.getLogger(__name__)

# Documents cleaned here before a pool is started: a few files are not worth processes.
POOL_AFTER = 200
# Worker processes (0: one a core).
WORKERS = 0
# Documents handed out ahead of the one being written: bounds memory, keeps workers busy.
WINDOW_PER_WORKER = 32

Result = tuple[Document, list[Passage]]
_worker_args: tuple = ()


def _start_worker(*args) -> None:
    # A forked worker keeps the build's logging: its warnings read like the build's own.
    global _worker_args
    _worker_args = args


def _ingest(raw: RawDocument) -> Result:
    return ingest_document(raw, *_worker_args)


class _Done:
    """A result computed here, with the interface of the pool's pending results."""

    def __init__(self, value: Result):
        self.value = value

    def get(self) -> Result:
        return self.value


class OrderedIngest:
    """Ingest documents, in this process or a pool, and yield results in submission order.

    `shareable`: whether `count_tokens` pickles (each worker gets its own copy); if not,
    every document is ingested here. `boilerplate`: keys of lines repeated across a
    source's documents (ingest.boilerplate), which cleaning drops.
    """

    def __init__(self, count_tokens: Callable[[str], int], max_tokens: int, min_chars: int,
                 shareable: bool = True, workers: int | None = None,
                 pool_after: int | None = None, boilerplate: frozenset[str] = frozenset()):
        self.args = (count_tokens, max_tokens, min_chars, boilerplate)
        self.workers = workers or WORKERS or os.cpu_count() or 1
        self.pool_after = POOL_AFTER if pool_after is None else pool_after
        self.parallel = (shareable and self.workers > 1
                         and "fork" in multiprocessing.get_all_start_methods())
        self.pool = None
        self.submitted = 0
        self.pending: deque = deque()

    def __enter__(self) -> OrderedIngest:
        return self

    def __exit__(self, *exc) -> None:
        if self.pool is not None:
            self.pool.terminate()  # after an error: drop what is still queued
            self.pool.join()

    def put(self, item, raw: RawDocument | None) -> Iterator[tuple]:
        """Queue `item` (with `raw` to ingest, or None); yield the (item, result) now due.

        A generator: nothing is queued until it is iterated.
        """
        if raw is not None and self.pool is None and self.parallel \
                and self.submitted >= self.pool_after:
            self._start_pool()
        if raw is None:
            handle = None
        elif self.pool is not None:
            handle = self.pool.apply_async(_ingest, (raw,))
        else:
            handle = _Done(ingest_document(raw, *self.args))
            self.submitted += 1
        self.pending.append((item, handle))
        while len(self.pending) > self.workers * WINDOW_PER_WORKER:
            yield self._next()

    def drain(self) -> Iterator[tuple]:
        """Yield every (item, result) still queued, in order."""
        while self.pending:
            yield self._next()

    def _next(self) -> tuple:
        item, handle = self.pending.popleft()
        return item, None if handle is None else handle.get()

    def _start_pool(self) -> None:
        # fork: workers start at once and never re-run the caller's main module (spawn
        # would, and hangs on a script read from stdin). They run only Python, the regex
        # engine and the tokenizer, nothing of the threads torch or onnxruntime hold.
        context = multiprocessing.get_context("fork")
        log.info("ingesting with %d worker processes", self.workers)
        self.pool = context.Pool(self.workers, _start_worker, self.args)
