"""`qa-service add` and `qa-service remove`: change the corpus and index it, here or on a server."""

from __future__ import annotations

import json
import urllib.parse
from pathlib import Path

import click

from qa_service.cli.common import (
    PATH,
    collection_option,
    domain_errors,
    index_dir_option,
    settings,
)
from qa_service.cli.render import printable
from qa_service.errors import InvalidInput
from qa_service.text import counted

ADMIN_KEY_VARIABLE = "QA_ADMIN_KEY"
# How long a command waits for a server's job before it says where to look.
REMOTE_WAIT_SECONDS = 300

server_write_option = click.option(
    "--server", envvar="QA_SERVER", metavar="URL",
    help=f"Send the change to a running service (e.g. http://127.0.0.1:8000) instead of "
         f"this machine's corpus; its admin key is read from {ADMIN_KEY_VARIABLE}.")
corpus_option = click.option("--corpus", type=PATH, envvar="QA_CORPUS",
                             help="The corpus folder to change [corpus].")
json_option = click.option("--json", "as_json", is_flag=True,
                           help="Print the job as the API's JSON body.")


def write_options(func):
    """Add what both writes take: where (corpus, index, collection or server), --json, and
    one-line errors."""
    for option in (domain_errors, json_option, server_write_option, collection_option,
                   index_dir_option, corpus_option):
        func = option(func)
    return func


def parse_meta(ctx, param, given: tuple[str, ...]) -> dict | None:
    """Turn --meta FIELD=VALUE (repeat a field for a list) into a metadata object."""
    if not given:
        return None
    found: dict = {}
    for item in given:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"{item!r} is not FIELD=VALUE", ctx, param)
        key = key.strip()
        if key in found:
            found[key] = (found[key] if isinstance(found[key], list) else [found[key]]) \
                + [value]
        else:
            found[key] = value
    return found


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(
    exists=True, dir_okay=False, path_type=Path))
@click.option("--meta", "metadata", multiple=True, callback=parse_meta,
              metavar="FIELD=VALUE",
              help="Metadata for every file given (source, title, date, author, ...); "
                   "repeat a field for a list; repeatable.")
@write_options
def add(files, metadata, corpus, index_dir, collection, server, as_json) -> None:
    """Add document files to the corpus and index them (one job for all)."""
    if server:
        job = _remote_add(server, files, metadata, collection)
    else:
        from qa_service.writes import Upload

        writer = _local_writer(corpus, index_dir, collection)
        uploads = [Upload(f.name, _read(f), metadata) for f in files]
        job = _run_local(writer, writer.add(uploads))
    _report(job, as_json)


@click.command()
@click.argument("doc_ids", nargs=-1, required=True)
@write_options
def remove(doc_ids, corpus, index_dir, collection, server, as_json) -> None:
    """Remove documents (by id, as `qa-service documents` lists them) and reindex."""
    for doc_id in doc_ids:
        if server:
            from qa_service.cli.remote import call

            path = "/api/documents/" + urllib.parse.quote(doc_id, safe="/")
            job = call(server, "DELETE", f"{path}?{_query(collection)}",
                       key_variable=ADMIN_KEY_VARIABLE, timeout=REMOTE_WAIT_SECONDS + 30)
        else:
            writer = _local_writer(corpus, index_dir, collection)
            job = _run_local(writer, writer.remove(doc_id))
        _report(job, as_json)


def _read(path: Path) -> bytes:
    return path.read_bytes()


def _local_writer(corpus, index_dir, collection):
    from qa_service.writes import Writer

    # The job runs here, now (run_pending), not in a background thread.
    return Writer(settings(collection, corpus=corpus, index_dir=index_dir),
                  background=False)


def _query(collection: str | None) -> str:
    """Return a write's query string: wait for the job, in `collection` if one is named."""
    params = {"wait": REMOTE_WAIT_SECONDS, **({"collection": collection} if collection else {})}
    return urllib.parse.urlencode(params)


def _run_local(writer, job: dict) -> dict:
    while writer.runner.run_pending():
        pass
    # A server on the same index may have taken the job first: wait for its build.
    return writer.job(job["id"], wait=REMOTE_WAIT_SECONDS)


def _remote_add(server: str, files, metadata: dict | None, collection: str | None) -> dict:
    from urllib3 import encode_multipart_formdata

    from qa_service.cli.remote import call

    fields: list = [("file", (f.name, _read(f))) for f in files]
    if metadata is not None:
        fields.append(("metadata", json.dumps(metadata)))
    body, content_type = encode_multipart_formdata(fields)
    return call(server, "POST", f"/api/documents?{_query(collection)}", body,
                content_type, key_variable=ADMIN_KEY_VARIABLE,
                timeout=REMOTE_WAIT_SECONDS + 30)


def _report(job: dict, as_json: bool) -> None:
    """Print each file's outcome; fail (non-zero exit) if the job failed or is not done."""
    if as_json:
        click.echo(json.dumps(job, ensure_ascii=False, indent=2))
    else:
        for f in job.get("files", []):
            name = printable(str(f.get("doc_id", "?")))
            outcome = f.get("outcome", "?")
            detail = f" ({counted(f['passages'], 'passage')})" if "passages" in f else \
                f": {f['reason']}" if f.get("reason") else ""
            click.echo(f"{name}: {outcome}{detail}")
        if job.get("state") == "done":
            click.echo(f"Job {job['id']} done: index {job.get('index_version')}", err=True)
    if job.get("state") == "failed":
        raise InvalidInput(f"job {job.get('id')} failed: {job.get('error')}")
    if job.get("state") != "done":
        raise InvalidInput(f"job {job.get('id')} is still {job.get('state')}: see "
                           f"GET /api/jobs/{job.get('id')}")
