"""`qa-service build`: index a corpus, incrementally and atomically."""

from __future__ import annotations

import click

from qa_service.cli.common import (
    PATH,
    collection_option,
    domain_errors,
    index_dir_option,
    settings,
)
from qa_service.config import BACKEND_CHOICES, ENGINES, Settings
from qa_service.text import counted


@click.command()
@click.option("--corpus", type=PATH, envvar="QA_CORPUS",
              help="A folder of .txt/.md/.html/.pdf/.docx files, one such file, or a BEIR "
                   "corpus.jsonl [corpus].")
@index_dir_option
@collection_option
@click.option("--model", envvar="QA_MODEL",
              help="Embedding model: a name, a local folder, or hash:DIM for tests.")
@click.option("--device", envvar="QA_DEVICE",
              help="Where to embed: cpu, or cuda / cuda:N (runs on torch) [cpu].")
@click.option("--backend", envvar="QA_BACKEND", type=click.Choice(BACKEND_CHOICES),
              help="How the model runs: onnx, int8 (faster, near-identical vectors), torch "
                   "(fp32), bf16 (bf16 products, fp32-close vectors), or auto: bf16 on a GPU "
                   "or an AMX CPU, else int8 [auto].")
@click.option("--if-stale", is_flag=True,
              help="Build only if the index is missing, unreadable or out of date.")
@click.option("--engine", type=click.Choice(ENGINES), default="local", show_default=True,
              help="Who reads, cleans and embeds: this machine, or a Ray cluster's nodes "
                   "(RAY_ADDRESS names the cluster).")
@click.option("--full", is_flag=True,
              help="Embed every document again instead of reusing unchanged ones.")
@domain_errors
def build(corpus, index_dir, collection, model, device, backend, if_stale, engine, full
          ) -> None:
    """Build the index of a corpus (atomically: the old index stays until the new is whole).

    Documents unchanged since the live index (same content hash, model, kind of vectors
    and chunking) keep their passages and vectors; only new and changed ones are embedded.
    """
    run_build(settings(collection, corpus=corpus, index_dir=index_dir, model=model,
                       device=device, backend=backend),
              only_if_stale=if_stale, engine=engine, full=full)


def run_build(settings: Settings, only_if_stale: bool, engine: str = "local",
              full: bool = False) -> None:
    """Build the index of `settings.corpus`, or, if asked, only when it is out of date."""
    from qa_service.encoders import encoder_for
    from qa_service.indexing import build_index, check
    from qa_service.ingest.story import summary as cleaning_summary

    if only_if_stale:
        reason = check(settings.index_dir, settings, settings.corpus)
        if reason is None:
            click.echo(f"Index in {settings.index_dir} is up to date.", err=True)
            return
        click.echo(f"Building the index in {settings.index_dir}: {reason}", err=True)
    # Progress always: a bar on a terminal, else a line now and then for a log file.
    report = build_index(settings, encoder_for(settings.model), progress=True,
                         engine=engine, full=full)
    click.echo(
        f"Indexed {counted(report.documents, 'document')}, "
        f"{counted(report.passages, 'passage')} ({counted(report.sentences, 'sentence')}) "
        f"in {report.seconds:.1f} s [{report.vector_index} vectors; "
        f"{counted(report.reused_documents, 'document')} reused, "
        f"{counted(report.embedded_passages, 'passage')} embedded] -> {report.path}",
        err=True,
    )
    click.echo(report.skipped.summary(), err=True)
    click.echo(cleaning_summary(report.cleaning), err=True)
