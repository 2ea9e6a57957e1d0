"""Hybrid search over one loaded index: candidates, signals, fusion, attribution.

A question goes one way down: it is analysed once (query), its terms expanded to the
corpus's spellings (lexical), candidates gathered from both indexes, every signal
computed (sentences, signals), fused (fusion), folded and ordered (diversity), and
attributed (response).
"""

from __future__ import annotations

import time
from functools import cached_property

import numpy as np

from qa_service.config import Settings
from qa_service.encoders import Encoder
from qa_service.response import Answer, PassageResult, sources_of
from qa_service.search.candidates import Candidates
from qa_service.search.confidence import RANKER, confidence
from qa_service.search.disagreement import disagreement
from qa_service.search.diversity import collapse_duplicates, crowd, mmr
from qa_service.search.explain import explanation
from qa_service.search.filters import Filters, check_values
from qa_service.search.fusion import Fusion, get_fusion
from qa_service.search.learned import Calibration, load_ranker
from qa_service.search.lexical import LexicalSearch, Terms, forms
from qa_service.search.limits import validate
from qa_service.search.query import Query, analyse
from qa_service.search.ranking import Ranking
from qa_service.search.signals import SIGNALS
from qa_service.search.signals.known import KNOWN_NAMES
from qa_service.store import Index, document_fields, page_of


class Searcher:
    """Answers questions from one loaded index with one encoder."""

    def __init__(self, index: Index, encoder: Encoder, settings: Settings,
                 fusion: Fusion | None = None):
        self.index = index
        self.encoder = encoder
        self.settings = settings
        self.ranking = settings.ranking
        self.lexical = LexicalSearch(index.passages, settings.ranking, index.lexicon)
        self.fusion = fusion or get_fusion(settings.ranking)

    @cached_property
    def calibration(self) -> Calibration:
        """The confidence model: P(the first passage answers) (from the ranker file,
        whichever fusion ranks)."""
        return load_ranker(self.ranking.ranker).calibration

    @cached_property
    def answerability(self) -> Calibration:
        """The answerability model: P(the corpus answers), against the answer threshold."""
        return load_ranker(self.ranking.ranker).answerability

    def ask(self, question: str, history: list[str] | tuple[str, ...] = (),
            top_k: int | None = None, filters: Filters | None = None,
            explain: bool = False) -> Answer:
        """Return the passages that best answer `question`, given the earlier questions."""
        started = time.perf_counter()
        top_k = self.ranking.top_k if top_k is None else top_k
        validate(question, history, top_k)
        if filters is not None and filters.active:
            check_values(filters, self.index.passages)
        ranking = self.rank(question, history, top_k, filters)
        results = []
        for rank, row in enumerate(ranking.rows, 1):
            rec = ranking.records[row]
            start, end = ranking.highlights[row]
            results.append(PassageResult(
                id=rec["id"], rank=rank, score=round(float(ranking.scores[row]), 4),
                text=rec["text"], highlight=rec["text"][start:end], doc_id=rec["doc_id"],
                title=rec["title"], source=rec["source"], date=rec["date"],
                paragraph=rec["paragraph"], url=rec["url"], page=page_of(rec),
                metadata=document_fields(rec),
                explain=explanation(ranking, row) if explain else None,
                also_in=[_copy(ranking.records[d]) for d in ranking.duplicates[row]]
                if row in ranking.duplicates else None,
            ))
        answerable = bool(results) and ranking.answers >= self.ranking.answer_threshold
        query = ranking.query
        # Before took_ms is read: the comparison is part of answering.
        compared = disagreement(
            query.answer_kind, results, query.question_terms, query.capitalised,
            ranking.weights or {}, self.ranking.disagreement_min,
            self.fusion.probabilities) if answerable else None
        return Answer(
            question=question.strip(),
            query=query.text,
            answerable=answerable,
            confidence=round(ranking.confidence, 4),
            took_ms=round((time.perf_counter() - started) * 1000, 2),
            passages=results,
            sources=sources_of(results),
            disagreement=compared,
            index=self.index.path.name,
        )

    def rank(self, question: str, history: list[str] | tuple[str, ...] = (),
             top_k: int | None = None, filters: Filters | None = None) -> Ranking:
        """Rank passages for a question, keeping every signal that went into the ranking.

        Unlike `ask`, this takes any depth (evaluation asks for 100) and trusts its input.
        """
        top_k = self.ranking.top_k if top_k is None else top_k
        found = self.candidates(question, history, filters, top_k)
        signals = {s.name: s.compute(found) for s in SIGNALS}
        rows, records = found.rows, found.records
        fused = self.fusion.fuse(signals, rows)
        ranked, duplicates = self._diversify(found, fused, top_k)
        judged = self._with_ranker(signals, fused, rows)
        top = ranked[0] if ranked else None
        sure = confidence(self.calibration, judged, top)
        answers = confidence(self.answerability, judged, top) \
            if self.answerability is not self.calibration else sure
        if self.ranking.decline_unknown_names and top is not None and \
                signals[KNOWN_NAMES.name].get(top, 1.0) == 0.0:
            sure = answers = 0.0  # no passage holds any name the question asks about
        shown = self.fusion.shown({row: fused[row] for row in ranked}, sure)
        highlights = {row: found.evidence[row].span for row in ranked}
        return Ranking(found.query, ranked, records, fused, shown, signals, highlights, sure,
                       found.matched, duplicates, answers, found.weights)

    @cached_property
    def _reads_ranker(self) -> bool:
        """Whether the confidence or answerability model reads the ranker's score."""
        read = self.calibration.features + self.answerability.features
        return RANKER in {f.partition(".")[2] for f in read}

    def _with_ranker(self, signals: dict, fused: dict[int, float], rows: list[int]) -> dict:
        """The signals with the learned ranker's scores, when the confidence reads them
        (under another fusion the ranker scores the candidates too)."""
        if not self._reads_ranker:
            return signals
        if self.fusion.name != "learned":
            fused = dict(zip(rows, load_ranker(self.ranking.ranker).scores(signals, rows)
                             .tolist()))
        return {**signals, RANKER: fused}

    def candidates(self, question: str, history: list[str] | tuple[str, ...] = (),
                   filters: Filters | None = None, top_k: int = 0,
                   without: frozenset[str] = frozenset()) -> Candidates:
        """Analyse a question and gather its candidate passages from both indexes, leaving
        out the passages of the documents `without` (training asks questions whose answer
        was taken away)."""
        query = analyse(question, history, self.ranking)
        qvec = query.vector(self.encoder.encode(list(query.texts)))
        q_terms = self.lexical.expand(query.question_terms)
        h_terms = self.lexical.expand(query.history_terms)
        rows, retrieved = self._retrieve(query, qvec, q_terms, h_terms, filters or Filters(),
                                         top_k)
        removed: list[int] = []
        if without:
            docs = self.index.passages.doc_ids(rows)
            rows = [r for r in rows if docs.get(r) not in without]
            kept = set(rows)
            retrieved = {name: {r: v for r, v in scores.items() if r in kept}
                         for name, scores in retrieved.items()}
            removed = self.index.passages.rows_where(
                (f"d.doc_id IN ({','.join('?' * len(without))})", sorted(without)))
        return Candidates(query, qvec, rows, self.index, self.lexical, {**h_terms, **q_terms},
                          retrieved, self.ranking, removed, self.encoder)

    def _diversify(self, found: Candidates, fused: dict[int, float], top_k: int
                   ) -> tuple[list[int], dict[int, list[int]]]:
        """Order by fused score, fold near-duplicates into their best copy, apply MMR,
        then let no document crowd out the others."""
        ranking, records = self.ranking, found.records
        ordered = sorted(found.rows, key=lambda r: (-fused[r], r))
        pool = ordered[: max(ranking.diversify_factor * top_k, ranking.diversify_min)]
        # MMR and crowding reorder the whole pool, so then every row of it needs its
        # copies found.
        limit = top_k if ranking.mmr_weight >= 1.0 and ranking.per_document <= 0 else None
        words = found.word_keys
        duplicates = collapse_duplicates(pool, {row: words[row][1] for row in pool},
                                         ranking.duplicate_overlap, limit)
        folded = {d for rows_ in duplicates.values() for d in rows_}
        pool = [r for r in pool if r not in folded]
        if ranking.mmr_weight < 1.0:
            pool = mmr(pool, fused, self.index.vectors.vectors(pool), top_k,
                       ranking.mmr_weight)
        pool = crowd(pool, {r: records[r]["doc_id"] for r in pool}, ranking.per_document)
        ranked = pool[:top_k]
        return ranked, {r: duplicates[r] for r in ranked if r in duplicates}

    def _retrieve(self, query: Query, qvec: np.ndarray, q_groups: Terms, h_groups: Terms,
                    filters: Filters, top_k: int) -> tuple[list[int], dict]:
        """Gather dense and lexical candidates and score every one on both signals."""
        n = max(self.ranking.candidates, top_k)
        where = filters.sql() if filters.active else None
        allowed = self.index.passages.rows_where(where) if where else None
        dense = dict(self.index.vectors.search(qvec, n, allowed))
        q_terms, h_terms = forms(q_groups), forms(h_groups)
        lexical, of_dense = self.lexical.search(q_terms, n, where, also=list(dense))
        history = self.lexical.search(h_terms, n, where)[0] if h_terms else {}
        rows = sorted(set(dense) | set(lexical) | set(history))
        unscored = [r for r in history if r not in dense and r not in lexical]
        dense.update(self.index.vectors.scores(qvec, [r for r in rows if r not in dense]))
        lexical.update(of_dense)
        lexical.update(self.lexical.scores(q_terms, unscored))
        if h_terms:
            # The history's own matches count as much as its most recent question weighs.
            history.update(self.lexical.scores(h_terms, [r for r in rows if r not in history]))
            for row, score in history.items():
                lexical[row] = lexical.get(row, 0.0) + query.history_weight * score
        return rows, {"dense": dense, "lexical": lexical}


def _copy(rec) -> dict:
    """Where a folded near-duplicate stands."""
    return {"id": rec["id"], "doc_id": rec["doc_id"], "source": rec["source"],
            "date": rec["date"], "paragraph": rec["paragraph"]}
