"""Indexing: build an index from a corpus, publish it atomically, and say when it is stale."""

from qa_service.indexing.build import BuildReport, build_index
from qa_service.indexing.freshness import check, chunking_of, compatible, stale_reason
from qa_service.indexing.publish import BuildBusy

__all__ = ["BuildBusy", "BuildReport", "build_index", "check", "chunking_of", "compatible",
           "stale_reason"]
