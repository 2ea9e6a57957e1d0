"""Answers and evaluation reports as a terminal shows them, untrusted text made safe."""

from __future__ import annotations

import textwrap
import unicodedata

from qa_service.response import Answer, Disagreement


def printable(text: str | None) -> str:
    """Make untrusted text safe for a terminal: no escape sequences or direction overrides."""
    return "".join(
        " " if ch in "\n\t" else ch
        for ch in (text or "")
        if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co")
    )


def percent(confidence: float) -> str:
    """Show a probability as a whole percentage from 1% to 99%: an estimate is never
    certain, and 0.996 rounded to "100%" would say it is (the chat page does the same)."""
    return f"{min(max(round(confidence * 100), 1), 99)}%"


def compared(d: Disagreement) -> str:
    """Say in one line what each answering report gives, and whether they differ."""
    what = "dates" if d.kind == "date" else "figures"
    each = "; ".join(f"{printable(e.source)}: {printable(e.value)} (#{e.rank})"
                     for e in d.sources)
    if d.differ:
        return f"Sources give different {what}: {printable(', '.join(d.values))} ({each})"
    return f"{len(d.sources)} sources agree: {printable(d.values[0])} ({each})"


def render(answer: Answer) -> str:
    """Format an answer for a terminal: numbered passages with their attribution."""
    lines = []
    if answer.query != answer.question:
        lines.append(f"Searched for: {printable(answer.query)}")
    if answer.sources:
        lines.append("From " + "; ".join(
            f"{printable(s.source)} ({s.date or 'undated'}): "
            + ", ".join(f"#{r}" for r in s.ranks) for s in answer.sources))
    if answer.disagreement:
        lines.append(compared(answer.disagreement))
    if not answer.passages:
        lines.append("No passages found.")
    else:
        lines.append(f"Confidence {percent(answer.confidence)} that the first passage "
                     "answers this.")
    if answer.passages and not answer.answerable:
        lines.append("The documents do not seem to answer this. The closest passages:")
    for p in answer.passages:
        where = [printable(p.source), printable(p.title)]
        where += [p.date] if p.date else []
        where += [f"p. {p.page}"] if p.page is not None else []
        where += [f"paragraph {p.paragraph}", f"score {p.score:.3f}"]
        lines.append("")
        lines.append(f"{p.rank}. " + " · ".join(where))
        lines.append(textwrap.fill(printable(p.highlight), 88, initial_indent="   > ",
                                   subsequent_indent="     "))
        if p.highlight.strip() != p.text.strip():
            lines.append(textwrap.fill(printable(p.text), 88, initial_indent="   ",
                                       subsequent_indent="   "))
        lines.append(f"   [{printable(p.doc_id)} ¶{p.paragraph}]" + (
            f" {printable(p.url)}" if p.url else ""))
        if p.also_in:
            lines.append("   also in: " + "; ".join(
                f"{printable(c['source'])} ¶{c['paragraph']}" for c in p.also_in))
        if p.explain:
            lines.append(_why(p.explain))
    lines.append("")
    lines.append(f"({answer.took_ms:.0f} ms)")
    return "\n".join(lines)


def _why(e: dict) -> str:
    """One line on how a passage got its rank (the `explain` object), signal by signal."""
    parts = [f"{name} {v['value']:.3f}" + (f" (#{v['rank']})" if v["rank"] else "")
             for name, v in e["signals"].items()]
    return (f"   why: score {e['score']:.3f} of {e['candidates']} candidates: "
            + ", ".join(parts) + "; terms: "
            + (printable(", ".join(e["matched_terms"])) or "none"))


def render_report(report: dict) -> str:
    """Format evaluation scores as a table, one row per ranking."""
    rows = report["rankings"]
    columns = [c for c in next(iter(rows.values())) if c not in ("queries", "questions")]
    width = {c: max(len(c), *(len(str(r.get(c, ""))) for r in rows.values())) for c in columns}
    lines = [f"{report['collection']}; index {report['index']}, model {report['model']}",
             "ranking  " + "  ".join(c.rjust(width[c]) for c in columns)]
    for name, scores in rows.items():
        lines.append(f"{name:8s} " + "  ".join(str(scores.get(c, "")).rjust(width[c])
                                             for c in columns))
    return "\n".join(lines)
