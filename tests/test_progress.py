"""Progress of long steps: a bar on a terminal, else a plain line every so often."""

from __future__ import annotations

import io
import json
import re

import pytest

from qa_service import progress as progress_module
from qa_service.cli import cli
from qa_service.indexing import build_index
from qa_service.progress import Progress, duration, tracked


class Clock:
    """A clock the test moves by hand."""

    def __init__(self):
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _lines(stream: io.StringIO) -> list[str]:
    return stream.getvalue().splitlines()


def test_lines_come_at_most_once_an_interval_and_once_at_the_end():
    clock, out = Clock(), io.StringIO()
    progress = Progress(9069, "Embedding", "passages", stream=out, interval=10, clock=clock)
    clock.now += 5
    progress.update(1000)
    assert _lines(out) == []  # 5 s in: too soon
    clock.now += 36
    progress.update(1000)
    assert _lines(out) == [
        "Embedding: 2,000/9,069 passages (22%), 41 s elapsed, about 2 min 25 s left"]
    clock.now += 9.5
    progress.update(1000)
    assert len(_lines(out)) == 1  # 9.5 s after the last line
    clock.now += 0.5
    progress.update(1000)
    assert _lines(out)[-1] == (
        "Embedding: 4,000/9,069 passages (44%), 51 s elapsed, about 1 min 5 s left")
    clock.now += 69
    progress.update(5069)
    assert len(_lines(out)) == 2  # all done: the end's line says so, once
    progress.close()
    progress.close()
    assert _lines(out)[2:] == ["Embedding: 9,069/9,069 passages (100%), done in 2 min 0 s"]


def test_a_step_that_fails_prints_no_last_line():
    clock, out = Clock(), io.StringIO()
    with pytest.raises(RuntimeError), \
            Progress(10, "Evaluating", "questions", stream=out, clock=clock) as progress:
        progress.update(3)
        raise RuntimeError
    assert out.getvalue() == ""


def test_a_step_of_nothing_shows_nothing():
    out = io.StringIO()
    with Progress(0, "Embedding", "sentences", stream=out):
        pass
    assert out.getvalue() == ""


def test_a_count_past_its_total_grows_the_total_and_one_short_still_ends_done():
    # Files added or removed between counting them and reading them.
    clock, out = Clock(), io.StringIO()
    with Progress(2, "Reading", "files", stream=out, interval=0, clock=clock) as progress:
        clock.now += 3
        progress.update(3)
    assert _lines(out) == ["Reading: 3/3 files (100%), done in 3 s"]
    out = io.StringIO()
    with Progress(3, "Reading", "files", stream=out, interval=10, clock=clock) as progress:
        clock.now += 4
        progress.update(2)
    assert _lines(out) == ["Reading: 2/3 files (66%), done in 4 s"]


def test_a_step_of_no_total_stays_quiet_whatever_it_counts():
    out = io.StringIO()
    with Progress(0, "Embedding", "passages", stream=out, interval=0) as progress:
        progress.update(5)
    assert out.getvalue() == ""


def test_a_terminal_gets_a_bar_and_no_lines():
    out = Terminal()
    for _ in tracked(range(3), 3, "Evaluating", "questions", stream=out):
        pass
    text = out.getvalue()
    assert "\r" in text and "3/3" in text and "Evaluating" in text
    assert "(100%), done in" not in text


def test_tracked_counts_each_item_and_ends_with_a_line():
    clock, out = Clock(), io.StringIO()
    seen = []
    for item in tracked("abcd", 4, "Gathering", "questions", stream=out, interval=10,
                        clock=clock):
        seen.append(item)
        clock.now += 6
    assert seen == list("abcd")
    # Lines at 12 s (2 done) and 24 s (4 done: the last line, from the end, not update).
    assert _lines(out) == [
        "Gathering: 2/4 questions (50%), 12 s elapsed, about 12 s left",
        "Gathering: 4/4 questions (100%), done in 24 s"]


@pytest.mark.parametrize("seconds, text", [
    (0.2, "0 s"), (41, "41 s"), (59.6, "1 min 0 s"), (145, "2 min 25 s"),
    (3900, "1 h 5 min")])
def test_durations_read_as_people_write_them(seconds, text):
    assert duration(seconds) == text


FINAL = re.compile(r"Embedding: (\d+)/\1 (passages|sentences) \(100%\), done in \d+ s")
EVERY = re.compile(r"Embedding: \d+/\d+ (passages|sentences) \(\d+%\), \d+ s elapsed, "
                   r"about \d+ s left")


def test_a_build_to_a_log_prints_progress_lines_with_counts_and_a_last_line(
        runner, corpus, monkeypatch):
    monkeypatch.setattr(progress_module, "INTERVAL_S", 0)  # a line at every count
    result = runner.invoke(cli, ["build", "--corpus", str(corpus)])
    assert result.exit_code == 0, result.output
    lines = result.stderr.splitlines()
    steps = [line for line in lines if EVERY.fullmatch(line)]
    assert "Embedding: 1/8 passages (12%)" in steps[0]
    # Sentence vectors come out of the passages' pass (encoders.pooling): one step.
    assert {EVERY.fullmatch(line).group(1) for line in steps} == {"passages"}
    ends = [FINAL.fullmatch(line) for line in lines if FINAL.fullmatch(line)]
    assert [(m.group(1), m.group(2)) for m in ends] == [("8", "passages")]
    assert "\r" not in result.stderr  # no bar redrawn into the log
    # The lines come before the summary, each step's last line after its counts.
    assert lines.index(ends[0].group(0)) > lines.index(steps[0])
    assert lines.index(ends[0].group(0)) < next(
        i for i, line in enumerate(lines) if line.startswith("Indexed"))


def test_a_quick_build_to_a_log_prints_only_each_steps_last_line(runner, corpus):
    result = runner.invoke(cli, ["build", "--corpus", str(corpus)])
    assert result.exit_code == 0, result.output
    progress = [line for line in result.stderr.splitlines() if line.startswith("Embedding")]
    assert len(progress) == 1 and all(FINAL.fullmatch(line) for line in progress)
    reading = [line for line in result.stderr.splitlines() if line.startswith("Reading")]
    assert len(reading) == 1 and READ_FINAL.fullmatch(reading[0])


def test_sentences_embedded_alone_are_a_step_of_their_own(runner, corpus, monkeypatch):
    monkeypatch.setenv("QA_SENTENCE_VECTORS", "separate")
    result = runner.invoke(cli, ["build", "--corpus", str(corpus)])
    assert result.exit_code == 0, result.output
    ends = [m.group(2) for m in map(FINAL.fullmatch, result.stderr.splitlines()) if m]
    assert ends == ["passages", "sentences"]


READ_EVERY = re.compile(r"Reading: (\d+)/(\d+) (files|documents) \(\d+%\), \d+ s elapsed, "
                        r"about \d+ s left")
READ_FINAL = re.compile(r"Reading: (\d+)/\1 (files|documents) \(100%\), done in \d+ s")


def _reading(lines: list[str]) -> list[str]:
    """Return the reading lines, each cut to its count (times vary from run to run)."""
    found = [line for line in lines if line.startswith("Reading")]
    assert all(READ_EVERY.fullmatch(line) for line in found[:-1]), found
    assert found and READ_FINAL.fullmatch(found[-1]), found
    return [line.split("%)")[0] + "%)" for line in found]


def test_a_build_to_a_log_counts_the_files_it_reads_before_it_embeds(
        runner, corpus, monkeypatch):
    monkeypatch.setattr(progress_module, "INTERVAL_S", 0)  # a line at every count
    (corpus / "notes.csv").write_text("a,b\n", "utf-8")  # no reader: not counted
    (corpus / "blank.txt").write_text("\n", "utf-8")  # a document file, read and left out
    result = runner.invoke(cli, ["build", "--corpus", str(corpus)])
    assert result.exit_code == 0, result.output
    lines = result.stderr.splitlines()
    assert _reading(lines) == [
        "Reading: 1/4 files (25%)", "Reading: 2/4 files (50%)", "Reading: 3/4 files (75%)",
        "Reading: 4/4 files (100%)"]
    last = next(line for line in lines if line.startswith("Reading: 4/4"))
    assert lines.index(last) < next(
        i for i, line in enumerate(lines) if line.startswith("Embedding"))
    assert "\r" not in result.stderr


def test_a_beir_build_counts_the_documents_of_its_corpus_jsonl(runner, tmp_path, monkeypatch):
    monkeypatch.setattr(progress_module, "INTERVAL_S", 0)
    folder = tmp_path / "beir"
    folder.mkdir()
    rows = [{"_id": str(i), "title": f"Report {i}", "text": f"The ferry number {i} crossed "
             "the bay twice on Monday, the harbour office said in its weekly report."}
            for i in range(3)]
    (folder / "corpus.jsonl").write_text("\n".join(json.dumps(r) for r in rows), "utf-8")
    result = runner.invoke(cli, ["build", "--corpus", str(folder)])
    assert result.exit_code == 0, result.output
    assert _reading(result.stderr.splitlines()) == [
        "Reading: 1/3 documents (33%)", "Reading: 2/3 documents (66%)",
        "Reading: 3/3 documents (100%)"]


def test_building_from_code_shows_no_progress_unless_asked(settings, encoder, capsys,
                                                           monkeypatch):
    monkeypatch.setattr(progress_module, "INTERVAL_S", 0)  # any step asked would print
    build_index(settings, encoder)
    assert capsys.readouterr().err == ""
    build_index(settings, encoder, full=True, progress=True)
    lines = capsys.readouterr().err.splitlines()
    assert _reading(lines) == [
        "Reading: 1/3 files (33%)", "Reading: 2/3 files (66%)", "Reading: 3/3 files (100%)"]
    assert [m.group(2) for m in map(FINAL.fullmatch, lines) if m] == ["passages"]
