"""Whether the reports that answer give the same figure or date, and which gives which.

An archive holds several reports of one event, and they disagree: a death toll of 6, 17,
18 or "more than 20". Of an answer's passages, those the ranker thinks answer (its
passage probability at least `disagreement_min`; under a fusion without probabilities,
a score at least half the first's), one per document, each give the value of the kind
asked that their answering sentence holds beside the question's words. With two or
more, the answer says what each source gives, and whether they differ.
"""

from __future__ import annotations

from qa_service.response import Disagreement, DisagreementEntry, PassageResult
from qa_service.text.stem import content_key
from qa_service.text.values import Value, answer_value

# Under a fusion whose scores are not probabilities (weighted, rrf: 0 to 1 within one
# answer), a passage takes part when its score is at least this share of the first's.
RELATIVE_SHARE = 0.5


def disagreement(kind: str | None, passages: list[PassageResult], terms: tuple[str, ...],
                 names: tuple[str, ...], weights: dict[str, float], min_score: float,
                 probabilities: bool) -> Disagreement | None:
    """Compare the values the answering passages give; None when fewer than two do.

    `terms`: the question's content words; `names` (those it capitalises) are left out of
    what a value must sit beside, as every report of the event names them.
    """
    if not passages:
        return None
    named = {content_key(n) for n in names}
    focus: dict[str, float] = {}
    for term in terms:
        key = content_key(term)
        if key and key not in named:
            focus[key] = max(focus.get(key, 0.0), weights.get(term, 1.0))
    floor = min_score if probabilities else passages[0].score * RELATIVE_SHARE
    entries: list[tuple[DisagreementEntry, Value]] = []
    seen: set[str] = set()
    for p in passages:
        if p.score < floor or p.doc_id in seen:
            continue
        value = answer_value(kind, p.highlight, focus)
        if value is None:
            continue
        seen.add(p.doc_id)
        entries.append((DisagreementEntry(p.doc_id, p.source, p.date, value.shown, p.id,
                                          p.rank), value))
    if len(entries) < 2:
        return None
    distinct: list[Value] = []
    for _, value in entries:
        if not any(value.agrees(v) for v in distinct):
            distinct.append(value)
    if kind != "date":  # figures smallest first, words ("dozens") after them
        distinct.sort(key=lambda v: (0, v.key[2]) if v.key[0] == "n" else (1, 0))
    return Disagreement(kind=kind, differ=len(distinct) > 1,
                        values=[v.shown for v in distinct],
                        sources=[entry for entry, _ in entries])
