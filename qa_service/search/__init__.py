"""Search: a question and its history -> ranked, attributed passages from one index."""

from qa_service.search.filters import MAX_SOURCES, Filters, parse_filters
from qa_service.search.limits import MAX_HISTORY, MAX_QUESTION_CHARS, MAX_TOP_K, validate
from qa_service.search.query import Query, analyse
from qa_service.search.ranking import Ranking
from qa_service.search.searcher import Searcher

__all__ = [
    "MAX_HISTORY", "MAX_QUESTION_CHARS", "MAX_SOURCES", "MAX_TOP_K", "Filters", "Query",
    "Ranking", "Searcher", "analyse", "parse_filters", "validate",
]
