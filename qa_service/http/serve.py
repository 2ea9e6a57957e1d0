"""Serve the app under gunicorn: a pre-fork WSGI server with threaded workers."""

from __future__ import annotations

import errno
import logging
import os
import resource
import signal
import sys
import threading

from gunicorn import sock
from gunicorn.app.base import BaseApplication
from gunicorn.arbiter import Arbiter
from gunicorn.glogging import Logger

from qa_service.config import ServingSettings
from qa_service.http import logs
from qa_service.http.app import create_app
from qa_service.http.framing import Limits
from qa_service.http.multiproc import worker_exited
from qa_service.http.worker import buffered_worker

log = logging.getLogger(__name__)

# A worker holds up to gunicorn's worker_connections (1,000) connections, plus those
# refused and closing and the index's files: more than the 1,024 descriptors many systems
# give a process. Raised towards this, within the hard limit (nginx: worker_rlimit_nofile).
OPEN_FILES = 65536


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

    def start(self):
        # gunicorn tries a busy address five times, a second apart, with two error lines
        # each time; one try and one line is all a busy port deserves. Sockets handed
        # over (systemd, a re-exec on USR2) are gunicorn's to take.
        inherited = os.environ.get("LISTEN_FDS") or "GUNICORN_FD" in os.environ
        if not self.LISTENERS and not inherited:
            self.LISTENERS = [listen_once(address, self.cfg, self.log)
                              for address in self.cfg.address]
        super().start()


def listen_once(address, cfg, logger):
    """Listen on `address` as gunicorn does, or raise RuntimeError saying why not."""
    try:
        return sock._sock_type(address)(address, cfg, logger)
    except OSError as exc:
        if not isinstance(address, tuple):
            raise RuntimeError(f"cannot listen on {address}: {exc.strerror or exc}") from None
        host, port = address[0], address[1]
        if exc.errno == errno.EADDRINUSE:
            raise RuntimeError(f"port {port} on {host} is already in use") from None
        raise RuntimeError(f"cannot listen on port {port} on {host}: "
                           f"{exc.strerror or exc}") from None


def gunicorn_logger(fmt: str) -> type[Logger]:
    """Return gunicorn's logger class with its lines formatted as ours (text or JSON)."""

    class FormattedLogger(Logger):
        def setup(self, cfg):
            super().setup(cfg)
            for handler in self.error_log.handlers:
                handler.setFormatter(logs.formatter(fmt))
                logs.add_filter(handler)

    return FormattedLogger


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
        served = app.extensions["qa_collections"]
        signal.signal(signal.SIGHUP, lambda *_: served.request_reload())
        # A job's build, served by the worker that ran it, reaches the others in
        # milliseconds: the master's SIGHUP makes every worker check (handle_hup).
        served.notify = lambda: os.kill(os.getppid(), signal.SIGHUP)
        if hangup.is_set():
            served.request_reload()
        served.watch()
        return app

    def run(self) -> None:
        try:
            ReloadingArbiter(self).run()
        except RuntimeError as exc:
            sys.exit(f"Error: {exc}")


def raise_open_files(wanted: int = OPEN_FILES) -> None:
    """Raise this process's open-file limit towards `wanted`; never lower it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        log.debug("Open files: %d, was %d", target, soft)


def request_limits(serving) -> Limits:
    """Return what a request may be: sizes from the settings, the line as gunicorn's."""
    return Limits(max_body=serving.max_request_bytes, max_head=serving.max_header_bytes,
                  max_line=4094, timeout=serving.request_timeout,
                  max_upload=serving.max_upload_bytes)


def serve(overrides: dict, host: str, port: int, workers: int, threads: int,
          serving: ServingSettings) -> None:
    """Serve until SIGTERM or SIGINT, then finish the requests in flight and exit.

    `serving`: the caller's serving settings (logs are already configured by it).
    """
    # Say in the server's log when a worker starts serving another build, whatever -v says.
    logging.getLogger("qa_service.http.live").setLevel(logging.INFO)
    raise_open_files()  # the workers inherit it
    options = {
        "bind": f"{host}:{port}",
        "workers": workers,
        # gthread, except that each request is read whole before a thread takes it.
        "worker_class": buffered_worker(request_limits(serving),
                                        serving.client_connections),
        "threads": threads,
        # The app logs each request itself (qa_service.http.logs), with its request id.
        "accesslog": None,
        "errorlog": "-",
        "logger_class": gunicorn_logger(serving.log_format),
        "child_exit": worker_exited,  # a dead worker's live gauges leave /metrics
        "loglevel": "info",
        "graceful_timeout": 20,
        "timeout": 120,  # a worker loading the model is not a hung worker
        "preload_app": False,
        "proc_name": "qa-service",
        # gunicorn's control socket is one path per user ($HOME/.gunicorn/gunicorn.ctl):
        # every server would bind it and the first to stop would remove it for all.
        "control_socket_disable": True,
    }
    GunicornServer(overrides, options).run()
