"""A sentence-transformers model run by onnxruntime, exported once from its local weights.

The export (torch) happens on first use and is cached on disk, keyed by the weights file;
later loads need neither torch nor transformers, which keeps a serving process small.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import threading
import warnings
from pathlib import Path

import numpy as np

from qa_service.errors import ModelError

log = logging.getLogger(__name__)

# Bumped when the export procedure changes, so that old cached files are not reused.
EXPORT_VERSION = 1
INPUTS = ("input_ids", "attention_mask", "token_type_ids")
# onnxruntime on the CPU is fastest with small batches, and its memory arena grows with the
# largest one: 192 SQuAD paragraphs in int8 ran at 43 passages/s with a peak of 330 MB in
# batches of 8, against 28 passages/s and 1180 MB in batches of 64 (docs/performance.md).
MAX_BATCH = 8
_WEIGHTS = ("model.safetensors", "pytorch_model.bin")
_export_lock = threading.Lock()


def pipeline_of(path: Path) -> int:
    """Return the token window of a mean-pooled model folder, or refuse any other."""
    try:
        modules = json.loads((path / "modules.json").read_text("utf-8"))
        types = [m["type"].rsplit(".", 1)[-1] for m in modules]
        pooling = json.loads((path / modules[1]["path"] / "config.json").read_text("utf-8"))
        config = json.loads((path / "sentence_bert_config.json").read_text("utf-8"))
    except (OSError, ValueError, KeyError, IndexError) as exc:
        raise ModelError(f"{path} is not a sentence-transformers model folder the onnx "
                         f"backend can run ({exc}); use backend torch") from None
    mean = pooling.get("pooling_mode_mean_tokens") and not any(
        v for k, v in pooling.items() if k.startswith("pooling_mode_") and k !=
        "pooling_mode_mean_tokens")
    if types[:2] != ["Transformer", "Pooling"] or not mean or set(types[2:]) - {"Normalize"}:
        raise ModelError(f"the onnx backend runs transformer + mean pooling models only; "
                         f"{path} has {types}: use backend torch")
    return int(config.get("max_seq_length") or 256)


def cached_export(path: Path, cache_dir: Path, quantized: bool) -> Path:
    """Return the ONNX file of the model in `path`, exporting (and quantising) it if needed."""
    weights = next((path / w for w in _WEIGHTS if (path / w).is_file()), None)
    if weights is None:
        raise ModelError(f"no weights ({' or '.join(_WEIGHTS)}) in {path}")
    stat = weights.stat()
    key = hashlib.sha256(
        f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}|{EXPORT_VERSION}".encode()
    ).hexdigest()[:16]
    folder = Path(cache_dir).expanduser() / "onnx" / key
    fp32 = folder / "model.onnx"
    int8 = folder / "model-int8.onnx"
    with _export_lock:
        if not fp32.is_file():
            _export(path, folder, fp32)
        if quantized and not int8.is_file():
            _quantize(fp32, int8)
    return int8 if quantized else fp32


def _export(path: Path, folder: Path, target: Path) -> None:
    """Trace the transformer to ONNX; check it against torch on a batch not traced with."""
    log.warning("exporting %s to ONNX in %s (once; takes a few seconds)", path, folder)
    try:
        import torch
        from transformers import AutoModel, AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
    except ImportError as exc:
        raise ModelError(f"exporting the model to ONNX needs torch and transformers: {exc}"
                         ) from None

    class LastHiddenState(torch.nn.Module):
        def __init__(self, model):
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.model(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids).last_hidden_state

    # eval() on the wrapper: the exporter restores the outer module's mode afterwards, which
    # would otherwise switch dropout on in the check below.
    model = LastHiddenState(AutoModel.from_pretrained(str(path), local_files_only=True)).eval()
    tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
    traced = tokenizer(["a short text", "a somewhat longer text to pad the other one"],
                       padding=True, return_tensors="pt")
    folder.mkdir(parents=True, exist_ok=True)
    tmp = _temp_name(target)
    try:
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")  # tracer warnings about Python-level branches
            torch.onnx.export(
                model, tuple(traced[k] for k in INPUTS), str(tmp), input_names=list(INPUTS),
                output_names=["last_hidden_state"], opset_version=17, dynamo=False,
                dynamic_axes={k: {0: "batch", 1: "tokens"} for k in
                              (*INPUTS, "last_hidden_state")},
            )
        probe = tokenizer(["one", "three texts of different lengths", "to check the export"],
                          padding=True, return_tensors="pt")
        with torch.inference_mode():
            expected = model(*(probe[k] for k in INPUTS)).numpy()
        got = _session(tmp, 1).run(None, {k: probe[k].numpy() for k in INPUTS})[0]
        mask = probe["attention_mask"].numpy().astype(bool)
        if not np.allclose(got[mask], expected[mask], atol=1e-4):
            raise ModelError(f"the ONNX export of {path} does not match torch; use backend "
                             "torch")
        _publish(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def _quantize(source: Path, target: Path) -> None:
    """Write `source` with int8 weights (per output channel, which keeps cosines near 0.99)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    tmp = _temp_name(target)
    logging.disable(logging.WARNING)  # its advice to pre-process applies to vision models
    try:
        quantize_dynamic(str(source), str(tmp), per_channel=True, weight_type=QuantType.QInt8)
        _publish(tmp, target)
    finally:
        logging.disable(logging.NOTSET)
        tmp.unlink(missing_ok=True)


def _publish(tmp: Path, target: Path) -> None:
    os.chmod(tmp, 0o644)  # mkstemp makes it private; the cache is readable like any model
    os.replace(tmp, target)


def _temp_name(target: Path) -> Path:
    # In the same folder, so that the final rename is atomic for a second process.
    fd, name = tempfile.mkstemp(prefix=".tmp-", suffix=".onnx", dir=target.parent)
    os.close(fd)
    return Path(name)


def _session(file: Path, threads: int):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    # Serving (a set number of threads): busy-waiting threads would steal the cores that
    # other requests' threads need. A build (every core, threads 0) owns the cores, and
    # waiting threads that spin pick up the next small operator sooner: 13-25 % more
    # sentences a second on 2 cores (docs/performance.md).
    options.add_session_config_entry("session.intra_op.allow_spinning",
                                     "1" if threads == 0 else "0")
    options.log_severity_level = 3
    return ort.InferenceSession(str(file), options, providers=["CPUExecutionProvider"])


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
        try:
            self.session = _session(file, threads)
            self._tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        except Exception as exc:  # a corrupt cache file or tokenizer: say which
            raise ModelError(f"cannot load {file}: {exc}; delete it to export again") from None
        self._tokenizer.enable_truncation(self.max_tokens)
        self._tokenizer.enable_padding()
        # Counting must see every token: a second tokenizer that neither cuts nor pads.
        from qa_service.embed import TokenCount

        self.token_counter = TokenCount(folder / "tokenizer.json")
        self.dimension = int(self.session.get_outputs()[0].shape[-1])
        self._inputs = {i.name for i in self.session.get_inputs()}
        # int8 activations are scaled over the whole batch, so a text's int8 vector would
        # depend on the texts beside it: alone, it is its own (and int8 still embeds SQuAD
        # paragraphs 1.7 times as fast as fp32 in batches; docs/performance.md).
        self.max_batch = 1 if quantized else MAX_BATCH

    def encode(self, texts, batch_size=64, progress=False) -> np.ndarray:
        texts = list(texts)
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        # Longest first, as sentence-transformers does: batches of like lengths pad little.
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        batch_size = min(batch_size, self.max_batch)
        starts = range(0, len(texts), batch_size)
        if progress:
            from tqdm import tqdm

            starts = tqdm(starts, desc="Batches", unit="batch")
        for start in starts:
            rows = order[start:start + batch_size]
            out[rows] = self._encode_batch([texts[i] for i in rows])
        return out

    def _encode_batch(self, texts: list[str]) -> np.ndarray:
        encodings = self._tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feed = {"input_ids": ids, "attention_mask": mask,
                "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64)}
        hidden = self.session.run(None, {k: v for k, v in feed.items() if k in self._inputs})[0]
        weights = mask[..., None].astype(np.float32)
        vectors = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        # Unit length always, as the torch encoder is asked for, Normalize module or not.
        return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)

    def count_tokens(self, text: str) -> int:
        return self.token_counter(text)
