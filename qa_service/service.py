"""The loaded service: settings, index, encoder and searcher, shared by every face."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field

from threadpoolctl import threadpool_limits

from qa_service.config import Settings
from qa_service.encoders import Encoder, encoder_for
from qa_service.errors import IndexCorrupt, InvalidInput, NotFound
from qa_service.indexing import stale_reason
from qa_service.response import Answer
from qa_service.search import Filters, Searcher, answer_type, parse_filters
from qa_service.search.filters import check_values
from qa_service.store import Index, document_fields, page_of

log = logging.getLogger(__name__)

ASK_FIELDS = {"question", "history", "top_k", "filters", "explain"}
# The documents listing's facets: enough to offer as choices, bounded on a large archive.
FACET_SOURCES = 200  # sources, those with most documents first
FACET_FIELDS = 20  # metadata fields, by name
FACET_VALUES = 20  # values of each field, sorted


@dataclass
class Service:
    """One index and the encoder it was built with, ready to answer."""

    settings: Settings
    index: Index
    encoder: Encoder
    searcher: Searcher
    # The last staleness answer and when it was asked (time.monotonic), for stale().
    _stale: tuple[float, str | None] | None = field(default=None, init=False, repr=False)
    _stale_lock: threading.Lock = field(default_factory=threading.Lock, init=False,
                                        repr=False, compare=False)

    @classmethod
    def load(cls, settings: Settings, encoder: Encoder | None = None) -> Service:
        """Open the index under `settings.index_dir` with its model (`encoder` if it is it)."""
        index = Index.load(settings.index_dir)
        try:
            if encoder is None or encoder.name != index.model:
                encoder = encoder_for(settings.model, index.model, serving=True)
        except BaseException:
            index.close()
            raise
        dimension = int(index.manifest.model["dimension"])
        if encoder.dimension != dimension:
            # Queries of another width than the vectors would fail, or, worse, match.
            index.close()
            raise IndexCorrupt(
                f"version {index.path.name}: the manifest names model {index.model!r}, which gives "
                f"{encoder.dimension}-dimensional vectors, but the index holds {dimension}; "
                "rebuild the index")
        # A question's matrix products are small: run on every core by every request
        # thread, they fought (SciFact, 8 clients: 119 -> 31 req/s with word vectors).
        # A server's parallelism is its workers and threads.
        threadpool_limits(limits=1, user_api="blas")
        if settings.ranking.answer_types:
            # spaCy, for the kind of answer each question asks: now, not on the first
            # question. Off (the default), no spaCy is loaded.
            if not index.passages.has_types:
                log.warning("answer types are on but version %s holds no typed spans: "
                            "answer_type reads numbers and dates by pattern until "
                            "`qa-service build --full`", index.path.name)
            try:
                answer_type.load()
            except BaseException:
                index.close()
                raise
        return cls(settings, index, encoder, Searcher(index, encoder, settings))

    def stale(self) -> str | None:
        """Say why the index is out of date, or None, as of at most `stale_check_interval` ago."""
        interval = self.settings.serving.stale_check_interval
        # One walk at a time: probes arriving during a walk take its answer.
        with self._stale_lock:
            now = time.monotonic()
            if self._stale is None or now - self._stale[0] >= interval:
                self._stale = (now, stale_reason(self.index.manifest, self.settings))
            return self._stale[1]

    def ask(self, body) -> Answer:
        """Answer a request body: {"question", "history"?, "top_k"?, "filters"?}."""
        if not isinstance(body, dict):
            raise InvalidInput("the request body must be a JSON object")
        unknown = set(body) - ASK_FIELDS
        if unknown:
            raise InvalidInput(f"unknown field {sorted(unknown)[0][:80]!r}: expected "
                               "question, history, top_k, filters or explain")
        if "question" not in body:
            raise InvalidInput("question is required")
        history = body.get("history")
        top_k = body.get("top_k")
        if isinstance(top_k, float) and top_k.is_integer():
            top_k = int(top_k)  # JSON has one number type: 5.0 is the integer 5
        explain = body.get("explain", False)
        if not isinstance(explain, bool):
            raise InvalidInput("explain must be true or false")
        return self.searcher.ask(
            body["question"],
            [] if history is None else history,
            self.settings.ranking.top_k if top_k is None else top_k,
            parse_filters(body.get("filters")),
            explain,
        )

    def health(self) -> dict:
        m = self.index.manifest
        return {
            "status": "ok",
            "documents": m.counts["documents"],
            "passages": m.counts["passages"],
            "model": self.index.model,
            "index": {"version": self.index.path.name, "fingerprint": m.corpus["fingerprint"],
                      "built_at": m.built_at},
        }

    def documents(self, limit: int = -1, offset: int = 0,
                  filters: Filters | None = None) -> tuple[list[dict], int]:
        """Return documents by doc_id, `limit` of them from `offset` (-1: all), of those
        that meet `filters`, and how many do (all the index holds, without filters)."""
        store = self.index.passages
        if filters is None or not filters.active:
            return (document_summaries(self.index, limit, offset),
                    self.index.manifest.counts["documents"])
        check_values(filters, store)  # a value no document has is an error naming those that do
        where = filters.sql()
        return ([_document(row) for row in store.documents(limit, offset, where)],
                store.document_count(where))

    def facets(self) -> dict:
        """What the documents can be filtered by: their sources (with how many documents
        each has), the span of their dates, and their metadata fields with some values."""
        store = self.index.passages
        sources, source_total = store.source_counts(FACET_SOURCES)
        earliest, latest = store.date_span()
        fields = []
        for name in store.field_names(FACET_FIELDS):
            values, total = store.field_values(name, None, FACET_VALUES)
            fields.append({"field": name, "values": values, "total": total})
        return {"sources": [{"source": s, "documents": n} for s, n in sources],
                "sources_total": source_total,
                "dates": {"earliest": earliest, "latest": latest}, "fields": fields}

    def document(self, doc_id: str) -> dict:
        doc, paragraphs = self.index.passages.document(doc_id)
        if doc is None:
            raise NotFound(f"no document {doc_id!r} in the index")
        return {**_document(doc), "paragraphs": [
            {"paragraph": p["paragraph"], "id": p["id"], "text": p["text"], "page": page_of(p)}
            for p in paragraphs
        ]}


def document_summaries(index: Index, limit: int = -1, offset: int = 0) -> list[dict]:
    """Return indexed documents' metadata and paragraph counts, by doc_id (-1: all)."""
    return [_document(row) for row in index.passages.documents(limit, offset)]


def _document(row) -> dict:
    return {"doc_id": row["doc_id"], "title": row["title"], "source": row["source"],
            "date": row["date"], "url": row["url"], "paragraph_count": row["paragraphs"],
            "metadata": document_fields(row)}
