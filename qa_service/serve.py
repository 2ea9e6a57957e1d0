"""Serve the app under gunicorn: a pre-fork WSGI server with threaded workers."""

from __future__ import annotations

import logging

from gunicorn.app.base import BaseApplication

log = logging.getLogger(__name__)

# One line per request: method, path, status, milliseconds.
ACCESS_LOG_FORMAT = "%(m)s %(U)s %(s)s %(M)sms"


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
        from qa_service.app import create_app

        # Loaded after the fork, in each worker: torch's thread pools do not survive fork.
        return create_app(self.overrides)


def serve(overrides: dict, host: str, port: int, workers: int, threads: int) -> None:
    """Serve until SIGTERM or SIGINT, then finish the requests in flight and exit."""
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
