"""The response contract shared by every face: CLI `--json`, the HTTP API and the page."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass
class PassageResult:
    """One retrieved passage and where it comes from."""

    id: str  # stable: document, paragraph and a hash of the text
    rank: int  # 1-based
    score: float
    text: str
    highlight: str  # the sentence that best answers; a verbatim substring of `text`
    doc_id: str
    title: str
    source: str
    date: str | None  # YYYY-MM-DD
    paragraph: int  # 1-based in the cleaned document
    url: str | None
    page: int | None = None  # 1-based, in formats that have pages (PDF); else null
    # The document's other metadata fields (author, tags, front matter, the metadata file).
    metadata: dict = field(default_factory=dict)
    explain: dict | None = None  # how it ranked, when the request asks (never null in JSON)
    # Near-copies of this passage elsewhere (the same wire text in other reports).
    also_in: list[dict] | None = None


@dataclass
class SourceEntry:
    """One report among the answer's passages: where it stands in the ranking."""

    source: str
    doc_id: str
    date: str | None
    ranks: list[int]


@dataclass
class DisagreementEntry:
    """What one answering report gives: its figure or date, and the passage that says it."""

    doc_id: str
    source: str
    date: str | None
    value: str
    passage_id: str
    rank: int


@dataclass
class Disagreement:
    """The values the answering reports give for what was asked, one entry per report."""

    kind: str  # the kind of answer asked: number, date ...
    differ: bool  # whether they give different values
    values: list[str]  # the distinct values (figures smallest first)
    sources: list[DisagreementEntry]


@dataclass
class Answer:
    """The passages that answer a question, best first."""

    question: str
    query: str  # the search text actually run, history included
    answerable: bool  # P(the documents answer it) >= the answer threshold
    # The probability that the first passage answers the question (fitted on training
    # collections, comparable across questions): the chat page reads it as words.
    confidence: float
    took_ms: float
    passages: list[PassageResult] = field(default_factory=list)
    # Set when the passages come from several reports: one entry each, in rank order.
    sources: list[SourceEntry] | None = None
    # Set when two or more answering reports give a value of the kind asked.
    disagreement: Disagreement | None = None
    # The version of the index that answered (as /api/health names it): a server swaps
    # in new builds, and every answer comes from exactly one.
    index: str | None = None

    def to_dict(self) -> dict:
        """Return the JSON body; optional fields appear only when they are set."""
        body = asdict(self)
        for optional in ("sources", "disagreement", "index"):
            if body[optional] is None:
                del body[optional]
        for passage in body["passages"]:
            for optional in ("explain", "also_in"):
                if passage[optional] is None:
                    del passage[optional]
        return body


def sources_of(passages: list[PassageResult]) -> list[SourceEntry] | None:
    """Group passages by report, in rank order; None when they all come from one."""
    entries: dict[str, SourceEntry] = {}
    for p in passages:
        entry = entries.setdefault(p.doc_id, SourceEntry(p.source, p.doc_id, p.date, []))
        entry.ranks.append(p.rank)
    return list(entries.values()) if len(entries) > 1 else None


def answer_from_dict(data: dict) -> Answer:
    """Rebuild an Answer from its JSON body (as a server returns it)."""
    passages = [PassageResult(**p) for p in data.get("passages", [])]
    sources = [SourceEntry(**s) for s in data["sources"]] if data.get("sources") else None
    compared = data.get("disagreement")
    disagreement = Disagreement(
        compared["kind"], compared["differ"], compared["values"],
        [DisagreementEntry(**e) for e in compared["sources"]]) if compared else None
    return Answer(data["question"], data["query"], data["answerable"],
                  data.get("confidence", 0.0), data["took_ms"], passages, sources,
                  disagreement, data.get("index"))
