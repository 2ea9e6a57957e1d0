"""The `qa-service` command group: build an index, ask questions, chat, serve, evaluate."""

from __future__ import annotations

import logging
import sys

import click

from qa_service import __version__
from qa_service.cli.ask import ask, chat
from qa_service.cli.build import build
from qa_service.cli.documents import documents
from qa_service.cli.evaluate import evaluate
from qa_service.cli.serve import serve
from qa_service.cli.train import train_ranker
from qa_service.cli.writes import add, remove


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


for command in (build, add, remove, ask, chat, documents, serve, evaluate, train_ranker):
    cli.add_command(command)


def main() -> None:
    """Run the command line (the `qa-service` console script)."""
    cli(prog_name="qa-service")
