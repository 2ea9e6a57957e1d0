"""`qa-service serve`: the JSON API and the chat page under gunicorn."""

from __future__ import annotations

import click

from qa_service.cli.common import domain_errors, index_dir_option, settings


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, envvar="QA_HOST")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535),
              envvar="QA_PORT")
@index_dir_option
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              envvar="QA_WORKERS", help="Processes, each with the model loaded once.")
@click.option("--threads", default=4, show_default=True, type=click.IntRange(1, 64),
              envvar="QA_THREADS", help="Request threads per worker.")
@click.option("--reload-interval", type=click.FloatRange(min=0), envvar="QA_RELOAD_INTERVAL",
              metavar="SECONDS",
              help="How often to look for a new build and serve it; 0: on SIGHUP only [1].")
@domain_errors
def serve(host, port, index_dir, workers, threads, reload_interval) -> None:
    """Serve the JSON API and the chat page (gunicorn) until SIGTERM.

    A new build is served as soon as it is published (`current` is checked every
    --reload-interval seconds) or on SIGHUP, without dropping a request.
    """
    from qa_service.encoders import prepare
    from qa_service.http import check_rate_limit
    from qa_service.http.serve import serve as run_server
    from qa_service.indexing import stale_reason
    from qa_service.store import Index

    config = settings(index_dir=index_dir)
    check_rate_limit(config.serving.rate_limit)  # here, not in every worker as it boots
    index = Index.load(config.index_dir)  # a clear error now, not a worker failing to boot
    reason = stale_reason(index.manifest, config)
    index.close()
    prepare(config.model, index.model)
    if reason:
        click.echo(f"warning: the index is stale ({reason}); run `qa-service build` "
                   "to update it", err=True)
    overrides = {"index_dir": config.index_dir} if index_dir else {}
    if reload_interval is not None:
        overrides["reload_interval"] = reload_interval
    click.echo(f"Serving http://{host}:{port}/ ({workers} worker(s) x {threads} threads)",
               err=True)
    run_server(overrides, host, port, workers, threads)
