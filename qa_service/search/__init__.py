"""Hybrid search: dense and lexical candidates, sentence scoring, fusion, attribution."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from qa_service.config import Settings
from qa_service.embed import Encoder
from qa_service.errors import InvalidInput
from qa_service.response import Answer, PassageResult, sources_of
from qa_service.search import diversity, highlight
from qa_service.search.explain import explanation
from qa_service.search.filters import Filters
from qa_service.search.fusion import Fusion, get_fusion
from qa_service.search.lexical import (
    NAME_CAPITALIZED,
    LexicalSearch,
    Terms,
    forms,
    match_expression,
)
from qa_service.search.query import Query, make_query
from qa_service.search.sentences import Evidence, SentenceMatcher
from qa_service.store.index import Index
from qa_service.words import fold

log = logging.getLogger(__name__)

MAX_QUESTION_CHARS = 1000
MAX_HISTORY = 10
MAX_TOP_K = 20
# Relevance, for `answerable`: the best cosine of a passage or its best sentence, plus
# this much of the share of query-term weight the passage contains (see
# docs/architecture.md for the calibration of the two together).
COVERAGE_WEIGHT = 0.3


@dataclass
class Ranking:
    """Passages ranked for a query, with the signals behind the order."""

    query: Query
    rows: list[int]  # best first
    records: dict[int, Any]  # row -> passage record with its document's metadata
    fused: dict[int, float]
    signals: dict[str, dict[int, float]]  # dense, lexical, sentence: row -> score
    highlights: dict[int, tuple[int, int]]  # row -> best sentence span in the text
    relevance: float  # compared with the answer threshold
    matched: dict[int, list[str]]  # row -> the query terms it contains
    duplicates: dict[int, list[int]]  # row -> near-copies folded into it


class Searcher:
    """Answers questions from one loaded index with one encoder."""

    def __init__(self, index: Index, encoder: Encoder, settings: Settings,
                 fusion: Fusion | None = None):
        self.index = index
        self.encoder = encoder
        self.settings = settings
        self.lexical = LexicalSearch(index.passages)
        self.fusion = fusion or get_fusion(settings.fusion, settings.fusion_weights)

    def ask(self, question: str, history: list[str] | tuple[str, ...] = (),
            top_k: int | None = None, filters: Filters | None = None,
            explain: bool = False) -> Answer:
        """Return the passages that best answer `question`, given the earlier questions."""
        started = time.perf_counter()
        top_k = self.settings.top_k if top_k is None else top_k
        validate(question, history, top_k)
        ranking = self.rank(question, history, top_k, filters)
        results = []
        for rank, row in enumerate(ranking.rows, 1):
            rec = ranking.records[row]
            start, end = ranking.highlights[row]
            results.append(PassageResult(
                id=rec["id"], rank=rank, score=round(float(ranking.fused[row]), 4),
                text=rec["text"], highlight=rec["text"][start:end], doc_id=rec["doc_id"],
                title=rec["title"], source=rec["source"], date=rec["date"],
                paragraph=rec["paragraph"], url=rec["url"],
                explain=explanation(ranking, row) if explain else None,
                also_in=[_copy(ranking.records[d]) for d in ranking.duplicates[row]]
                if row in ranking.duplicates else None,
            ))
        return Answer(
            question=question.strip(),
            query=ranking.query.text,
            answerable=bool(results) and ranking.relevance >= self.settings.answer_threshold,
            took_ms=round((time.perf_counter() - started) * 1000, 2),
            passages=results,
            sources=sources_of(results),
            index=self.index.path.name,
        )

    def rank(self, question: str, history: list[str] | tuple[str, ...] = (),
             top_k: int | None = None, filters: Filters | None = None) -> Ranking:
        """Rank passages for a question, keeping every signal that went into the ranking.

        Unlike `ask`, this takes any depth (evaluation asks for 100) and trusts its input.
        """
        top_k = self.settings.top_k if top_k is None else top_k
        query = make_query(question, history)
        qvec = query.vector(self.encoder.encode(query.texts))
        q_terms = self.lexical.expand(query.question_terms())
        h_terms = self.lexical.expand(query.history_terms())
        rows, signals = self._candidates(query, qvec, q_terms, h_terms, filters or Filters(),
                                         top_k)
        records = self.index.passages.passages(rows)
        sentences = highlight.sentence_scores(self.index, records, qvec)
        signals["sentence"] = {row: max(s for _, s in found) for row, found in sentences.items()}
        terms = {**h_terms, **q_terms}
        weights = self.lexical.term_weights(terms)
        coverage, matched = self.lexical.coverage(weights, terms, rows)
        scaled = history_scaled(query, weights)
        evidence = self._evidence(query, scaled, terms, records, sentences)
        signals.update(term_signals(scaled, matched, evidence))
        signals["names"] = self._names(scaled, terms, matched, records)
        fused = self.fusion.fuse(signals, rows)
        ranked, duplicates = self._diversify(rows, fused, records, top_k)
        relevance = max(
            (max(signals["dense"][r], signals["sentence"][r]) + COVERAGE_WEIGHT * coverage[r]
             for r in ranked), default=0.0,
        )
        highlights = {row: evidence[row].span for row in ranked}
        return Ranking(query, ranked, records, fused, signals, highlights, relevance, matched,
                       duplicates)

    def _names(self, weights: dict[str, float], terms: Terms,
               matched: dict[int, list[str]], records: dict) -> dict[int, float]:
        """Return the share of the question's names each passage holds (empty: none named).

        A name is a word the corpus mostly capitalises, so "grozin" counts in a question
        typed in lower case. A question that names someone or something is about them: of
        two passages on its topic, the one naming them is more likely the answer.
        """
        shares = self.index.passages.capitalized([fold(t) for t in weights])
        names = {t: w for t, w in weights.items()
                 if shares.get(fold(t), 0.0) >= NAME_CAPITALIZED}
        total = sum(names.values())
        if not total:
            return {}
        # Reports name someone once and then say "he" or "the shop": a name in the
        # passage just before, of the same document, counts as named here too.
        store = self.index.passages
        before = {row: row - 1 for row in matched if row > 0}
        docs = store.doc_ids(sorted(set(before.values())))
        before = {row: prev for row, prev in before.items()
                  if docs.get(prev) == records[row]["doc_id"]}
        named_before: dict[int, set[str]] = {prev: set() for prev in before.values()}
        if named_before:
            for name in names:
                for prev in store.matching(match_expression(terms[name]), list(named_before)):
                    named_before[prev].add(name)
        held = {}
        for row, found in matched.items():
            named = (set(found) | named_before.get(before.get(row), set())) & names.keys()
            held[row] = sum(names[t] for t in named) / total
        return held

    def _evidence(self, query: Query, weights: dict[str, float], terms: Terms,
                  records: dict, sentences: dict[int, highlight.Sentences]
                  ) -> dict[int, Evidence]:
        """Find each passage's answering sentence and how well it matches the question."""
        matcher = SentenceMatcher(query.question, weights, terms)
        return {row: matcher.evidence(rec["text"], sentences[row])
                for row, rec in records.items()}

    def _diversify(self, rows: list[int], fused: dict[int, float], records: dict,
                   top_k: int) -> tuple[list[int], dict[int, list[int]]]:
        """Order by fused score, fold near-duplicates into their best copy, then apply MMR."""
        ordered = sorted(rows, key=lambda r: (-fused[r], r))
        pool = ordered[: max(3 * top_k, 30)]
        # MMR reorders the whole pool, so then every row of it needs its copies found.
        limit = top_k if self.settings.mmr_weight >= 1.0 else None
        duplicates = diversity.collapse_duplicates(pool, {r: records[r]["text"] for r in pool},
                                                   limit)
        folded = {d for rows_ in duplicates.values() for d in rows_}
        pool = [r for r in pool if r not in folded]
        if self.settings.mmr_weight < 1.0:
            pool = diversity.mmr(pool, fused, self.index.vectors.vectors(pool), top_k,
                                 self.settings.mmr_weight)
        ranked = pool[:top_k]
        return ranked, {r: duplicates[r] for r in ranked if r in duplicates}

    def _candidates(self, query: Query, qvec: np.ndarray, q_groups: Terms, h_groups: Terms,
                    filters: Filters, top_k: int) -> tuple[list[int], dict]:
        """Gather dense and lexical candidates and score every one on both signals."""
        n = max(self.settings.candidates, top_k)
        where = filters.sql() if filters.active else None
        allowed = self.index.passages.rows_where(where) if where else None
        dense = dict(self.index.vectors.search(qvec, n, allowed))
        q_terms, h_terms = forms(q_groups), forms(h_groups)
        lexical = self.lexical.search(q_terms, n, where)
        history = self.lexical.search(h_terms, n, where) if h_terms else {}
        # The history's own matches count as much as its most recent question weighs.
        history_weight = query.history_weights[0] if query.history else 0.0
        rows = sorted(set(dense) | set(lexical) | set(history))
        dense.update(self.index.vectors.scores(qvec, [r for r in rows if r not in dense]))
        missing = [r for r in rows if r not in lexical]
        lexical.update(self.lexical.scores(q_terms, missing))
        if h_terms:
            history.update(self.lexical.scores(h_terms, [r for r in rows if r not in history]))
            for row, score in history.items():
                lexical[row] = lexical.get(row, 0.0) + history_weight * score
        return rows, {"dense": dense, "lexical": lexical}


def history_scaled(query: Query, weights: dict[str, float]) -> dict[str, float]:
    """Weigh words that only the history brings as much as the history counts."""
    if not query.history:
        return weights
    own, scale = set(query.question_terms()), query.history_weights[0]
    return {t: w if t in own else w * scale for t, w in weights.items()}


def term_signals(weights: dict[str, float], matched: dict[int, list[str]],
                 evidence: dict[int, Evidence]) -> dict[str, dict[int, float]]:
    """Signals from the question's words (weighed by `history_scaled`): in the passage,
    in its best sentence, as adjacent pairs, and whether the answering sentence holds the
    kind of answer asked."""
    total = sum(weights.values()) or 1.0
    return {
        "coverage": {row: sum(weights[t] for t in found) / total
                     for row, found in matched.items()},
        "terms": {row: ev.share for row, ev in evidence.items()},
        "phrases": {row: ev.phrases for row, ev in evidence.items()},
        "answer_type": {row: float(ev.typed) for row, ev in evidence.items()},
    }


def _copy(rec) -> dict:
    """Where a folded near-duplicate stands."""
    return {"id": rec["id"], "doc_id": rec["doc_id"], "source": rec["source"],
            "date": rec["date"], "paragraph": rec["paragraph"]}


def validate(question, history, top_k) -> None:
    """Reject a request the service cannot answer, with a message that says why."""
    if not isinstance(question, str) or not question.strip():
        raise InvalidInput("question must be a non-empty string")
    if len(question.strip()) > MAX_QUESTION_CHARS:
        raise InvalidInput(f"question is longer than {MAX_QUESTION_CHARS} characters")
    if not isinstance(history, list | tuple) or not all(isinstance(h, str) for h in history):
        raise InvalidInput("history must be a list of strings")
    if len(history) > MAX_HISTORY:
        raise InvalidInput(f"history holds more than {MAX_HISTORY} questions")
    if any(len(h) > MAX_QUESTION_CHARS for h in history):
        raise InvalidInput(f"a history entry is longer than {MAX_QUESTION_CHARS} characters")
    if isinstance(top_k, bool) or not isinstance(top_k, int) or not 1 <= top_k <= MAX_TOP_K:
        raise InvalidInput(f"top_k must be an integer from 1 to {MAX_TOP_K}")
