"""Print a process's resident memory after each thing a server worker loads, in order.

Usage:
    python benchmarks/memory.py --index-dir index [--backend int8] [--with-torch]

Shows what a worker's RSS is made of: libraries, the index, the encoder; --with-torch
then adds what importing torch and sentence-transformers costs on top (the torch
backend's share).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def rss_mb() -> int:
    status = Path("/proc/self/status").read_text()
    return int(status.split("VmRSS:")[1].split()[0]) // 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index-dir", default="index")
    parser.add_argument("--backend", default="int8")
    parser.add_argument("--with-torch", action="store_true")
    args = parser.parse_args()
    print(f"python: {rss_mb()} MB")
    import faiss  # noqa: F401
    import flask  # noqa: F401
    import numpy  # noqa: F401

    print(f"numpy, faiss, flask: {rss_mb()} MB")
    from qa_service.config import Settings
    from qa_service.encoders import encoder_for
    from qa_service.store import Index

    index = Index.load(Path(args.index_dir))
    print(f"the index ({index.manifest.counts['passages']} passages): {rss_mb()} MB")
    if args.backend != "torch":
        import onnxruntime  # noqa: F401
        import tokenizers  # noqa: F401

        print(f"onnxruntime, tokenizers: {rss_mb()} MB")
    encoder = encoder_for(Settings().with_(backend=args.backend).model, index.model, serving=True)
    print(f"the {args.backend} encoder: {rss_mb()} MB")
    encoder.encode(["Who is Marat Shibutov?"])
    print(f"after one encode: {rss_mb()} MB")
    if args.with_torch:
        import torch  # noqa: F401

        print(f"+ import torch: {rss_mb()} MB")
        import sentence_transformers  # noqa: F401

        print(f"+ import sentence_transformers: {rss_mb()} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
