"""Serve the app under gunicorn: a pre-fork WSGI server with threaded workers."""

from __future__ import annotations

import logging
import signal
import sys
import threading

from gunicorn.app.base import BaseApplication
from gunicorn.arbiter import Arbiter

from qa_service.http.app import create_app

log = logging.getLogger(__name__)

# One line per request: method, path, status, milliseconds.
ACCESS_LOG_FORMAT = "%(m)s %(U)s %(s)s %(M)sms"


class ReloadingArbiter(Arbiter):
    """gunicorn's master, except that SIGHUP makes each worker load the current index.

    gunicorn's own SIGHUP replaces the workers: none fails, but every request waits while
    the new workers load the model (13-14 s measured, docs/operations.md). A worker swaps
    indexes in milliseconds, keeping its model and its connections.
    """

    def handle_hup(self):
        # A worker caught in the instant between gunicorn's signal setup and the app's
        # load() dies of it and is replaced: it had answered nothing, and its successor
        # loads the current index anyway.
        self.log.info("Hang up: workers will serve the index that is current now")
        self.kill_workers(signal.SIGHUP)


class GunicornServer(BaseApplication):
    """Run `create_app(overrides)` in each worker; the model loads once per worker."""

    def __init__(self, overrides: dict, options: dict):
        self.overrides = overrides
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        # A SIGHUP while the app loads must not end the worker (the default action): note
        # it, and check for a newer index once the app is there.
        hangup = threading.Event()
        signal.signal(signal.SIGHUP, lambda *_: hangup.set())
        signal.siginterrupt(signal.SIGHUP, False)  # no EINTR for requests in flight
        # Loaded after the fork, in each worker: torch's thread pools do not survive fork.
        app = create_app(self.overrides)
        live = app.extensions["qa"]
        signal.signal(signal.SIGHUP, lambda *_: live.request_reload())
        if hangup.is_set():
            live.request_reload()
        live.watch()
        return app

    def run(self) -> None:
        try:
            ReloadingArbiter(self).run()
        except RuntimeError as exc:
            sys.exit(f"Error: {exc}")


def serve(overrides: dict, host: str, port: int, workers: int, threads: int) -> None:
    """Serve until SIGTERM or SIGINT, then finish the requests in flight and exit."""
    # Say in the server's log when a worker starts serving another build, whatever -v says.
    logging.getLogger("qa_service.http.live").setLevel(logging.INFO)
    options = {
        "bind": f"{host}:{port}",
        "workers": workers,
        "worker_class": "gthread",
        "threads": threads,
        "accesslog": "-",
        "errorlog": "-",
        "access_log_format": ACCESS_LOG_FORMAT,
        "loglevel": "info",
        "graceful_timeout": 20,
        "timeout": 120,  # a worker loading the model is not a hung worker
        "preload_app": False,
        "proc_name": "qa-service",
    }
    GunicornServer(overrides, options).run()
