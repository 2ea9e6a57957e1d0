"""Time reading a corpus of many small files in this process and in the limited child.

Usage:
    python benchmarks/read_sandbox.py [--files 1000] [--pdf-pages 200]

Writes N small files (half .txt, half .md with front matter) and times read_corpus over
them without limits (all in this process) and with the default QA_READ_TIMEOUT and
QA_READ_MEMORY_MB (Markdown through the child process, readers/sandbox.py); then the
default corpus (corpus/), and pdfminer's pages a second on a generated PDF.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from qa_service.config import BuildSettings  # noqa: E402
from qa_service.ingest.readers import Skips, read_corpus  # noqa: E402
from qa_service.ingest.readers.sandbox import ReadLimits, shared_sandbox  # noqa: E402

PARAGRAPH = ("The harbour ferry timetable changes in the spring, the port authority said "
             "on Monday, and the first boat will leave at six in the morning. ")


def write_small(folder: Path, files: int) -> None:
    for i in range(files):
        body = f"Note {i}: " + PARAGRAPH * 6
        if i % 2:
            (folder / f"{i:05d}.md").write_text(
                f"---\ntitle: Note {i}\ndate: 2024-05-0{i % 9 + 1}\ntags: [port, ferry]\n"
                f"---\n\n# Note {i}\n\n{body}\n\n- one item\n- two items\n", "utf-8")
        else:
            (folder / f"{i:05d}.txt").write_text(f"Note {i}\n\n{body}\n", "utf-8")


def timed(corpus: Path, limits: ReadLimits | None, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        docs = list(read_corpus(corpus, None, Skips(), limits=limits))
        best = min(best, time.perf_counter() - started)
    assert docs
    return best


def pdf_pages_per_second(pages: int, folder: Path) -> float:
    from fpdf import FPDF

    from qa_service.ingest.readers.pdf import PdfReader

    pdf = FPDF()
    pdf.set_font("Helvetica", size=11)
    for _ in range(pages):
        pdf.add_page()
        pdf.multi_cell(0, 6, PARAGRAPH * 20)
    path = folder / "book.pdf"
    pdf.output(str(path))
    started = time.perf_counter()
    PdfReader().read(path.read_bytes(), "book.pdf")
    return pages / (time.perf_counter() - started)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--pdf-pages", type=int, default=200)
    args = parser.parse_args()
    limits = ReadLimits.from_settings(BuildSettings())
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "small"
        corpus.mkdir()
        write_small(corpus, args.files)
        here = timed(corpus, None)
        started = time.perf_counter()
        list(read_corpus(corpus, None, Skips(), limits=limits))  # the child starts here
        first = time.perf_counter() - started
        child = timed(corpus, limits)
        print(f"{args.files:,} small files (half .md): {here:.2f} s in this process, "
              f"{child:.2f} s with the child ({first:.2f} s with its start)")
        default = REPO / "corpus"
        print(f"default corpus ({sum(1 for _ in default.iterdir())} files): "
              f"{timed(default, None) * 1000:.1f} ms in this process, "
              f"{timed(default, limits) * 1000:.1f} ms with limits")
        shared_sandbox(limits).close()
        if args.pdf_pages:
            rate = pdf_pages_per_second(args.pdf_pages, Path(tmp))
            print(f"pdfminer: {rate:.1f} pages a second ({args.pdf_pages} pages of text)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
