"""Memory of `qa-service serve --workers N`: the index files are shared, not copied.

Usage:
    python benchmarks/workers_memory.py --index-dir INDEX [--workers 2] [--requests 40]

Starts the server over an existing index, sends some questions (so that every worker
has searched and touched the vectors), then prints, for each worker process, RSS and
PSS of the whole process (/proc/PID/smaps_rollup) and of the mappings of the index
files (passages.faiss, sentences.npy; /proc/PID/smaps). A page that N processes share
counts 1/N in each one's PSS: PSS of the index files near size/N, and an anonymous
(private) part that does not grow with the index, show that the vectors are held once.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.conftest import free_port  # noqa: E402

FILES = ("passages.faiss", "sentences.npy")


def rollup(pid: int) -> dict[str, int]:
    out = {}
    for line in open(f"/proc/{pid}/smaps_rollup"):
        parts = line.split()
        if parts[0] in ("Rss:", "Pss:", "Anonymous:"):
            out[parts[0].rstrip(":")] = int(parts[1]) // 1024
    return out


def file_mappings(pid: int) -> dict[str, dict[str, int]]:
    """Return Rss/Pss (MiB) of each index file's mappings in a process."""
    found: dict[str, dict[str, int]] = {}
    current = None
    for line in open(f"/proc/{pid}/smaps"):
        parts = line.split()
        if "-" in parts[0] and len(parts) >= 5:
            name = parts[-1] if len(parts) >= 6 else ""
            current = next((f for f in FILES if name.endswith(f)), None)
        elif current and parts[0] in ("Rss:", "Pss:"):
            slot = found.setdefault(current, {"Rss": 0, "Pss": 0})
            slot[parts[0].rstrip(":")] += int(parts[1])
    return {f: {k: v // 1024 for k, v in d.items()} for f, d in found.items()}


def children(pid: int) -> list[int]:
    with open(f"/proc/{pid}/task/{pid}/children") as fh:
        return [int(p) for p in fh.read().split()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--index-dir", type=Path, required=True)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--requests", type=int, default=40)
    args = parser.parse_args()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen(
        [sys.executable, "-m", "qa_service", "serve", "--port", str(port), "--index-dir",
         str(args.index_dir), "--workers", str(args.workers), "--threads", "2"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=os.environ.copy())
    try:
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(url + "/api/health", timeout=2).close()
                break
            except OSError:
                time.sleep(0.5)
        time.sleep(5)  # let every worker finish loading
        for i in range(args.requests):
            body = json.dumps({"question": f"What happened in the report number {i}?"})
            req = urllib.request.Request(url + "/api/ask", body.encode(),
                                         {"Content-Type": "application/json"})
            urllib.request.urlopen(req, timeout=120).close()
        sizes = {f: (Path(args.index_dir) / "current" / f).stat().st_size >> 20 for f in FILES}
        print(f"index files (MiB): {sizes}")
        for pid in children(proc.pid):
            print(f"worker {pid}: process {rollup(pid)}; index files {file_mappings(pid)}")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)


if __name__ == "__main__":
    main()
