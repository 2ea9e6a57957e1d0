"""A mean-pooled sentence-transformers model run by onnxruntime on the CPU."""

from __future__ import annotations

import os
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from qa_service.encoders.base import TokenCount
from qa_service.encoders.models import pipeline_of
from qa_service.encoders.onnx_export import cached_export, open_session
from qa_service.encoders.pooling import SpanPool, Spans
from qa_service.errors import ModelError

# onnxruntime on the CPU is fastest with small batches, and its memory arena grows with the
# largest one: 192 SQuAD paragraphs in int8 ran at 43 passages/s with a peak of 330 MB in
# batches of 8, against 28 passages/s and 1180 MB in batches of 64 (docs/performance.md).
MAX_BATCH = 8


def _cores() -> int:
    """Return the cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


class OnnxEncoder:
    """A mean-pooled sentence-transformers model run by onnxruntime on the CPU."""

    def __init__(self, name: str, path: str, cache_dir: Path, quantized: bool = False,
                 threads: int = 0):
        from tokenizers import Tokenizer

        self.name = name
        self.backend = "int8" if quantized else "onnx"
        folder = Path(path)
        self.max_tokens = pipeline_of(folder)
        file = cached_export(folder, cache_dir, quantized)
        # int8 runs one text a call (below): a call that small keeps a second thread
        # waiting more than working. A build (threads 0: every core) instead runs one
        # text a core side by side, each call on one thread: 40-45 SciFact passages/s on
        # 2 cores against 24-37 (docs/performance.md). The session is shared: onnxruntime
        # runs calls from several threads at once.
        self.lanes = _cores() if quantized and threads == 0 else 1
        try:
            self.session = open_session(file, 1 if self.lanes > 1 else threads)
            self._tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        except Exception as exc:  # a corrupt cache file or tokenizer: say which
            raise ModelError(f"cannot load {file}: {exc}; delete it to export again") from None
        self._tokenizer.enable_truncation(self.max_tokens)
        self._tokenizer.enable_padding()
        # Counting must see every token: a second tokenizer that neither cuts nor pads.
        self.token_counter = TokenCount(folder / "tokenizer.json")
        self.dimension = int(self.session.get_outputs()[0].shape[-1])
        self._inputs = {i.name for i in self.session.get_inputs()}
        # int8 activations are scaled over the whole batch, so a text's int8 vector would
        # depend on the texts beside it: alone, it is its own (and int8 still embeds SQuAD
        # paragraphs 1.7 times as fast as fp32 in batches; docs/performance.md).
        self.max_batch = 1 if quantized else MAX_BATCH

    def encode(self, texts, batch_size=64, progress=None) -> np.ndarray:
        return self._encode(list(texts), batch_size, progress)

    def encode_spans(self, texts: list[str], spans: list[Spans], batch_size: int = 64,
                     progress=None) -> tuple[np.ndarray, np.ndarray, list[int]]:
        """Return the texts' vectors, their spans' vectors pooled from the same pass
        (encoders.pooling), and which spans the window missed (left zero)."""
        pool = SpanPool(spans, self.dimension)
        return self._encode(list(texts), batch_size, progress, pool), pool.vectors, pool.missed

    def _encode(self, texts: list[str], batch_size: int, progress, pool: SpanPool | None = None
                ) -> np.ndarray:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        # Longest first, as sentence-transformers does: batches of like lengths pad little.
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        batch_size = min(batch_size, self.max_batch)
        batches = [order[start:start + batch_size]
                   for start in range(0, len(texts), batch_size)]
        for rows, (encodings, hidden, mask) in self._runs(texts, batches):
            weights = mask[..., None].astype(np.float32)
            vectors = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
            # Unit length always, as the torch encoder is asked for, Normalize module or not.
            out[rows] = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True),
                                             1e-12)
            if pool is not None:
                for j, row in enumerate(rows):
                    pool.add(row, hidden[j], encodings[j], int(mask[j].sum()) >= self.max_tokens)
            if progress:
                progress.update(len(rows))
        return out

    def _runs(self, texts: list[str], batches: list[list[int]]):
        """Yield each batch's rows and _run's result, in order, `lanes` calls at a time."""
        if self.lanes == 1 or len(batches) == 1:
            for rows in batches:
                yield rows, self._run([texts[i] for i in rows])
            return
        # A few calls ahead of the one awaited, not all: each result holds a text's token
        # states (up to 256 x 384 floats), and a corpus has many texts.
        with ThreadPoolExecutor(self.lanes, thread_name_prefix="onnx") as pool:
            waiting = deque()
            for rows in batches:
                waiting.append((rows, pool.submit(self._run, [texts[i] for i in rows])))
                if len(waiting) > 2 * self.lanes:
                    rows, done = waiting.popleft()
                    yield rows, done.result()
            while waiting:
                rows, done = waiting.popleft()
                yield rows, done.result()

    def _run(self, texts: list[str]):
        """Return the batch's encodings, token states and attention mask."""
        encodings = self._tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feed = {"input_ids": ids, "attention_mask": mask,
                "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64)}
        hidden = self.session.run(None, {k: v for k, v in feed.items() if k in self._inputs})[0]
        return encodings, hidden, mask

    def count_tokens(self, text: str) -> int:
        return self.token_counter(text)
