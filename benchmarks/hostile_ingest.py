"""Build an index from each hostile file (beside one good document); print time and peak memory.

Usage:
    python benchmarks/hostile_ingest.py [--only yaml|fields|pdf|docx|name]

Each build runs in a child process, so its peak RSS is its own; the fake encoder keeps
the model out of the figures. The files are those of tests/hostile_files.py.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests import hostile_files  # noqa: E402

CASES = {
    "yaml": ("laughs.md", hostile_files.yaml_alias_bomb),
    "fields": ("crowded.md", hostile_files.many_fields),
    "pdf": ("bomb.pdf", hostile_files.pdf_flate_bomb),
    "docx": ("bomb.docx", hostile_files.docx_xml_bomb),
    "name": (None, None),
}

_CHILD = """
import resource, sys
from pathlib import Path
from qa_service.config import Settings
from qa_service.encoders import get_encoder
from qa_service.indexing import build_index
settings = Settings.from_env(corpus=Path(sys.argv[1]), index_dir=Path(sys.argv[2]))
report = build_index(settings, get_encoder("hash:256"))
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
print(f"RESULT {report.documents} documents; {report.skipped.summary()}; peak {peak} MB")
"""


def run(case: str, timeout: float) -> str:
    name, make = CASES[case]
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "corpus"
        corpus.mkdir()
        (corpus / "ferry.txt").write_text("The harbour ferry leaves at six in the morning "
                                          "from the north pier, the port said.", "utf-8")
        if make is None:
            bad = os.path.join(os.fsencode(corpus), b"\xff\xfe.txt")
            Path(os.fsdecode(bad)).write_text("A tram runs at noon.", "utf-8")
            size = 20
        else:
            size = make(corpus / name).stat().st_size
        env = {**os.environ, "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1",
               "QA_MODEL": "hash:256"}
        started = time.perf_counter()
        try:
            done = subprocess.run([sys.executable, "-c", _CHILD, str(corpus),
                                   str(Path(tmp) / "index")], capture_output=True,
                                  text=True, timeout=timeout, env=env)
        except subprocess.TimeoutExpired:
            return f"{case:7} {size:>10,} bytes: over {timeout:.0f} s (stopped)"
        seconds = time.perf_counter() - started
        result = [line for line in done.stdout.splitlines() if line.startswith("RESULT")]
        what = result[0][7:] if result else f"failed: {done.stderr.strip()[-300:]}"
        return f"{case:7} {size:>10,} bytes: {seconds:6.1f} s; {what}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=list(CASES))
    parser.add_argument("--timeout", type=float, default=180)
    args = parser.parse_args()
    for case in [args.only] if args.only else CASES:
        print(run(case, args.timeout), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
