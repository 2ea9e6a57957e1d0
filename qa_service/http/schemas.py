"""The JSON schemas of the API's request and response bodies (OpenAPI components)."""

from __future__ import annotations

from qa_service.search import MAX_HISTORY, MAX_QUESTION_CHARS, MAX_SOURCES, MAX_TOP_K
from qa_service.search.filters import FIELD_RE, MAX_FIELDS, MAX_VALUES
from qa_service.search.signals import SIGNALS

# GET /api/documents pages: `limit` documents from `offset`, and the `total` there are.
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000


# GET /api/documents filters, as query parameters: those of /api/ask's `filters`.
LIST_FILTERS = [
    {"name": "source", "in": "query", "required": False, "style": "form", "explode": True,
     "description": "Publishers to keep, any of them, case-insensitive; repeat it for "
                    "several. A publisher no document has is a 400 naming those that exist.",
     "schema": {"type": "array", "maxItems": MAX_SOURCES,
                "items": {"type": "string", "minLength": 1, "pattern": r"\S"}}},
    {"name": "date_from", "in": "query", "required": False,
     "description": "Earliest document date, inclusive (undated documents are left out).",
     "schema": {"type": "string", "format": "date", "pattern": r"^\d{4}-\d{2}-\d{2}$"}},
    {"name": "date_to", "in": "query", "required": False,
     "description": "Latest document date, inclusive; not before date_from.",
     "schema": {"type": "string", "format": "date", "pattern": r"^\d{4}-\d{2}-\d{2}$"}},
    {"name": "where", "in": "query", "required": False, "style": "form", "explode": True,
     "description": "A condition on any field, as `filters.where` of /api/ask: "
                    "`FIELD=VALUE` (repeat a field for any of several values), "
                    "`FIELD>=YYYY-MM-DD` or `FIELD<=YYYY-MM-DD`; repeatable.",
     "schema": {"type": "array", "items": {
         "type": "string", "pattern": r"^\s*[A-Za-z0-9_][A-Za-z0-9_ .-]{0,63}(=|>=|<=)\s*\S"}}},
]


def ref(name: str) -> dict:
    """Point at one of the schemas below."""
    return {"$ref": f"#/components/schemas/{name}"}

_DATE = {"type": "string", "format": "date", "pattern": r"^\d{4}-\d{2}-\d{2}$"}
_NULLABLE_DATE = {"type": ["string", "null"], "format": "date",
                  "pattern": r"^\d{4}-\d{2}-\d{2}$"}
_PAGE = {"type": ["integer", "null"], "minimum": 1,
         "description": "1-based page, in formats that have pages (PDF); else null."}
_METADATA = {"type": "object", "description": "The document's other metadata fields (author, "
             "tags, front matter, the corpus metadata file), as the files give them."}
_WRITES = {"type": "boolean", "description": "Whether this server takes writes (it has "
           "admin keys: QA_ADMIN_KEYS); GET /api/writes, with an admin key, says more."}
_WHERE_VALUE = {"type": ["string", "number"], "minLength": 1}

SCHEMAS = {
    "AskRequest": {
        "type": "object",
        "required": ["question"],
        "additionalProperties": False,
        "properties": {
            "question": {"type": "string", "minLength": 1, "maxLength": MAX_QUESTION_CHARS,
                         "pattern": r"\S", "description": "1 to 1,000 characters after "
                         "trimming; not only white space."},
            "history": {"type": "array", "maxItems": MAX_HISTORY,
                        "items": {"type": "string", "maxLength": MAX_QUESTION_CHARS},
                        "description": "Earlier questions of the conversation, oldest first."},
            "top_k": {"type": "integer", "minimum": 1, "maximum": MAX_TOP_K, "default": 5},
            "filters": ref("Filters"),
            "explain": {"type": "boolean", "default": False,
                        "description": "Add to each passage how it got its rank."},
        },
    },
    "Filters": {
        "type": "object",
        "additionalProperties": False,
        "description": "Applied before ranking. Documents without a date are left out "
                       "when a date bound is set.",
        "properties": {
            "sources": {"type": "array", "maxItems": MAX_SOURCES,
                        "items": {"type": "string", "minLength": 1, "pattern": r"\S"},
                        "description": "Publishers to keep (any of; case-insensitive)."},
            "date_from": {**_DATE, "description": "Earliest document date, inclusive."},
            "date_to": {**_DATE, "description": "Latest document date, inclusive; not "
                                               "before date_from."},
            "where": {
                "type": "object", "maxProperties": MAX_FIELDS,
                "propertyNames": {"pattern": FIELD_RE.pattern + "$"},
                "description": "Conditions on any field: doc_id, title, source, date, url or "
                               "a metadata field (author, tags, front matter ...). A value "
                               "(case-insensitive), a list of values (any of), or a date "
                               "range; a list field (tags) matches when any item does. A "
                               "value no document has is a 400 naming those that exist.",
                "additionalProperties": {"oneOf": [
                    _WHERE_VALUE,
                    {"type": "array", "minItems": 1, "maxItems": MAX_VALUES,
                     "items": _WHERE_VALUE},
                    {"type": "object", "additionalProperties": False, "minProperties": 1,
                     "properties": {"from": _DATE, "to": _DATE}},
                ]},
            },
        },
    },
    "Answer": {
        "type": "object",
        "required": ["question", "query", "answerable", "confidence", "took_ms", "passages",
                     "index"],
        "properties": {
            "question": {"type": "string"},
            "query": {"type": "string",
                      "description": "The search actually run, history included."},
            "answerable": {"type": "boolean",
                           "description": "Whether the documents answer the question: "
                                          "the probability that they do (a model apart "
                                          "from confidence) >= the server's answer "
                                          "threshold; when false the closest passages "
                                          "are still returned."},
            "confidence": {"type": "number", "minimum": 0, "maximum": 1,
                           "description": "Probability that the first passage answers "
                                          "the question, fitted on training collections "
                                          "(near misses included); comparable across "
                                          "questions."},
            "took_ms": {"type": "number", "minimum": 0},
            "passages": {"type": "array", "items": ref("Passage")},
            "sources": {"type": "array", "items": ref("SourceEntry"),
                        "description": "Present when the passages come from several "
                                       "reports: one entry per report, in rank order."},
            "disagreement": {
                **ref("Disagreement"),
                "description": "Present when two or more of the reports that answer (the "
                               "ranker gives their passage at least the server's "
                               "disagreement_min probability) give a figure or a date of "
                               "the kind asked: what each gives, and whether they differ."},
            "index": {"type": "string",
                      "description": "The version of the index that answered, as "
                                     "/api/health names it. A server serves a new build "
                                     "as soon as it is published; every answer comes "
                                     "from one version."},
        },
    },
    "Disagreement": {
        "type": "object",
        "required": ["kind", "differ", "values", "sources"],
        "properties": {
            "kind": {"type": "string", "description": "The kind of answer asked: number, "
                                                      "date ..."},
            "differ": {"type": "boolean",
                       "description": "Whether the sources give different values."},
            "values": {"type": "array", "items": {"type": "string"},
                       "description": "The distinct values, figures smallest first "
                                      "(\"6\", \"17\", \"more than 20\")."},
            "sources": {"type": "array", "minItems": 2,
                        "items": ref("DisagreementEntry")},
        },
    },
    "DisagreementEntry": {
        "type": "object",
        "required": ["doc_id", "source", "date", "value", "passage_id", "rank"],
        "properties": {
            "doc_id": {"type": "string"},
            "source": {"type": "string"},
            "date": _NULLABLE_DATE,
            "value": {"type": "string", "description": "The value its passage gives."},
            "passage_id": {"type": "string", "description": "The passage's `id`."},
            "rank": {"type": "integer", "minimum": 1,
                     "description": "The passage's rank in `passages`."},
        },
    },
    "SourceEntry": {
        "type": "object",
        "required": ["source", "doc_id", "date", "ranks"],
        "properties": {
            "source": {"type": "string"},
            "doc_id": {"type": "string"},
            "date": _NULLABLE_DATE,
            "ranks": {"type": "array", "items": {"type": "integer", "minimum": 1}},
        },
    },
    "Explanation": {
        "type": "object",
        "required": ["score", "fused", "candidates", "matched_terms", "signals"],
        "properties": {
            "score": {"type": "number", "description": "The passage's score (its `score`)."},
            "fused": {"type": "number",
                      "description": "The fusion's raw score, which orders the candidates."},
            "candidates": {"type": "integer", "minimum": 1,
                           "description": "How many passages were scored."},
            "matched_terms": {"type": "array", "items": {"type": "string"}},
            "signals": {
                "type": "object",
                "description": "Every signal the ranking read, by name.",
                "required": [s.name for s in SIGNALS],
                "additionalProperties": False,
                "properties": {s.name: {
                    "type": "object", "description": s.description,
                    "required": ["value", "rank"],
                    "properties": {
                        "value": {"type": "number"},
                        "rank": {"type": ["integer", "null"], "minimum": 1,
                                 "description": "Its rank by this signal among the "
                                                "candidates; null where it scored 0."},
                    },
                } for s in SIGNALS},
            },
        },
    },
    "Passage": {
        "type": "object",
        "required": ["id", "rank", "score", "text", "highlight", "doc_id", "title", "source",
                     "date", "paragraph", "url", "page", "metadata"],
        "properties": {
            "id": {"type": "string",
                   "description": "Stable: document, paragraph and a hash of the text."},
            "rank": {"type": "integer", "minimum": 1},
            "score": {"type": "number",
                      "description": "With the learned ranker (the default), the "
                                     "probability that this passage answers, on one scale "
                                     "for every question; with the weighted fusion, 0 to "
                                     "1 within one answer only."},
            "text": {"type": "string"},
            "highlight": {"type": "string",
                          "description": "The sentence that best answers; part of text."},
            "doc_id": {"type": "string"},
            "title": {"type": "string"},
            "source": {"type": "string"},
            "date": _NULLABLE_DATE,
            "paragraph": {"type": "integer", "minimum": 1},
            "url": {"type": ["string", "null"]},
            "page": _PAGE,
            "metadata": _METADATA,
            "explain": ref("Explanation"),
            "also_in": {"type": "array", "description": "Near-copies of this passage in "
                        "other places (the same wire text in several reports), folded "
                        "into this result.", "items": {
                            "type": "object",
                            "required": ["id", "doc_id", "source", "date", "paragraph"],
                            "properties": {
                                "id": {"type": "string"}, "doc_id": {"type": "string"},
                                "source": {"type": "string"}, "date": _NULLABLE_DATE,
                                "paragraph": {"type": "integer", "minimum": 1},
                            }}},
        },
    },
    "Health": {
        "type": "object",
        "required": ["status", "documents", "passages", "model", "index", "writes"],
        "properties": {
            "status": {"type": "string", "enum": ["ok"]},
            "writes": _WRITES,
            "documents": {"type": "integer", "minimum": 0},
            "passages": {"type": "integer", "minimum": 0},
            "model": {"type": "string"},
            "index": {
                "type": "object",
                "required": ["version", "fingerprint", "built_at"],
                "properties": {
                    "version": {"type": "string"},
                    "fingerprint": {"type": "string"},
                    "built_at": {"type": "string", "format": "date-time"},
                },
            },
        },
    },
    "DocumentSummary": {
        "type": "object",
        "required": ["doc_id", "title", "source", "date", "url", "paragraph_count",
                     "metadata"],
        "properties": {
            "doc_id": {"type": "string"},
            "title": {"type": "string"},
            "source": {"type": "string"},
            "date": _NULLABLE_DATE,
            "url": {"type": ["string", "null"]},
            "paragraph_count": {"type": "integer", "minimum": 0},
            "metadata": _METADATA,
        },
    },
    "DocumentList": {
        "type": "object",
        "required": ["documents", "total", "limit", "offset"],
        "properties": {
            "documents": {"type": "array", "items": ref("DocumentSummary"),
                          "description": "At most `limit` documents from `offset`, by "
                                         "doc_id."},
            "total": {"type": "integer", "minimum": 0,
                      "description": "How many documents meet the filters (without "
                                     "filters: how many the index holds)."},
            "limit": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT},
            "offset": {"type": "integer", "minimum": 0},
            "facets": ref("Facets"),
        },
    },
    "Facets": {
        "type": "object",
        "description": "What the whole index can be filtered by (filters or not).",
        "required": ["sources", "sources_total", "dates", "fields"],
        "properties": {
            "sources": {"type": "array", "description": "Sources, those with the most "
                        "documents first (at most 200).", "items": {
                            "type": "object", "required": ["source", "documents"],
                            "properties": {"source": {"type": "string"},
                                           "documents": {"type": "integer", "minimum": 1}}}},
            "sources_total": {"type": "integer", "minimum": 0,
                              "description": "How many sources there are."},
            "dates": {"type": "object", "required": ["earliest", "latest"],
                      "description": "The span of the documents' dates (null: no dates).",
                      "properties": {"earliest": _NULLABLE_DATE, "latest": _NULLABLE_DATE}},
            "fields": {"type": "array", "description": "Metadata fields by name (the first "
                       "20), each with its first 20 values, sorted, and how many it has.",
                       "items": {
                           "type": "object", "required": ["field", "values", "total"],
                           "properties": {"field": {"type": "string"},
                                          "values": {"type": "array",
                                                     "items": {"type": "string"}},
                                          "total": {"type": "integer", "minimum": 0}}}},
        },
    },

    "Document": {
        "allOf": [ref("DocumentSummary"), {
            "type": "object",
            "required": ["paragraphs"],
            "properties": {"paragraphs": {"type": "array", "items": {
                "type": "object",
                "required": ["paragraph", "id", "text", "page"],
                "properties": {
                    "paragraph": {"type": "integer", "minimum": 1},
                    "id": {"type": "string"},
                    "text": {"type": "string"},
                    "page": _PAGE,
                },
            }}},
        }],
    },
    "Writes": {
        "type": "object",
        "description": "Writes are on for the admin key given: whether the corpus can take "
                       "them, and the limits an upload is held to.",
        "required": ["writable", "reason", "max_upload_bytes", "max_upload_files",
                     "max_file_bytes", "types"],
        "properties": {
            "writable": {"type": "boolean",
                         "description": "false: the corpus is no folder (a corpus.jsonl "
                                        "or one file); every write is refused."},
            "reason": {"type": ["string", "null"], "description": "Why not writable."},
            "max_upload_bytes": {"type": "integer", "minimum": 1,
                                 "description": "The most one write request may be."},
            "max_upload_files": {"type": "integer", "minimum": 1,
                                 "description": "The most files one write may send."},
            "max_file_bytes": {"type": "integer", "minimum": 1,
                               "description": "The most one file may be."},
            "types": {"type": "array", "items": {"type": "string"},
                      "description": "The file name endings the corpus reads (.txt, ...)."},
        },
    },
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {"error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
        }},
    },
}
