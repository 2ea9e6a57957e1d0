"""Export a sentence-transformers model to ONNX once, from its local weights, and open it.

The export (torch) happens on first use and is cached on disk, keyed by the weights file;
later loads need neither torch nor transformers, which keeps a serving process small.
"""

from __future__ import annotations

import hashlib
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
_WEIGHTS = ("model.safetensors", "pytorch_model.bin")
_export_lock = threading.Lock()


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
        got = open_session(tmp, 1).run(None, {k: probe[k].numpy() for k in INPUTS})[0]
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


def open_session(file: Path, threads: int):
    """Open an ONNX file on onnxruntime's CPU provider with `threads` per call (0: all)."""
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
