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


@dataclass
class Answer:
    """The passages that answer a question, best first."""

    question: str
    query: str  # the search text actually run, history included
    answerable: bool
    took_ms: float
    passages: list[PassageResult] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


def answer_from_dict(data: dict) -> Answer:
    """Rebuild an Answer from its JSON body (as a server returns it)."""
    passages = [PassageResult(**p) for p in data.get("passages", [])]
    return Answer(data["question"], data["query"], data["answerable"], data["took_ms"],
                  passages)
