"""`qa-service eval`: score retrieval on a question file or a BEIR collection."""

from __future__ import annotations

import json
from pathlib import Path

import click

from qa_service.cli.build import run_build
from qa_service.cli.common import PATH, domain_errors, settings
from qa_service.cli.render import printable, render_report
from qa_service.progress import Progress


@click.command("eval")
@click.argument("questions", type=PATH, required=False)
@click.option("--beir", "beir_dir", type=PATH, metavar="DIR",
              help="A BEIR folder (corpus.jsonl, queries.jsonl, qrels/) to evaluate on.")
@click.option("--split", help="With --beir: the qrels split [test, or the only one].")
@click.option("--sample", type=click.IntRange(1), help="With --beir: this many random queries.")
@click.option("--index-dir", type=PATH, envvar="QA_INDEX_DIR",
              help="Index folder [index; with --beir, index/eval/<folder>].")
@click.option("--json", "as_json", is_flag=True, help="Print the scores as JSON.")
@click.option("--verbose", is_flag=True, help="List every miss with the passages returned.")
@domain_errors
def evaluate(questions, beir_dir, split, sample, index_dir, as_json, verbose) -> None:
    """Score retrieval: dense only, lexical only, weighted and learned, side by side.

    QUESTIONS is a file in the format of dev.jsonl (hit@1, hit@5, MRR@10, declines,
    follow-ups, conflicts, furniture); --beir DIR scores a BEIR collection (nDCG@10,
    Recall@10, Recall@100, MRR@10), building its index first if needed.
    """
    from qa_service.evaluate import (
        describe_miss,
        evaluate_beir,
        evaluate_questions,
        load_collection,
        load_questions,
        misses,
        ranking_settings,
        sample_ids,
    )
    from qa_service.search import Searcher
    from qa_service.service import Service

    if bool(questions) == bool(beir_dir):
        raise click.UsageError("give either a QUESTIONS file or --beir DIR")
    config = settings(index_dir=index_dir)
    report: dict = {}
    if beir_dir:
        collection = load_collection(beir_dir, split)
        root = index_dir or Path(config.index_dir) / "eval" / Path(beir_dir).resolve().name
        config = config.with_(index_dir=root, corpus=collection.corpus)
        run_build(config, only_if_stale=True)
        ids = sample_ids(collection, sample)
        report["collection"] = f"{beir_dir} ({collection.split}, {len(ids)} queries)"
    else:
        items = load_questions(questions)
        report["collection"] = f"{questions} ({len(items)} questions)"
    service = Service.load(config)
    report["index"] = service.index.path.name
    report["model"] = service.index.model
    report["rankings"] = {}
    missed = []
    for name, variant in ranking_settings(config).items():
        searcher = Searcher(service.index, service.encoder, variant)
        if beir_dir:
            with Progress(len(ids), f"Evaluating {name}", "queries") as progress:
                report["rankings"][name] = evaluate_beir(searcher, collection, ids, progress)
        else:
            with Progress(len(items), f"Evaluating {name}", "questions") as progress:
                scores, outcomes = evaluate_questions(searcher, items, progress=progress)
            report["rankings"][name] = scores
            if name == config.ranking.fusion:
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
