"""Prometheus metrics at /metrics: requests, latency, answers, the index served, the build.

Under `qa-service serve` every worker writes its samples to PROMETHEUS_MULTIPROC_DIR
(qa_service.http.multiproc names it) and /metrics adds them up across workers; in a single
process (the Flask test client) the default registry serves. prometheus_client decides
between the two when it is first imported, so it is imported here only when an app is
created: in a worker, never in gunicorn's master before the folder is named.
"""

from __future__ import annotations

import logging
import os
import time
from datetime import datetime
from functools import cache

from flask import Flask, Response, g, request

from qa_service import __version__

log = logging.getLogger(__name__)

# The methods counted by name; any other a client sends ("FOO123") is counted as "other",
# so that no request can add a series (issue 26: 2,000 random methods, 2,000 series).
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"})

# Buckets around what a question costs: ~5-60 ms typical, seconds when overloaded.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)


class Metrics:
    """The service's metrics, made once per process."""

    def __init__(self):
        from prometheus_client import Counter, Gauge, Histogram

        self.requests = Counter("qa_http_requests", "HTTP requests answered, by endpoint "
                                "and status.", ["endpoint", "method", "status"])
        self.latency = Histogram("qa_http_request_duration_seconds", "Time from a "
                                 "request's arrival in the app to its response.",
                                 ["endpoint"], buckets=LATENCY_BUCKETS)
        self.auth_failures = Counter("qa_auth_failures", "Requests refused for their API "
                                     "key, by outcome: refused (401) or throttled (429: "
                                     "too many refusals from one address).", ["outcome"])
        self.connections_refused = Counter(
            "qa_connections_refused", "New connections a worker answered at once and "
            "closed, by reason: client_cap (429: the address holds QA_CLIENT_CONNECTIONS) "
            "or full (503: the worker holds its connections).", ["reason"])
        self.questions = Counter("qa_questions", "Questions answered, by outcome: answered "
                                 "(the documents answer it) or declined (closest passages "
                                 "only), and collection.", ["collection", "outcome"])
        # One sample per live worker: during a switch to a new build they may differ.
        self.index_info = Gauge("qa_index_info", "1 for the index version this worker "
                                "serves, 0 for versions it served before, by collection.",
                                ["collection", "version"],
                                multiprocess_mode="liveall")
        # The largest among live workers: the newest build once any worker serves it.
        self.passages = Gauge("qa_index_passages", "Passages in the index served.",
                              ["collection"], multiprocess_mode="livemax")
        self.documents = Gauge("qa_index_documents", "Documents in the index served.",
                               ["collection"], multiprocess_mode="livemax")
        self.built = Gauge("qa_index_built_timestamp_seconds", "When the index served was "
                           "built (Unix time).", ["collection"], multiprocess_mode="livemax")
        self.build_info = Gauge("qa_build_info", "1, labelled with the qa-service version "
                                "and the model.", ["version", "model"],
                                multiprocess_mode="livemax")
        # (id(an app's LiveService), collection) -> the version it reported
        self.served: dict[tuple[int, str], str] = {}


@cache
def metrics() -> Metrics:
    return Metrics()


def multiprocess() -> bool:
    """Say whether samples go to files that several processes share."""
    from prometheus_client import values

    # Decided when prometheus_client was imported, whatever the environment says now.
    return values.ValueClass is not values.MutexValue and bool(
        os.environ.get("PROMETHEUS_MULTIPROC_DIR"))


def exposition() -> tuple[bytes, str]:
    """Return every metric in the Prometheus text format (summed across workers), and its
    content type."""
    from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

    if not multiprocess():
        return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
    from prometheus_client import CollectorRegistry
    from prometheus_client import multiprocess as mp

    registry = CollectorRegistry()
    mp.MultiProcessCollector(registry)
    return generate_latest(registry), CONTENT_TYPE_LATEST


def index_loaded(service, key: int, collection: str) -> None:
    """Report the index a collection serves (at start, and after each switch)."""
    m = metrics()
    manifest = service.index.manifest
    version = service.index.path.name
    before = m.served.get((key, collection))
    if before and before != version:
        m.index_info.labels(collection=collection, version=before).set(0)
    m.served[(key, collection)] = version
    m.index_info.labels(collection=collection, version=version).set(1)
    m.passages.labels(collection=collection).set(manifest.counts["passages"])
    m.documents.labels(collection=collection).set(manifest.counts["documents"])
    try:
        m.built.labels(collection=collection).set(
            datetime.fromisoformat(manifest.built_at).timestamp())
    except (TypeError, ValueError):
        log.warning("index %s has an unreadable build time %r", version, manifest.built_at)
    m.build_info.labels(version=__version__, model=service.index.model).set(1)


def question_answered(answerable: bool, collection: str) -> None:
    """Count a question of `collection` as answered or declined."""
    metrics().questions.labels(collection=collection,
                               outcome="answered" if answerable else "declined").inc()


def install(app: Flask) -> None:
    """Count every request and its latency, and serve /metrics."""
    for name, live in app.extensions["qa_collections"].live.items():
        live.listeners.append(
            lambda service, live=live, name=name: index_loaded(service, id(live), name))
        if live.current is not None:  # none yet: reported once the watcher loads one
            index_loaded(live.current, id(live), name)

    @app.after_request
    def observe(response):
        m = metrics()
        # The route, not the path: one series per endpoint however many documents.
        endpoint = request.url_rule.rule if request.url_rule else "unmatched"
        method = request.method if request.method in METHODS else "other"
        m.requests.labels(endpoint, method, str(response.status_code)).inc()
        started = g.get("request_started")  # set by qa_service.http.logs
        if started is not None:
            m.latency.labels(endpoint).observe(time.perf_counter() - started)
        return response

    @app.get("/metrics")
    def prometheus_metrics():
        """Serve the metrics in the Prometheus text format."""
        body, content_type = exposition()
        return Response(body, content_type=content_type)
