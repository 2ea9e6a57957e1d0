"""`qa-service train-ranker`: fit the learned ranker and answerability on training data."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import click

from qa_service.cli.build import run_build
from qa_service.cli.common import PATH, domain_errors, settings


@click.command("train-ranker")
@click.argument("collections", type=PATH, nargs=-1, required=True)
@click.option("--out", type=PATH, required=True,
              help="Where to write the ranker file (qa_service/search/models/ranker.json "
                   "is the shipped one).")
@click.option("--sample", type=click.IntRange(1),
              help="At most this many questions of each collection (a random sample).")
@click.option("--foreign", type=click.IntRange(0), default=300, show_default=True,
              help="Questions of each other collection asked of each corpus, as questions "
                   "it does not answer.")
@click.option("--folds", type=click.IntRange(2), default=5, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--index-root", type=PATH, envvar="QA_INDEX_DIR",
              help="Where each collection's index is built [index/eval/<folder>].")
@click.option("--examples", type=PATH,
              help="Keep the gathered candidates in this file, and reuse it when it exists.")
@click.option("--report", type=PATH, help="Also write the held-out report here as JSON.")
@domain_errors
def train_ranker(collections, out, sample, foreign, folds, seed, index_root, examples,
                 report) -> None:
    """Fit the ranker and the answerability model on BEIR-format COLLECTIONS.

    Each collection's index is built if needed. Its questions (qrels judged) are asked of
    it, with every signal of every candidate kept; questions of the other collections are
    asked of it as ones it does not answer. Questions are split into folds: the report
    scores each fold with models fitted on the others. Never give it an evaluation set.
    """
    from qa_service.evaluate import load_collection
    from qa_service.learn import ExampleSet, gather, train_model
    from qa_service.service import Service

    config = settings()
    loaded = {}
    for folder in collections:
        collection = load_collection(folder, None)
        name = Path(folder).resolve().name
        if name in loaded:
            raise click.UsageError(f"two collections are named {name}")
        loaded[name] = collection
    if examples and Path(examples).is_file():
        click.echo(f"Reading gathered candidates from {examples}", err=True)
        data = ExampleSet.load(examples)
    else:
        searchers = {}
        for name, collection in loaded.items():
            root = Path(index_root or Path(config.index_dir) / "eval") / name
            # Gathering reads every signal, never a fusion: no ranker file is needed yet.
            local = config.with_(index_dir=root, corpus=collection.corpus, fusion="weighted")
            run_build(local, only_if_stale=True)
            service = Service.load(local)
            searchers[name] = service.searcher
        data = gather(searchers, loaded, sample, foreign, seed)
        if examples:
            data.save(examples)
    given = [str(c) for c in collections] + ["--out", str(out)]
    for option, value in (("--sample", sample), ("--foreign", foreign), ("--folds", folds),
                          ("--seed", seed)):
        if value is not None:
            given += [option, str(value)]
    command = "qa-service train-ranker " + shlex.join(given)
    model, held_out = train_model(data, folds, seed, config.ranking.answer_threshold, command)
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(f"{out}.tmp")
    tmp.write_text(json.dumps(model, indent=1) + "\n", encoding="utf-8")
    tmp.replace(out)
    if report:
        Path(report).write_text(json.dumps(held_out, indent=2) + "\n", encoding="utf-8")
    click.echo(json.dumps(held_out, indent=2))
    click.echo(f"Wrote {out}", err=True)
