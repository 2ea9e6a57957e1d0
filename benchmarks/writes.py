"""Writes over HTTP on a real server: uploads and deletes under load, and upload latency.

Usage:
    python benchmarks/writes.py load [--seconds 60] [--clients 16] [--workers 1]
    python benchmarks/writes.py hostile                      # tests/hostile_files uploaded
    python benchmarks/writes.py folder BEIR_DIR OUT_DIR     # corpus.jsonl -> one .md a doc
    python benchmarks/writes.py latency CORPUS_DIR INDEX_DIR [--times 5]
    python benchmarks/writes.py standin CORPUS_DIR INDEX_DIR  # a large index, quickly

`load`: the default corpus copied to a temporary folder and built with the real model;
a `qa-service serve` with an admin key; CLIENTS threads ask for SECONDS while 10
uploads (PDF, DOCX, Markdown, in turn, each with a fact of its own) and 5 deletes land,
one after another, each waited for. It checks that no ask failed, every job is done,
each upload answers its own question first (the PDF with the right page), each delete
leaves nothing of its document, and every answer came from one whole index version
(its passages' documents are those of the version it names).

`hostile`: each hostile file of tests/hostile_files (YAML aliases, 200,000 fields, a PDF
and a Word bomb, a zip that lies, HTML of 1.2M elements or 300,000 attributes) uploaded
to a real server on a copy of the default corpus: the job's outcome for it, how long it
took, the server's peak memory (its processes together, the reading child included),
and whether it still answers.

`latency`: a server on CORPUS_DIR/INDEX_DIR (a folder corpus, already built); one new
document uploaded TIMES times; the time from the request to the first answer that puts
it first, and the job's own time. A corpus.jsonl cannot be written to: `folder` turns a
BEIR corpus into a folder of Markdown files (title in the front matter) first.

`standin`: build CORPUS_DIR's index with a stand-in for the real model (its name,
dimension and tokenizer, hash vectors), as benchmarks/incremental.py does: a 30k-passage
index in minutes instead of hours, in the real format, which a real-model build (the
server's jobs) reuses as it would a real one. Answers on it rank the new document's
real vector against hash vectors: fit for timing writes, not for judging answers.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
KEY = "bench-admin-key"
QUESTIONS = ["How many people died in Aktobe?", "Who is Marat Shibutov?",
             "What happened in Almaty on July 18?", "How long will the alert last?"]


def request(url: str, method: str = "GET", body: bytes | None = None,
            content_type: str | None = None, key: bool = False, timeout: float = 120):
    """Send one request; return (status, JSON body or None)."""
    headers = {"Content-Type": content_type} if content_type else {}
    if key:
        headers["Authorization"] = f"Bearer {KEY}"
    req = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as exc:
        try:
            return exc.code, json.load(exc)
        except ValueError:
            return exc.code, None
    except OSError:
        return 0, None


def ask(url: str, question: str) -> tuple[int, dict | None]:
    return request(url + "/api/ask", "POST", json.dumps({"question": question}).encode(),
                   "application/json")


def multipart(name: str, data: bytes) -> tuple[bytes, str]:
    from urllib3 import encode_multipart_formdata

    return encode_multipart_formdata([("file", (name, data))])


def start_server(corpus: Path, index: Path, log: Path, threads: int = 8, workers: int = 1):
    env = {**os.environ, "QA_ADMIN_KEYS": KEY, "HF_HUB_OFFLINE": "1"}
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "qa_service", "serve", "--port", str(port),
                             "--corpus", str(corpus), "--index-dir", str(index),
                             "--threads", str(threads), "--workers", str(workers)],
                            stdout=open(log, "w"), stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if request(url + "/api/health", timeout=2)[0] == 200:
            return proc, url
        if proc.poll() is not None:
            break
        time.sleep(0.3)
    proc.kill()
    raise SystemExit(f"the server did not start; see {log}")


def rss_mb(pid: int) -> float:
    """Return the resident memory of a process and its children, in MB."""
    out = subprocess.run(["ps", "-o", "rss=", "--ppid", str(pid), "-p", str(pid)],
                         capture_output=True, text=True).stdout.split()
    return sum(int(x) for x in out) / 1024


def pdf_bytes(fact: str) -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("Helvetica", size=12)
    pdf.add_page()
    pdf.multi_cell(0, 8, "Harbour bulletin. Notices about the marina, its moorings and "
                         "the works planned for the coming season follow on the next page.")
    pdf.add_page()
    pdf.multi_cell(0, 8, fact)
    return bytes(pdf.output())


def docx_bytes(fact: str) -> bytes:
    import docx

    document = docx.Document()
    document.add_heading("Council notes", level=1)
    document.add_paragraph(fact)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


FACTS = [  # (question, the sentence that answers it); one upload each, in turn
    (f"When does the {place} ferry leave for {island}?",
     f"The {place} ferry leaves for {island} at {hour} every morning from pier {pier}.")
    for place, island, hour, pier in [
        ("Lindow", "Holm", "7 am", 3), ("Varby", "Skerry", "8 am", 5),
        ("Osterby", "Gull Isle", "6 am", 2), ("Marren", "Tarn", "9 am", 7),
        ("Quill", "Brack", "10 am", 1), ("Hessel", "Orm", "11 am", 4),
        ("Tovik", "Sand Holm", "5 am", 6), ("Ulstad", "Reef", "noon", 8),
        ("Brenna", "Fjell", "1 pm", 9), ("Kasta", "Lund", "2 pm", 10)]]


def versions_watcher(index: Path, seen: dict, stop: threading.Event) -> None:
    """Record the documents of each version that becomes current (they may be pruned)."""
    while not stop.is_set():
        try:
            current = (index / "current").resolve()
            if current.name not in seen:
                db = sqlite3.connect(f"file:{current / 'passages.sqlite'}?mode=ro", uri=True)
                seen[current.name] = {r[0] for r in db.execute("SELECT doc_id FROM documents")}
                db.close()
        except (OSError, sqlite3.Error):
            pass
        time.sleep(0.02)


def served_copy(workers: int = 1) -> tuple[Path, Path, subprocess.Popen, str]:
    """Copy the default corpus to a temporary folder, build it (real model) and serve it;
    return the folder, its index, the server process and its address."""
    work = Path(tempfile.mkdtemp(prefix="qa-writes-"))
    corpus, index = work / "corpus", work / "index"
    shutil.copytree(REPO / "corpus", corpus)
    subprocess.run([sys.executable, "-m", "qa_service", "build", "--corpus", str(corpus),
                    "--index-dir", str(index)], check=True, capture_output=True)
    proc, url = start_server(corpus, index, work / "serve.log", workers=workers)
    return work, index, proc, url


def load(args) -> None:
    work, index, proc, url = served_copy(args.workers)
    seen: dict = {}
    stop = threading.Event()
    threading.Thread(target=versions_watcher, args=(index, seen, stop), daemon=True).start()
    answers: list = []  # (status, index version, doc_ids)
    lock = threading.Lock()

    def client(i: int) -> None:
        n = 0
        while not stop.is_set():
            status, body = ask(url, f"{QUESTIONS[(i + n) % len(QUESTIONS)]} ({i}-{n})")
            with lock:
                answers.append((status, body and body.get("index"),
                                {p["doc_id"] for p in body["passages"]} if body else set()))
            n += 1

    threads = [threading.Thread(target=client, args=(i,)) for i in range(args.clients)]
    started = time.monotonic()
    for t in threads:
        t.start()
    jobs, checks, peak = [], [], 0.0
    uploaded: list[str] = []
    plan = ["add"] * 10 + ["delete"] * 5
    order = [a for pair in zip(plan[:10], ["delete"] * 5 + [None] * 5, strict=True)
             for a in pair if a]  # add, delete, add, delete, ... then adds
    for step, action in enumerate(order):
        if action == "add":
            k = len([a for a in order[:step] if a == "add"])
            question, fact = FACTS[k]
            kind = ("pdf", "docx", "md")[k % 3]
            name = f"upload-{k}.{kind}"
            data = {"pdf": pdf_bytes, "docx": docx_bytes,
                    "md": lambda f: f"# Notice\n\n{f}\n".encode()}[kind](fact)
            body, ctype = multipart(name, data)
            t0 = time.monotonic()
            status, job = request(url + "/api/documents?wait=120", "POST", body, ctype, True)
            took = time.monotonic() - t0
            _, answer = ask(url, question)
            first = answer["passages"][0] if answer else {}
            checks.append({"upload": name, "status": status, "state": job and job["state"],
                           "seconds": round(took, 2),
                           "answered_first": first.get("doc_id") == name,
                           "page": first.get("page")})
            uploaded.append(name)
        else:
            name = uploaded.pop(0)
            t0 = time.monotonic()
            status, job = request(f"{url}/api/documents/{name}?wait=120", "DELETE", key=True)
            took = time.monotonic() - t0
            _, answer = ask(url, FACTS[int(name.split("-")[1].split(".")[0])][0])
            checks.append({"delete": name, "status": status, "state": job and job["state"],
                           "seconds": round(took, 2),
                           "gone": all(p["doc_id"] != name for p in answer["passages"])})
        jobs.append(job)
        peak = max(peak, rss_mb(proc.pid))
    while time.monotonic() - started < args.seconds:
        peak = max(peak, rss_mb(proc.pid))
        time.sleep(1)
    stop.set()
    for t in threads:
        t.join()
    proc.terminate()
    proc.wait(30)
    failed = [a for a in answers if a[0] != 200]
    whole = [a for a in answers if a[0] == 200 and a[1] in seen]
    mixed = [a for a in whole if not a[2] <= seen[a[1]]]
    print(json.dumps({"seconds": round(time.monotonic() - started, 1),
                      "clients": args.clients, "workers": args.workers,
                      "asks": len(answers), "failed_asks": len(failed),
                      "jobs": len(jobs), "jobs_done": sum(j and j["state"] == "done"
                                                          for j in jobs),
                      "answers_checked_against_their_version": len(whole),
                      "answers_with_passages_outside_their_version": len(mixed),
                      "versions": len(seen), "server_peak_rss_mb": round(peak),
                      "steps": checks}, indent=1))
    shutil.rmtree(work, ignore_errors=True)


def hostile(args) -> None:
    sys.path.insert(0, str(REPO))
    from tests import hostile_files

    work, _, proc, url = served_copy()
    cases = [("laughs.md", hostile_files.yaml_alias_bomb),
             ("crowded.md", hostile_files.many_fields),
             ("bomb.pdf", hostile_files.pdf_flate_bomb),
             ("bomb.docx", hostile_files.docx_xml_bomb),
             ("lying.docx", lambda p: hostile_files.docx_lying_sizes(
                 hostile_files.docx_xml_bomb(p))),
             ("elements.html", hostile_files.html_many_elements),
             ("attributes.html", hostile_files.html_many_attributes)]
    peak, results = rss_mb(proc.pid), []
    stop = threading.Event()

    def watch() -> None:
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, rss_mb(proc.pid))
            time.sleep(0.1)

    threading.Thread(target=watch, daemon=True).start()
    try:
        for name, make in cases:
            path = make(work / name)
            body, ctype = multipart(name, path.read_bytes())
            t0 = time.monotonic()
            status, job = request(url + "/api/documents?wait=300", "POST", body, ctype, True)
            took = time.monotonic() - t0
            asked, answer = ask(url, "How many people died in Aktobe?")
            files = (job or {}).get("files") or [{}]
            results.append({"file": name, "bytes": path.stat().st_size, "status": status,
                            "state": (job or {}).get("state"),
                            "outcome": files[0].get("outcome"),
                            "reason": (files[0].get("reason") or (job or {}).get("error")
                                       or (job or {}).get("error", ""))[:120],
                            "seconds": round(took, 1), "ask_after": asked})
    finally:
        stop.set()
        proc.terminate()
        proc.wait(30)
    print(json.dumps({"server_peak_rss_mb": round(peak), "files": results}, indent=1))
    shutil.rmtree(work, ignore_errors=True)


def folder(args) -> None:
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=False)
    with open(Path(args.beir) / "corpus.jsonl", encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            row = json.loads(line)
            title = json.dumps(row.get("title") or "")  # JSON strings are YAML strings
            safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in str(row["_id"]))
            (out / f"{safe}.md").write_text(f"---\ntitle: {title}\n---\n\n{row['text']}\n",
                                            "utf-8")
    print(f"wrote {n} documents to {out}")


def latency(args) -> None:
    corpus, index = Path(args.corpus), Path(args.index)
    work = Path(tempfile.mkdtemp(prefix="qa-writes-"))
    proc, url = start_server(corpus, index, work / "serve.log")
    totals, jobs = [], []
    try:
        for n in range(args.times):
            name = f"bench-upload-{os.getpid()}-{n}.md"
            fact = (f"Zorvex trial {n}: the drug zorvexamide-{n} lowered blood pressure in "
                    f"{40 + n} of 60 patients over twelve weeks.")
            question = f"Did zorvexamide-{n} lower blood pressure?"
            body, ctype = multipart(name, f"# Zorvex trial {n}\n\n{fact}\n".encode())
            t0 = time.monotonic()
            status, job = request(url + "/api/documents", "POST", body, ctype, True)
            assert status == 202, (status, job)
            while True:
                _, answer = ask(url, question)
                if answer and answer["passages"] and answer["passages"][0]["doc_id"] == name:
                    break
                if time.monotonic() - t0 > 600:
                    raise SystemExit("not answerable after 600 s")
                time.sleep(0.05)
            totals.append(time.monotonic() - t0)
            _, done = request(f"{url}/api/jobs/{job['id']}?wait=60", key=True)
            jobs.append(done)
            request(f"{url}/api/documents/{name}?wait=300", "DELETE", key=True)
    finally:
        proc.terminate()
        proc.wait(30)
    print(json.dumps({"uploads": args.times,
                      "to_answerable_s": [round(t, 2) for t in totals],
                      "median_to_answerable_s": round(statistics.median(totals), 2),
                      "job_s": [round(secs(j), 2) for j in jobs],
                      "median_job_s": round(statistics.median(secs(j) for j in jobs), 2)},
                     indent=1))


def secs(job: dict) -> float:
    """Return a job's seconds from its request to its end."""
    from datetime import datetime

    return (datetime.fromisoformat(job["finished_at"])
            - datetime.fromisoformat(job["created_at"])).total_seconds()


def standin(args) -> None:
    sys.path.insert(0, str(REPO / "benchmarks"))
    from incremental import StandIn

    from qa_service.config import Settings
    from qa_service.encoders import get_encoder
    from qa_service.indexing import build_index

    settings = Settings.from_env(corpus=Path(args.corpus), index_dir=Path(args.index))
    t0 = time.monotonic()
    report = build_index(settings, StandIn(get_encoder(settings.model.name)), progress=True)
    print(json.dumps({"documents": report.documents, "passages": report.passages,
                      "seconds": round(time.monotonic() - t0, 1)}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("load")
    p.add_argument("--seconds", type=float, default=60)
    p.add_argument("--clients", type=int, default=16)
    p.add_argument("--workers", type=int, default=1)
    sub.add_parser("hostile")
    p = sub.add_parser("standin")
    p.add_argument("corpus")
    p.add_argument("index")
    p = sub.add_parser("folder")
    p.add_argument("beir")
    p.add_argument("out")
    p = sub.add_parser("latency")
    p.add_argument("corpus")
    p.add_argument("index")
    p.add_argument("--times", type=int, default=5)
    args = parser.parse_args()
    if args.command == "folder" and not (Path(args.beir) / "corpus.jsonl").is_file():
        print(f"skipped: no corpus.jsonl in {args.beir}")
        return
    {"load": load, "hostile": hostile, "folder": folder, "latency": latency,
     "standin": standin}[args.command](args)


if __name__ == "__main__":
    main()
