"""The index as a reader opens it: manifest, passages in SQLite, vectors in FAISS."""

from qa_service.store.index import Index
from qa_service.store.keys import Spans, TypedSpans, WordKeys
from qa_service.store.layout import CURRENT, hold, resolve
from qa_service.store.lexicon import Lexicon, Matches
from qa_service.store.manifest import FORMAT, MANIFEST, Manifest
from qa_service.store.passages import PassageStore, document_fields, page_of
from qa_service.store.vectors import VectorStore

__all__ = ["CURRENT", "FORMAT", "MANIFEST", "Index", "Lexicon", "Manifest", "Matches",
           "PassageStore", "Spans", "TypedSpans", "VectorStore", "WordKeys", "document_fields",
           "hold", "page_of", "resolve"]
