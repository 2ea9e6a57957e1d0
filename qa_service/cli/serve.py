"""`qa-service serve`: the JSON API and the chat page under gunicorn."""

from __future__ import annotations

import errno
import logging
import socket

import click

from qa_service.cli.common import PATH, domain_errors, index_dir_option
from qa_service.config import Settings
from qa_service.errors import IndexCorrupt, IndexMissing, QAError
from qa_service.text import counted

log = logging.getLogger(__name__)


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, envvar="QA_HOST")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535),
              envvar="QA_PORT")
@index_dir_option
@click.option("--corpus", type=PATH, envvar="QA_CORPUS",
              help="The corpus folder that writes (POST/PUT/DELETE /api/documents, with "
                   "QA_ADMIN_KEYS) change [corpus].")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              envvar="QA_WORKERS", help="Processes, each with the model loaded once.")
@click.option("--threads", default=4, show_default=True, type=click.IntRange(1, 64),
              envvar="QA_THREADS", help="Request threads per worker.")
@click.option("--reload-interval", type=click.FloatRange(min=0), envvar="QA_RELOAD_INTERVAL",
              metavar="SECONDS",
              help="How often to look for a new build and serve it; 0: on SIGHUP only [1].")
@click.option("--log-format", type=click.Choice(["text", "json"]), envvar="QA_LOG_FORMAT",
              help="Server log lines: text, or one JSON object a line [text].")
@domain_errors
def serve(host, port, index_dir, corpus, workers, threads, reload_interval, log_format
          ) -> None:
    """Serve the JSON API and the chat page (gunicorn) until SIGTERM.

    A new build is served as soon as it is published (`current` is checked every
    --reload-interval seconds) or on SIGHUP, without dropping a request. With
    QA_API_KEYS (or QA_API_KEYS_FILE) set, /api/* and /metrics need
    `Authorization: Bearer <key>`; /api/health stays open. With QA_ADMIN_KEYS set,
    holders of those keys may add, replace and delete documents of the corpus.
    """
    check_port(host, port)  # before the model loads: a busy port is known in milliseconds
    # Every collection's settings, not one's: the server serves them all.
    config = Settings.from_env(index_dir=index_dir, corpus=corpus, log_format=log_format)
    from qa_service.collections import collections
    from qa_service.encoders import prepare
    from qa_service.http import check_rate_limit
    from qa_service.http.auth import load_keys
    from qa_service.http.logs import LOG_FORMATS, configure
    from qa_service.http.serve import serve as run_server
    from qa_service.indexing import stale_reason
    from qa_service.store import Index

    fmt = config.serving.log_format
    if fmt not in LOG_FORMATS:
        raise QAError(f"setting log_format must be text or json, got {fmt!r}")
    if config.serving.request_timeout <= 0:
        raise QAError("setting request_timeout must be a number of seconds above 0, got "
                      f"{config.serving.request_timeout:g}")
    if config.serving.client_connections < 0:
        raise QAError("setting client_connections must be 0 (no cap) or more, got "
                      f"{config.serving.client_connections}")
    check_rate_limit(config.serving.rate_limit)  # here, not in every worker as it boots
    keys = load_keys(config)
    admin_keys = load_keys(config, kind="admin")
    served = collections(config)
    warnings = []
    for collection in served:
        named = f"collection {collection.name}: " if len(served) > 1 else ""
        try:
            index = Index.load(collection.settings.index_dir)
        except (IndexMissing, IndexCorrupt) as exc:
            # Served anyway: requests get 503 saying why, until a build publishes an index.
            warnings.append(f"warning: {named}no index to serve ({exc.message}); answering "
                            "503 until `qa-service build` publishes one")
            continue
        reason = stale_reason(index.manifest, collection.settings)
        index.close()
        prepare(config.model, index.model)
        if reason:
            warnings.append(f"warning: {named}the index is stale ({reason}); run "
                            "`qa-service build` to update it")
    configure(fmt)
    for warning in warnings:
        _say(fmt, logging.WARNING, warning)
    overrides = {"index_dir": config.index_dir} if index_dir else {}
    if corpus:
        overrides["corpus"] = config.corpus
    if reload_interval is not None:
        overrides["reload_interval"] = reload_interval
    keyed = f", {counted(len(keys), 'API key')}" if keys else ""
    if admin_keys:
        where = f" to {config.corpus}" if len(served) == 1 else ""
        keyed += f", writes{where} with {counted(len(admin_keys), 'admin key')}"
    if len(served) > 1:
        keyed += f", collections {', '.join(c.name for c in served)}"
    _say(fmt, logging.INFO, f"Serving http://{host}:{port}/ ({counted(workers, 'worker')} "
                            f"x {counted(threads, 'thread')}{keyed})")
    from qa_service.http.multiproc import shared_metrics

    # Named before the workers fork and import prometheus_client, so that each writes its
    # samples where /metrics adds them up.
    with shared_metrics():
        run_server(overrides, host, port, workers, threads, config.serving)


def _say(fmt: str, level: int, message: str) -> None:
    """Tell the operator: a plain line, or a log record where logs are JSON lines."""
    if fmt == "json":
        logger = logging.getLogger("qa_service.serve")
        logger.setLevel(logging.INFO)  # what the operator is told, whatever -v says
        logger.log(level, message)
    else:
        click.echo(message, err=True)


def check_port(host: str, port: int) -> None:
    """Raise a one-line error unless a server could listen on `host`:`port` now."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                   flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise click.ClickException(f"cannot listen on {host}: {exc.strerror}") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        # As gunicorn binds: a port left in TIME_WAIT by a server just stopped is free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise click.ClickException(
                    f"port {port} on {host} is already in use") from None
            raise click.ClickException(
                f"cannot listen on port {port} on {host}: {exc.strerror or exc}") from None
