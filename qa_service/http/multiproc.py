"""prometheus_client's multiprocess mode for a gunicorn master and its workers.

Kept apart from qa_service.http.metrics: prometheus_client decides at import whether
samples go to shared files, so the folder must be named before anything imports it.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

log = logging.getLogger(__name__)

ENV = "PROMETHEUS_MULTIPROC_DIR"


@contextmanager
def shared_metrics() -> Iterator[str]:
    """Name a fresh folder for the workers' samples while the server runs; delete it after."""
    # Always a fresh one: samples left by an earlier server would be counted as this one's.
    if "prometheus_client" in sys.modules:
        log.warning("prometheus_client was imported before the metrics folder was named: "
                    "/metrics will show one worker's samples only")
    folder = tempfile.mkdtemp(prefix="qa-service-metrics-")
    owner = os.getpid()
    before = os.environ.get(ENV)
    os.environ[ENV] = folder
    try:
        yield folder
    finally:
        # A gunicorn worker leaves through this very frame (it was forked inside it):
        # only the master, which made the folder, removes it.
        if os.getpid() == owner:
            shutil.rmtree(folder, ignore_errors=True)
            if before is None:
                os.environ.pop(ENV, None)
            else:
                os.environ[ENV] = before


def worker_exited(server, worker) -> None:
    """Gunicorn's child_exit hook: drop a dead worker's live gauges."""
    from prometheus_client import multiprocess

    if os.environ.get(ENV):
        multiprocess.mark_process_dead(worker.pid)
