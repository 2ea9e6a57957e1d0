"""Evaluate on a question file in the format of ../shared/eval/dev.jsonl.

Kinds: `answerable` and `followup` (with `evidence` strings: a passage that contains
one answers), `conflict` (`evidence_by_doc`: each source's own figure) and
`unanswerable`. Evidence is matched after NFKC, straight quotes, collapsed
whitespace and lower-casing.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import ir_measures
from ir_measures import RR, Success

from qa_service.errors import CorpusError
from qa_service.ingest.furniture import (
    is_byline,
    is_end_marker,
    is_photo_credit,
    is_sentence,
    is_widget,
)
from qa_service.progress import Progress
from qa_service.response import Answer, PassageResult
from qa_service.search import Searcher

KINDS = {"answerable", "followup", "conflict", "unanswerable"}
_QUOTES = str.maketrans({"‘": "'", "’": "'", "‚": "'", "‛": "'", "“": '"', "”": '"',
                         "„": '"', "‟": '"'})
_MISSING = "\x00no relevant passage returned"


def evidence_form(text: str) -> str:
    """Return `text` as evidence is matched: NFKC, straight quotes, collapsed white space,
    lower case (the matching rule of ../shared/eval/README.md)."""
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES)
    return re.sub(r"\s+", " ", text).strip().casefold()


@dataclass
class Question:
    id: str
    kind: str
    question: str
    history: list[str] = field(default_factory=list)
    evidence: list[str] = field(default_factory=list)
    evidence_by_doc: dict[str, list[str]] = field(default_factory=dict)


def load_questions(path: Path) -> list[Question]:
    """Read and check a question file; a bad line is an error that names it."""
    questions = []
    try:
        lines = Path(path).read_text("utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise CorpusError(f"cannot read questions from {path}: {exc}") from None
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            q = Question(str(row["id"]), row["kind"], row["question"], row.get("history") or [],
                         row.get("evidence") or [], row.get("evidence_by_doc") or {})
        except (ValueError, KeyError, TypeError) as exc:
            raise CorpusError(f"{path}:{n}: not a question line ({exc})") from None
        if q.kind not in KINDS:
            raise CorpusError(f"{path}:{n}: unknown kind {q.kind!r}")
        questions.append(q)
    if not questions:
        raise CorpusError(f"no questions in {path}")
    return questions


def is_furniture(text: str) -> bool:
    """Say whether a returned passage is page furniture rather than story."""
    lines = [line for line in text.splitlines() if line.strip()]
    return any(
        is_widget(line) or is_end_marker(line) or is_photo_credit(line) or is_byline(line)
        for line in lines
    ) or (len(text) < 40 and not is_sentence(text))


def holds_evidence(p: PassageResult, evidence: list[str]) -> bool:
    """Say whether a returned passage holds any of the evidence strings (matched as
    `evidence_form` says)."""
    text = evidence_form(p.text)
    return any(evidence_form(e) in text for e in evidence)


@dataclass
class Outcome:
    question: Question
    answer: Answer

    @property
    def first_hit(self) -> int | None:
        evidence = self.question.evidence or [
            e for found in self.question.evidence_by_doc.values() for e in found]
        return next((p.rank for p in self.answer.passages if holds_evidence(p, evidence)), None)


def evaluate_questions(searcher: Searcher, questions: list[Question], depth: int = 10,
                       progress: Progress | None = None) -> tuple[dict, list[Outcome]]:
    """Ask every question and return the scores and each question's outcome; count each
    question done in `progress` if given."""
    outcomes = []
    for q in questions:
        outcomes.append(Outcome(q, searcher.ask(q.question, q.history, depth)))
        if progress:
            progress.update()
    with_evidence = [o for o in outcomes if o.question.kind in ("answerable", "followup")]
    followups = [o for o in outcomes if o.question.kind == "followup"]
    conflicts = [o for o in outcomes if o.question.kind == "conflict"]
    unanswerable = [o for o in outcomes if o.question.kind == "unanswerable"]
    answerable = [o for o in outcomes if o.question.kind != "unanswerable"]

    scores = {"questions": len(outcomes)}
    scores.update(_rank_scores(with_evidence, [Success @ 1, Success @ 5, RR @ 10],
                               ["hit@1", "hit@5", "mrr@10"]))
    scores.update(_rank_scores(followups, [Success @ 3], ["followup_hit@3"]))
    scores["unanswerable_declined"] = f"{sum(not o.answer.answerable for o in unanswerable)}" \
                                      f"/{len(unanswerable)}"
    scores["answerable_declined"] = f"{sum(not o.answer.answerable for o in answerable)}" \
                                    f"/{len(answerable)}"
    if conflicts:
        top5 = [o.answer.passages[:5] for o in conflicts]
        scores["conflict_sources@5"] = round(
            sum(len({p.source for p in ps}) for ps in top5) / len(conflicts), 2)
        scores["conflict_sources_with_evidence@5"] = round(sum(
            sum(any(holds_evidence(p, ev) for p in ps if p.doc_id == doc)
                for doc, ev in o.question.evidence_by_doc.items())
            for o, ps in zip(conflicts, top5)) / len(conflicts), 2)
    returned = [p for o in outcomes for p in o.answer.passages[:5]]
    scores["furniture@5"] = sum(is_furniture(p.text) for p in returned)
    return scores, outcomes


def _rank_scores(outcomes: list[Outcome], measures, names) -> dict:
    """Score ranks with ir-measures: a passage that holds the evidence is relevant."""
    if not outcomes:
        return {}
    qrels, run = {}, {}
    for o in outcomes:
        evidence = o.question.evidence
        qrels[o.question.id] = {p.id: 1 for p in o.answer.passages if holds_evidence(p, evidence)} \
            or {_MISSING: 1}
        run[o.question.id] = {p.id: float(len(o.answer.passages) - p.rank + 1)
                              for p in o.answer.passages}
    found = ir_measures.calc_aggregate(measures, qrels, run)
    return {name: round(float(found[m]), 3) for m, name in zip(measures, names)}


def describe_miss(o: Outcome) -> str:
    """Describe a question whose best evidence is not at rank 1, with what came back."""
    hit = o.first_hit
    head = f"{o.question.id} [{o.question.kind}] {o.question.question!r}: "
    head += f"answer at rank {hit}" if hit else "no answer in the passages"
    lines = [head + ("" if o.answer.answerable else " (declined)")]
    for p in o.answer.passages[:5]:
        lines.append(f"    {p.rank}. {p.source} ¶{p.paragraph} {p.score:.3f}: {p.text[:90]!r}")
    return "\n".join(lines)


def misses(outcomes: list[Outcome]) -> list[Outcome]:
    """Return the outcomes a reader would call wrong."""
    wrong = []
    for o in outcomes:
        kind = o.question.kind
        if kind == "unanswerable":
            if o.answer.answerable:
                wrong.append(o)
        elif kind in ("answerable", "followup") and o.first_hit != 1:
            wrong.append(o)
        elif not o.answer.answerable:
            wrong.append(o)
    return wrong
