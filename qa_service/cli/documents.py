"""`qa-service documents`: the indexed documents and their sources."""

from __future__ import annotations

import json
from collections import Counter

import click

from qa_service.cli.common import collection_option, domain_errors, index_dir_option, settings
from qa_service.cli.render import printable
from qa_service.text import counted

TITLE_WIDTH = 60


@click.command()
@index_dir_option
@collection_option
@click.option("--sources", "only_sources", is_flag=True,
              help="List only the sources, with how many documents each has.")
@click.option("--json", "as_json", is_flag=True,
              help="Print the JSON body of GET /api/documents, with every document "
                   "(the API gives a page at a time).")
@domain_errors
def documents(index_dir, collection, only_sources, as_json) -> None:
    """List the indexed documents: id, source, date, paragraphs and title."""
    from qa_service.service import document_summaries
    from qa_service.store import Index

    index = Index.load(settings(collection, index_dir=index_dir).index_dir)
    try:
        found = document_summaries(index)
    finally:
        index.close()
    sources = Counter(d["source"] for d in found)
    if as_json:
        body = {"documents": found, "total": len(found)}
        click.echo(json.dumps(body, ensure_ascii=False, indent=2))
        return
    if not only_sources:
        for d in found:
            title = printable(d["title"])
            title = title if len(title) <= TITLE_WIDTH else title[:TITLE_WIDTH - 1] + "…"
            click.echo("\t".join([printable(d["doc_id"]), printable(d["source"]),
                                  d["date"] or "-", str(d["paragraph_count"]), title]))
        click.echo()
    click.echo(f"{counted(len(found), 'document')} from {counted(len(sources), 'source')}:")
    for source, count in sorted(sources.items(), key=lambda item: (-item[1], item[0])):
        click.echo(f"  {printable(source)}\t{count}")
