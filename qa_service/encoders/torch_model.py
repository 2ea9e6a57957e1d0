"""A sentence-transformers model on torch, in fp32 or with bf16 matrix products."""

from __future__ import annotations

import inspect
import os
from contextlib import contextmanager, nullcontext
from pathlib import Path

import numpy as np

from qa_service.encoders.base import TokenCount
from qa_service.encoders.models import pipeline_of, resolve_model_path
from qa_service.encoders.pooling import SpanPool, Spans
from qa_service.errors import ModelError
from qa_service.progress import Progress


class SentenceTransformerEncoder:
    """A sentence-transformers model, loaded from local files only, in fp32 or bf16."""

    # Rows a call runs at once: on the CPU as many as fit in TOKEN_BUDGET tokens (SQuAD
    # paragraphs ran fastest at about 16 a batch, sentences at about 32-64), on a GPU a
    # large batch keeps it busy (pre-tokenised, length-sorted batches of 1,024).
    TOKEN_BUDGET = 2048
    MAX_ROWS = {"cpu": 64, "cuda": 1024}
    PIPELINE_SLICE = 16  # batches a slice of another pipeline's encode, when counting

    def __init__(self, name: str, device: str = "cpu", threads: int = 0, bf16: bool = False):
        self.name = name
        self.backend = "bf16" if bf16 else "torch"
        path = resolve_model_path(name)
        try:
            import torch
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()  # a bar per load would clutter every command
            if threads:
                torch.set_num_threads(threads)  # process-wide: torch has no per-call setting

            self.model = SentenceTransformer(path, device=device, local_files_only=True)
        except Exception as exc:  # any loading failure is reported the same way
            raise ModelError(f"cannot load model {name!r} from {path}: {exc}") from None
        self._torch = torch
        self.device = torch.device(device)
        self.dimension = int(self.model.get_embedding_dimension())
        self.max_tokens = int(self.model.max_seq_length or 256)
        self._tokenizer = self.model.tokenizer
        self._direct = _direct_tokenizer(Path(path), self.max_tokens)
        tokenizer_file = Path(path) / "tokenizer.json"
        self.token_counter = TokenCount(tokenizer_file) if tokenizer_file.is_file() else None

    def _autocast(self):
        """bf16 matrix products, fp32 elsewhere (layer norms, softmax, pooling)."""
        if self.backend != "bf16":
            return nullcontext()
        return self._torch.autocast(self.device.type, dtype=self._torch.bfloat16)

    def encode(self, texts, batch_size=64, progress=None) -> np.ndarray:
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        if self._direct is None:  # another pipeline than transformer + mean pooling
            return self._encode_pipeline(texts, batch_size, progress)
        return self._encode_direct(texts, progress)

    def encode_spans(self, texts: list[str], spans: list[Spans], batch_size: int = 64,
                     progress=None) -> tuple[np.ndarray, np.ndarray, list[int]]:
        """Return the texts' vectors, their spans' vectors pooled from the same pass
        (encoders.pooling), and which spans the window missed (left zero); another
        pipeline than transformer + mean pooling misses them all."""
        texts = list(texts)
        pool = SpanPool(spans, self.dimension)
        if self._direct is None or not texts:
            pool.missed = list(range(len(pool.vectors)))
            return self.encode(texts, batch_size, progress), pool.vectors, pool.missed
        return self._encode_direct(texts, progress, pool), pool.vectors, pool.missed

    def _encode_pipeline(self, texts: list[str], batch_size: int, progress: Progress | None
                         ) -> np.ndarray:
        """Run sentence-transformers' own encode: at once, or in slices that count done."""
        # Its own bar cannot print a line to a log file; slices of many batches can (each
        # slice sorts its texts by length, as the whole call would).
        step = batch_size * self.PIPELINE_SLICE if progress else len(texts)
        parts = []
        with self._autocast():
            for start in range(0, len(texts), step):
                part = texts[start:start + step]
                parts.append(self.model.encode(
                    part, batch_size=batch_size, show_progress_bar=False,
                    convert_to_numpy=True, normalize_embeddings=True))
                if progress:
                    progress.update(len(part))
        return np.ascontiguousarray(np.concatenate(parts), dtype=np.float32)

    def _encode_direct(self, texts: list[str], progress: Progress | None,
                       pool: SpanPool | None = None) -> np.ndarray:
        """Tokenise every text in one call, then run length-sorted batches through the model.

        The same vectors as sentence-transformers' encode (mean pooling, unit length) with
        less padding, and tokenisation out of the model's loop (on a GPU, in parallel).
        """
        torch = self._torch
        gpu = self.device.type != "cpu"
        with _tokenizer_threads(gpu):
            encodings = self._direct.encode_batch(texts)
        lengths = np.fromiter((len(e.ids) for e in encodings), dtype=np.int64, count=len(texts))
        order = np.argsort(-lengths, kind="stable")
        most = self.MAX_ROWS.get(self.device.type, 64)
        batches, start = [], 0
        while start < len(order):
            rows = most if gpu else max(1, min(most, self.TOKEN_BUDGET // int(
                lengths[order[start]])))
            batches.append(order[start:start + rows])
            start += rows
        transformer = self.model[0].auto_model
        typed = "token_type_ids" in inspect.signature(transformer.forward).parameters
        pooled = []
        with torch.inference_mode(), self._autocast():
            for rows in batches:
                width = int(lengths[rows[0]])  # longest first: the batch's width
                ids = np.zeros((len(rows), width), dtype=np.int64)
                for i, row in enumerate(rows):
                    ids[i, :lengths[row]] = encodings[row].ids
                mask = (np.arange(width) < lengths[rows][:, None]).astype(np.int64)
                ids_t = torch.from_numpy(ids).to(self.device, non_blocking=True)
                mask_t = torch.from_numpy(mask).to(self.device, non_blocking=True)
                # Single texts: their token types are all 0, as the tokenizer would give.
                extra = {"token_type_ids": torch.zeros_like(ids_t)} if typed else {}
                hidden = transformer(input_ids=ids_t, attention_mask=mask_t, **extra
                                     ).last_hidden_state.float()
                weights = mask_t.unsqueeze(-1).float()
                vectors = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1e-9)
                # Kept on the device until the end: a copy per batch would stall a GPU.
                pooled.append(torch.nn.functional.normalize(vectors, dim=1))
                if pool is not None:
                    states = hidden.cpu().numpy()
                    for i, row in enumerate(rows):
                        pool.add(int(row), states[i, :lengths[row]], encodings[row],
                                 int(lengths[row]) >= self.max_tokens)
                if progress:
                    progress.update(len(rows))
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        out[np.concatenate(batches)] = torch.cat(pooled).cpu().numpy()
        return out

    def count_tokens(self, text: str) -> int:
        if self.token_counter is not None:
            return self.token_counter(text)
        return len(self._tokenizer(text, add_special_tokens=False, verbose=False)["input_ids"])


@contextmanager
def _tokenizer_threads(parallel: bool):
    """Let the Rust tokenizer use every core for one call (off by default: it must not have
    run threads before a server forks its workers)."""
    before = os.environ.get("TOKENIZERS_PARALLELISM")
    if parallel:
        os.environ["TOKENIZERS_PARALLELISM"] = "true"
    try:
        yield
    finally:
        if parallel:
            os.environ["TOKENIZERS_PARALLELISM"] = before or "false"


def _direct_tokenizer(folder: Path, max_tokens: int):
    """Return a truncating tokenizer for a transformer + mean pooling model, else None."""
    try:
        pipeline_of(folder)
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    except Exception:  # not such a model, or no fast tokenizer file: use encode()
        return None
    tokenizer.enable_truncation(max_tokens)
    tokenizer.no_padding()
    return tokenizer
