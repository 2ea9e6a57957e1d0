"""The `qa-service` command line: build an index, ask questions, chat."""

from __future__ import annotations

import functools
import json
import logging
import sys
import textwrap
import unicodedata
from pathlib import Path

import click

from qa_service import __version__
from qa_service.config import BACKEND_CHOICES, Settings
from qa_service.errors import QAError

log = logging.getLogger(__name__)

_PATH = click.Path(path_type=Path)


def _domain_errors(func):
    """Report domain and file-system errors as one line on stderr with a non-zero exit."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except QAError as exc:
            raise click.ClickException(exc.message) from None
        except OSError as exc:
            raise click.ClickException(f"{exc.strerror or exc}: {exc.filename or ''}".rstrip(
                ": ")) from None
        except KeyboardInterrupt:
            raise click.Abort() from None

    return wrapper


def _settings(**overrides) -> Settings:
    return Settings.from_env(**overrides)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="qa-service")
@click.option("-v", "--verbose", count=True, help="Log more (-v: progress, -vv: debug).")
def cli(verbose: int) -> None:
    """Answer questions with retrieved, attributed passages from a document collection."""
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s",
                        stream=sys.stderr)
    for noisy in ("sentence_transformers", "transformers", "huggingface_hub", "faiss"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))


@cli.command()
@click.option("--corpus", type=_PATH, envvar="QA_CORPUS",
              help="A folder of .txt/.md/.html files, or a BEIR corpus.jsonl [corpus].")
@click.option("--index-dir", type=_PATH, envvar="QA_INDEX_DIR", help="Index folder [index].")
@click.option("--model", envvar="QA_MODEL",
              help="Embedding model: a name, a local folder, or hash:DIM for tests.")
@click.option("--device", envvar="QA_DEVICE",
              help="Where to embed: cpu, or cuda / cuda:N (runs on torch) [cpu].")
@click.option("--backend", envvar="QA_BACKEND", type=click.Choice(BACKEND_CHOICES),
              help="How the model runs: onnx, int8 (faster, near-identical vectors), torch "
                   "(fp32), bf16 (bf16 products, fp32-close vectors), or auto: bf16 on a GPU "
                   "or an AMX CPU, else onnx [auto].")
@click.option("--if-stale", is_flag=True,
              help="Build only if the index is missing, unreadable or out of date.")
@click.option("--engine", type=click.Choice(["local", "ray"]), default="local",
              show_default=True,
              help="Who embeds: this process, or a Ray Data job (RAY_ADDRESS names a cluster).")
@click.option("--full", is_flag=True,
              help="Embed every document again instead of reusing unchanged ones.")
@_domain_errors
def build(corpus, index_dir, model, device, backend, if_stale, engine, full) -> None:
    """Build the index of a corpus (atomically: the old index stays until the new is whole).

    Documents unchanged since the live index (same content hash, model and chunking)
    keep their passages and vectors; only new and changed ones are embedded.
    """
    settings = _settings(corpus=corpus, index_dir=index_dir, model=model, device=device,
                         backend=backend)
    _build(settings, only_if_stale=if_stale, engine=engine, full=full)


def _build(settings: Settings, only_if_stale: bool, engine: str = "local",
           full: bool = False) -> None:
    """Build the index of `settings.corpus`, or, if asked, only when it is out of date."""
    from qa_service.embed import encoder_for
    from qa_service.store import index as index_mod
    from qa_service.store.build import build_index

    if only_if_stale:
        reason = index_mod.check(settings.index_dir, settings, settings.corpus)
        if reason is None:
            click.echo(f"Index in {settings.index_dir} is up to date.", err=True)
            return
        click.echo(f"Building the index in {settings.index_dir}: {reason}", err=True)
    report = build_index(settings, encoder_for(settings),
                         progress=sys.stderr.isatty(), engine=engine, full=full)
    click.echo(
        f"Indexed {report.documents} documents, {report.passages} passages "
        f"({report.sentences} sentences) in {report.seconds:.1f} s "
        f"[{report.vector_index} vectors; {report.reused_documents} documents reused, "
        f"{report.embedded_passages} passages embedded] -> {report.path}",
        err=True,
    )


def _filter_options(func):
    func = click.option("--until", metavar="YYYY-MM-DD",
                        help="Only documents dated on or before this day.")(func)
    func = click.option("--since", metavar="YYYY-MM-DD",
                        help="Only documents dated on or after this day.")(func)
    func = click.option("--source", "sources", multiple=True,
                        help="Only documents of this publisher; repeatable.")(func)
    return func


def _answerer(server: str | None, index_dir: Path | None):
    """Return a function that answers a request body, here or on a running server."""
    if server:
        from qa_service.client import ask_remote

        return lambda body: ask_remote(server, body)
    from qa_service.service import Service

    service = Service.load(_settings(index_dir=index_dir))
    reason = service.stale()
    if reason:
        click.echo(f"warning: the index is stale ({reason}); run `qa-service build` "
                   "to update it", err=True)
    return service.ask


def _body(question, history, top_k, sources, since, until, explain=False) -> dict:
    body: dict = {"question": question, "history": list(history)}
    if explain:
        body["explain"] = True
    if top_k is not None:
        body["top_k"] = top_k
    filters = {k: v for k, v in (("sources", list(sources)), ("date_from", since),
                                 ("date_to", until)) if v}
    if filters:
        body["filters"] = filters
    return body


_server_option = click.option(
    "--server", envvar="QA_SERVER", metavar="URL",
    help="Ask a running service (e.g. http://127.0.0.1:8000) instead of loading the index.")


@cli.command()
@click.argument("question")
@click.option("-k", "--top-k", type=int, help="How many passages to return (1-20) [5].")
@click.option("--history", multiple=True,
              help="An earlier question of the conversation, oldest first; repeatable.")
@_filter_options
@click.option("--index-dir", type=_PATH, envvar="QA_INDEX_DIR", help="Index folder [index].")
@_server_option
@click.option("--explain", is_flag=True, help="Show how each passage got its rank.")
@click.option("--json", "as_json", is_flag=True, help="Print the JSON response body.")
@_domain_errors
def ask(question, top_k, history, sources, since, until, index_dir, server, explain,
        as_json) -> None:
    """Answer QUESTION ('-' reads it from stdin) with ranked, attributed passages."""
    if question == "-":
        question = sys.stdin.read()
    body = _body(question, history, top_k, sources, since, until, explain)
    answer = _answerer(server, index_dir)(body)
    if as_json:
        click.echo(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2))
    else:
        click.echo(render(answer))


@cli.command()
@click.option("-k", "--top-k", type=int, help="How many passages to return (1-20) [5].")
@_filter_options
@click.option("--index-dir", type=_PATH, envvar="QA_INDEX_DIR", help="Index folder [index].")
@_server_option
@_domain_errors
def chat(top_k, sources, since, until, index_dir, server) -> None:
    """Ask questions in a loop; follow-ups use the conversation so far (/new resets it)."""
    from qa_service.search import MAX_HISTORY

    answer_body = _answerer(server, index_dir)
    click.echo("Ask a question (/new starts a new conversation, /quit or Ctrl-D ends).")
    history: list[str] = []
    while True:
        try:
            question = input("> ").strip()
        except EOFError:
            click.echo()
            return
        if question in ("/quit", "/exit"):
            return
        if question == "/new":
            history = []
            click.echo("New conversation.")
            continue
        if not question:
            continue
        try:
            answer = answer_body(_body(question, history[-MAX_HISTORY:], top_k, sources,
                                       since, until))
        except QAError as exc:
            click.echo(f"Error: {exc.message}", err=True)
            continue
        click.echo(render(answer))
        history.append(question)


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, envvar="QA_HOST")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535),
              envvar="QA_PORT")
@click.option("--index-dir", type=_PATH, envvar="QA_INDEX_DIR", help="Index folder [index].")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              envvar="QA_WORKERS", help="Processes, each with the model loaded once.")
@click.option("--threads", default=4, show_default=True, type=click.IntRange(1, 64),
              envvar="QA_THREADS", help="Request threads per worker.")
@click.option("--reload-interval", type=click.FloatRange(min=0), envvar="QA_RELOAD_INTERVAL",
              metavar="SECONDS",
              help="How often to look for a new build and serve it; 0: on SIGHUP only [1].")
@_domain_errors
def serve(host, port, index_dir, workers, threads, reload_interval) -> None:
    """Serve the JSON API and the chat page (gunicorn) until SIGTERM.

    A new build is served as soon as it is published (`current` is checked every
    --reload-interval seconds) or on SIGHUP, without dropping a request.
    """
    from qa_service.app import check_rate_limit
    from qa_service.embed import prepare
    from qa_service.serve import serve as run_server
    from qa_service.store.index import Index

    settings = _settings(index_dir=index_dir)
    check_rate_limit(settings.rate_limit)  # here, not in every worker as it boots
    index = Index.load(settings.index_dir)  # a clear error now, not a worker failing to boot
    reason = index.staleness(settings)
    index.close()
    prepare(settings, index.model)
    if reason:
        click.echo(f"warning: the index is stale ({reason}); run `qa-service build` "
                   "to update it", err=True)
    overrides = {"index_dir": settings.index_dir} if index_dir else {}
    if reload_interval is not None:
        overrides["reload_interval"] = reload_interval
    click.echo(f"Serving http://{host}:{port}/ ({workers} worker(s) x {threads} threads)",
               err=True)
    run_server(overrides, host, port, workers, threads)


@cli.command("eval")
@click.argument("questions", type=_PATH, required=False)
@click.option("--beir", "beir_dir", type=_PATH, metavar="DIR",
              help="A BEIR folder (corpus.jsonl, queries.jsonl, qrels/) to evaluate on.")
@click.option("--split", help="With --beir: the qrels split [test, or the only one].")
@click.option("--sample", type=click.IntRange(1), help="With --beir: this many random queries.")
@click.option("--index-dir", type=_PATH, envvar="QA_INDEX_DIR",
              help="Index folder [index; with --beir, index/eval/<folder>].")
@click.option("--json", "as_json", is_flag=True, help="Print the scores as JSON.")
@click.option("--verbose", is_flag=True, help="List every miss with the passages returned.")
@_domain_errors
def evaluate(questions, beir_dir, split, sample, index_dir, as_json, verbose) -> None:
    """Score retrieval: dense only, lexical only and the default, side by side.

    QUESTIONS is a file in the format of dev.jsonl (hit@1, hit@5, MRR@10, declines,
    follow-ups, conflicts, furniture); --beir DIR scores a BEIR collection (nDCG@10,
    Recall@10, Recall@100, MRR@10), building its index first if needed.
    """
    from qa_service.evaluate import ranking_settings
    from qa_service.search import Searcher
    from qa_service.service import Service

    if bool(questions) == bool(beir_dir):
        raise click.UsageError("give either a QUESTIONS file or --beir DIR")
    settings = _settings(index_dir=index_dir)
    report: dict = {}
    if beir_dir:
        from qa_service.evaluate.beir import evaluate_beir, load_collection, sample_ids

        collection = load_collection(beir_dir, split)
        root = index_dir or Path(settings.index_dir) / "eval" / Path(beir_dir).resolve().name
        settings = settings.with_(index_dir=root, corpus=collection.corpus)
        _build(settings, only_if_stale=True)
        ids = sample_ids(collection, sample)
        report["collection"] = f"{beir_dir} ({collection.split}, {len(ids)} queries)"
    else:
        from qa_service.evaluate.questions import (
            describe_miss,
            evaluate_questions,
            load_questions,
            misses,
        )

        items = load_questions(questions)
        report["collection"] = f"{questions} ({len(items)} questions)"
    service = Service.load(settings)
    report["index"] = service.index.path.name
    report["model"] = service.index.model
    report["rankings"] = {}
    missed = []
    for name, variant in ranking_settings(settings).items():
        searcher = Searcher(service.index, service.encoder, variant)
        if beir_dir:
            report["rankings"][name] = evaluate_beir(searcher, collection, ids)
        else:
            scores, outcomes = evaluate_questions(searcher, items)
            report["rankings"][name] = scores
            if name == "default":
                missed = misses(outcomes)
    if as_json:
        click.echo(json.dumps(report, indent=2))
    else:
        click.echo(render_report(report))
    if verbose and missed:
        click.echo(f"\nMisses of the default ranking ({len(missed)}):")
        for outcome in missed:
            for line in describe_miss(outcome).splitlines():
                click.echo(printable(line))


def render_report(report: dict) -> str:
    """Format evaluation scores as a table, one row per ranking."""
    rows = report["rankings"]
    columns = [c for c in next(iter(rows.values())) if c not in ("queries", "questions")]
    width = {c: max(len(c), *(len(str(r.get(c, ""))) for r in rows.values())) for c in columns}
    lines = [f"{report['collection']}; index {report['index']}, model {report['model']}",
             "ranking  " + "  ".join(c.rjust(width[c]) for c in columns)]
    for name, scores in rows.items():
        lines.append(f"{name:8s} " + "  ".join(str(scores.get(c, "")).rjust(width[c])
                                             for c in columns))
    return "\n".join(lines)


def render(answer) -> str:
    """Format an answer for a terminal: numbered passages with their attribution."""
    lines = []
    if answer.query != answer.question:
        lines.append(f"Searched for: {printable(answer.query)}")
    if answer.sources:
        lines.append("From " + "; ".join(
            f"{printable(s.source)} ({s.date or 'undated'}): "
            + ", ".join(f"#{r}" for r in s.ranks) for s in answer.sources))
    if not answer.passages:
        lines.append("No passages found.")
    elif not answer.answerable:
        lines.append("The documents do not seem to answer this. The closest passages:")
    for p in answer.passages:
        where = [printable(p.source), printable(p.title)]
        where += [p.date] if p.date else []
        where += [f"paragraph {p.paragraph}", f"score {p.score:.3f}"]
        lines.append("")
        lines.append(f"{p.rank}. " + " · ".join(where))
        lines.append(textwrap.fill(printable(p.highlight), 88, initial_indent="   > ",
                                   subsequent_indent="     "))
        if p.highlight.strip() != p.text.strip():
            lines.append(textwrap.fill(printable(p.text), 88, initial_indent="   ",
                                       subsequent_indent="   "))
        lines.append(f"   [{printable(p.doc_id)} ¶{p.paragraph}]" + (
            f" {printable(p.url)}" if p.url else ""))
        if p.also_in:
            lines.append("   also in: " + "; ".join(
                f"{printable(c['source'])} ¶{c['paragraph']}" for c in p.also_in))
        if p.explain:
            e = p.explain
            lexical = f"#{e['lexical_rank']}" if e["lexical_rank"] else "no match"
            lines.append(
                f"   why: lexical {lexical} ({e['lexical_score']:.2f}), dense "
                f"#{e['dense_rank']} ({e['dense_score']:.3f}), sentence "
                f"{e['sentence_score']:.3f}, terms in sentence {e['sentence_terms']:.2f}, "
                f"pairs {e['phrases']:.2f}"
                f"{', answer type' if e['answer_type'] else ''}, fused "
                f"{e['fused_score']:.3f} of {e['candidates']} candidates; terms: "
                f"{printable(', '.join(e['matched_terms'])) or 'none'}")
    lines.append("")
    lines.append(f"({answer.took_ms:.0f} ms)")
    return "\n".join(lines)


def printable(text: str | None) -> str:
    """Make untrusted text safe for a terminal: no escape sequences or direction overrides."""
    return "".join(
        " " if ch in "\n\t" else ch
        for ch in (text or "")
        if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co")
    )


def main() -> None:
    """Run the command line (the `qa-service` console script)."""
    cli(prog_name="qa-service")
