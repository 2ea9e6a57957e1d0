"""Put BEIR collections and folders of HTML pages into one corpus folder, for scale runs.

A BEIR document becomes a text file (its title, a blank line, its text) under a folder
named after its collection; an HTML page is copied as it is, under a folder named after
its source, so the service's own HTML reader extracts it as it would a user's. The 100k
row of docs/scaling.md is this folder built from SciFact, RealTime QA, SQuAD's training
set and Debian's Python and Linux HTML documentation.

Usage:
    python benchmarks/corpus_folder.py OUT --beir ../shared/eval/scifact-train \
        --beir ../squad-train-full --html /tmp/deb/x/usr/share/doc/python3.11 ...

Sources that are absent are skipped with a line saying so (exit 0 when none is there).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
import time
from pathlib import Path

# Listing and search pages of Sphinx sites: links and names, no prose to answer from.
SKIPPED_PAGES = re.compile(r"^(genindex.*|search|py-modindex|objects)\.html$")
UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def _beir(folder: Path, out: Path) -> int:
    target = out / folder.name
    target.mkdir(parents=True, exist_ok=True)
    written = 0
    with open(folder / "corpus.jsonl", encoding="utf-8") as fh:
        for line in fh:
            if not line.strip():
                continue
            doc = json.loads(line)
            # The line number keeps two ids that differ only in unsafe characters apart.
            name = f"{written:06d}-{UNSAFE.sub('_', str(doc['_id']))[:80]}.txt"
            title = str(doc.get("title") or "").strip()
            text = str(doc.get("text") or "")
            (target / name).write_text(f"{title}\n\n{text}\n" if title else f"{text}\n",
                                       encoding="utf-8")
            written += 1
    return written


def _html(folder: Path, out: Path) -> int:
    copied = 0
    for page in sorted(folder.rglob("*.html")):
        if SKIPPED_PAGES.match(page.name) or "_sources" in page.parts:
            continue
        target = out / folder.name / page.relative_to(folder)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(page, target)
        copied += 1
    return copied


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--beir", type=Path, action="append", default=[],
                        help="a BEIR folder (with corpus.jsonl); repeatable")
    parser.add_argument("--html", type=Path, action="append", default=[],
                        help="a folder of HTML pages; repeatable")
    args = parser.parse_args()
    sources = [(p, _beir) for p in args.beir if (p / "corpus.jsonl").is_file()]
    sources += [(p, _html) for p in args.html if p.is_dir()]
    for missing in set(args.beir + args.html) - {p for p, _ in sources}:
        print(f"skipped: {missing} is absent", file=sys.stderr)
    if not sources:
        return 0
    if args.out.exists() and any(args.out.iterdir()):
        print(f"error: {args.out} is not empty", file=sys.stderr)
        return 2
    total, started = 0, time.perf_counter()
    for step, (path, write) in enumerate(sources, 1):
        count = write(path, args.out)
        total += count
        print(f"[{step}/{len(sources)}] {path}: {count:,} files "
              f"({time.perf_counter() - started:.1f} s)", flush=True)
    print(f"{args.out}: {total:,} files")
    return 0


if __name__ == "__main__":
    sys.exit(main())
