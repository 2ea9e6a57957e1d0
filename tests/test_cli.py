"""The command line: build, ask (readable and --json), chat, and one-line errors."""

from __future__ import annotations

import json
import re

import pytest

from qa_service import __version__
from qa_service.cli import cli

CONTRACT = {"question", "query", "answerable", "confidence", "took_ms", "passages", "index"}
PASSAGE = {"id": str, "rank": int, "score": float, "text": str, "highlight": str,
           "doc_id": str, "title": str, "source": str, "date": (str, type(None)),
           "paragraph": int, "url": (str, type(None)), "page": (int, type(None)),
           "metadata": dict}


@pytest.fixture
def cli_built(runner, corpus):
    result = runner.invoke(cli, ["build", "--corpus", str(corpus)])
    assert result.exit_code == 0, result.output
    return corpus


def test_version_and_short_help(runner):
    assert __version__ in runner.invoke(cli, ["--version"]).output
    result = runner.invoke(cli, ["-h"])
    assert result.exit_code == 0
    for command in ("build", "ask", "chat"):
        assert command in result.output


def test_build_prints_a_summary_line(runner, corpus):
    result = runner.invoke(cli, ["build", "--corpus", str(corpus)])
    assert result.exit_code == 0
    assert "Indexed 3 documents, 8 passages" in result.stderr
    assert "Cleaning removed" in result.stderr  # what each furniture rule took, one line


def test_build_if_stale_skips_an_up_to_date_index_and_rebuilds_a_stale_one(runner, cli_built):
    result = runner.invoke(cli, ["build", "--corpus", str(cli_built), "--if-stale"])
    assert "up to date" in result.stderr and "Indexed" not in result.stderr
    (cli_built / "extra.txt").write_text("A story about the harbour ferry timetable "
                                         "changing in the spring.", "utf-8")
    result = runner.invoke(cli, ["build", "--corpus", str(cli_built), "--if-stale"])
    assert "1 added" in result.stderr and "Indexed 4 documents" in result.stderr


def test_ask_json_prints_exactly_the_response_body(runner, cli_built):
    result = runner.invoke(cli, ["ask", "--json", "-k", "3", "Who is the museum director?"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert CONTRACT <= set(body) <= CONTRACT | {"sources"}  # sources: several reports
    assert body["question"] == "Who is the museum director?"
    assert isinstance(body["answerable"], bool) and isinstance(body["took_ms"], float)
    assert len(body["passages"]) == 3
    for p in body["passages"]:
        assert set(p) == set(PASSAGE)
        for key, kind in PASSAGE.items():
            assert isinstance(p[key], kind), key
    assert body["passages"][0]["doc_id"] == "more/museum.html"


def test_ask_readable_output_shows_attribution_and_highlight(runner, cli_built):
    result = runner.invoke(cli, ["ask", "When did engineers inspect the Riverside bridge?"])
    assert result.exit_code == 0
    first = result.stdout.split("\n2. ")[0]
    assert "1. Northport Gazette · Flood closes the Riverside bridge" in first
    assert "2021-03-09 · paragraph 2" in first
    assert "> Engineers inspected the bridge at 6.15am" in first
    assert "[flood.txt ¶2]" in first


def test_ask_reads_the_question_from_stdin(runner, cli_built):
    result = runner.invoke(cli, ["ask", "--json", "-"], input="Who is the museum director?\n")
    assert json.loads(result.stdout)["question"] == "Who is the museum director?"


def test_ask_with_history_reports_the_query_it_ran(runner, cli_built):
    result = runner.invoke(cli, ["ask", "--json", "How much did it cost?",
                                 "--history", "What happened at the Harbour Museum?"])
    body = json.loads(result.stdout)
    assert "Harbour Museum" in body["query"]


def test_a_stale_index_is_reported_in_one_line(runner, cli_built):
    (cli_built / "flood.txt").write_text("Rewritten.\n\nThe bridge story changed a lot.")
    result = runner.invoke(cli, ["ask", "bridge"])
    assert result.exit_code == 0
    warnings = [line for line in result.stderr.splitlines() if "stale" in line]
    assert len(warnings) == 1 and "qa-service build" in warnings[0]


def test_terminal_output_never_carries_control_sequences(runner, tmp_path):
    corpus = tmp_path / "evil"
    corpus.mkdir()
    (corpus / "evil.txt").write_text(
        "Evil headline for the test\n\nThe harbour \x1b[31mred\x1b[0m text \u202eevil\u202c "
        "is a sentence long enough to stand alone in this document.", "utf-8")
    assert runner.invoke(cli, ["build", "--corpus", str(corpus)]).exit_code == 0
    result = runner.invoke(cli, ["ask", "harbour \x1b[2J"])
    assert "\x1b" not in result.stdout and "\u202e" not in result.stdout
    assert "harbour" in result.stdout


@pytest.mark.parametrize("args, message", [
    (["ask", "anything"], "no index"),
    (["ask", "  "], "no index"),
    (["build", "--corpus", "/nonexistent/corpus"], "corpus not found"),
])
def test_errors_are_one_line_without_traceback(runner, args, message):
    result = runner.invoke(cli, args)
    assert result.exit_code != 0
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output


@pytest.mark.parametrize("args, message", [
    (["ask", ""], "non-empty"),
    (["ask", "-k", "0", "bridge"], "top_k"),
    (["ask", "x" * 1001], "longer than 1000"),
])
def test_bad_questions_are_one_line_errors(runner, cli_built, args, message):
    result = runner.invoke(cli, args)
    assert result.exit_code == 1
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_corrupt_index_is_a_one_line_error_naming_the_file(runner, cli_built, tmp_path):
    live = (tmp_path / "index" / "current").resolve()
    (live / "passages.faiss").write_bytes(b"broken")
    result = runner.invoke(cli, ["ask", "bridge"])
    assert result.exit_code == 1
    assert "passages.faiss" in result.stderr and "Traceback" not in result.output


def test_chat_keeps_the_history_and_new_resets_it(runner, cli_built):
    result = runner.invoke(cli, ["chat", "-k", "1"], input=(
        "What happened at the Harbour Museum?\nHow much did it cost?\n/new\n"
        "How much did it cost?\n/quit\n"))
    assert result.exit_code == 0, result.output
    answers = re.split(r"(?m)^> ", result.stdout)
    assert "Searched for: How much did it cost? (context: What happened at the Harbour" \
           in answers[2]
    assert "New conversation." in result.stdout
    assert "Searched for" not in answers[4]


def test_chat_names_an_unknown_command_instead_of_searching_it(runner, cli_built):
    result = runner.invoke(cli, ["chat"], input="/bogus\n/new please\n/etc/hosts bridge\n/quit\n")
    assert result.exit_code == 0, result.output
    replies = re.split(r"(?m)^> ", result.stdout)
    assert replies[1] == ("Unknown command /bogus; the commands are /new, /quit, /exit, "
                          "/help, /?.\n")  # one line, and nothing was searched
    assert replies[2] == "New conversation.\n"  # a known command, words after it or not
    assert "Northport Gazette" in replies[3]  # a path is no command: a question


def test_chat_reports_a_bad_question_and_goes_on(runner, cli_built):
    result = runner.invoke(cli, ["chat"], input="x" * 1001 + "\nbridge\n")
    assert result.exit_code == 0
    assert "longer than 1000" in result.stderr
    assert "Northport Gazette" in result.stdout


def test_explain_and_sources_in_readable_output(runner, cli_built):
    result = runner.invoke(cli, ["ask", "--explain", "-k", "8", "bridge museum harvest"])
    assert result.exit_code == 0
    assert result.stdout.startswith("From Northport Gazette") or "From " in result.stdout
    assert "why: score " in result.stdout and "lexical " in result.stdout
    assert "terms: " in result.stdout


def test_build_reports_reused_documents_and_full_rebuilds(runner, settings):
    args = ["build", "--corpus", str(settings.corpus), "--index-dir", str(settings.index_dir)]
    first = runner.invoke(cli, args)
    assert first.exit_code == 0 and "0 documents reused, 8 passages embedded" in first.stderr
    again = runner.invoke(cli, args)
    assert again.exit_code == 0 and "3 documents reused, 0 passages embedded" in again.stderr
    full = runner.invoke(cli, [*args, "--full"])
    assert full.exit_code == 0 and "0 documents reused, 8 passages embedded" in full.stderr


def test_build_with_an_unknown_engine_is_refused(runner, settings):
    result = runner.invoke(cli, ["build", "--corpus", str(settings.corpus), "--engine", "spark"])
    assert result.exit_code != 0 and "'spark' is not one of" in result.stderr


@pytest.mark.parametrize("contents", [{}, {"blank.txt": b"\n\n", "image.txt": b"\x00\x01\x02"}])
def test_building_an_empty_corpus_fails_in_one_line_and_keeps_the_old_index(
        runner, cli_built, tmp_path, contents):
    empty = tmp_path / "empty"
    empty.mkdir()
    for name, data in contents.items():
        (empty / name).write_bytes(data)
    result = runner.invoke(cli, ["build", "--corpus", str(empty)])
    assert result.exit_code == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error")]
    assert len(errors) == 1 and "no text to index" in errors[0] and str(empty) in errors[0]
    assert "Traceback" not in result.output
    answer = runner.invoke(cli, ["ask", "--json", "Who is the museum director?"])
    assert answer.exit_code == 0
    assert json.loads(answer.stdout)["passages"][0]["doc_id"] == "more/museum.html"


def test_serve_with_a_malformed_rate_limit_fails_at_once_in_one_line(runner, monkeypatch):
    monkeypatch.setenv("QA_RATE_LIMIT", "sixty a minute")
    result = runner.invoke(cli, ["serve", "--port", "1"])
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        "Error: setting rate_limit must look like '60/minute' or '10/second;300/hour', "
        "got 'sixty a minute'"]


def test_ask_filters_on_any_metadata_field(runner, cli_built):
    result = runner.invoke(cli, ["ask", "bridge museum harvest", "--json", "--top-k", "10",
                                 "--where", "author=Jane Example",
                                 "--where", "date>=2021-01-01", "--where", "date<=2021-12-31"])
    assert result.exit_code == 0, result.output
    passages = json.loads(result.output)["passages"]
    assert passages and {p["doc_id"] for p in passages} == {"flood.txt"}
    assert passages[0]["metadata"] == {"author": "Jane Example", "tags": ["flood", "transport"]}
    assert passages[0]["page"] is None


@pytest.mark.parametrize("args, message", [
    (["--source", "nobody"], "no document has source 'nobody'; its values are: "
     "City Arts Weekly, Northport Gazette, corpus"),
    (["--where", "author"], "expected FIELD=VALUE"),
    (["--where", "date>=June"], "filters.where.date.from must be a date as YYYY-MM-DD"),
])
def test_a_filter_that_cannot_match_is_a_one_line_error(runner, cli_built, args, message):
    result = runner.invoke(cli, ["ask", "bridge", *args])
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output


def test_documents_lists_documents_and_their_sources(runner, cli_built):
    result = runner.invoke(cli, ["documents"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert any(line.startswith("flood.txt\tNorthport Gazette\t2021-03-09\t3\tFlood closes")
               for line in lines)
    assert "3 documents from 3 sources:" in lines
    only = runner.invoke(cli, ["documents", "--sources"]).output.splitlines()
    assert only[0] == "3 documents from 3 sources:" and len(only) == 4
    body = json.loads(runner.invoke(cli, ["documents", "--json"]).output)
    flood = next(d for d in body["documents"] if d["doc_id"] == "flood.txt")
    assert flood["metadata"]["author"] == "Jane Example"


def test_documents_without_an_index_is_a_one_line_error(runner, tmp_path):
    result = runner.invoke(cli, ["documents", "--index-dir", str(tmp_path / "none")])
    assert result.exit_code != 0 and "Traceback" not in result.output


def test_build_counts_read_in_the_singular(runner, tmp_path):
    corpus = tmp_path / "one"
    corpus.mkdir()
    (corpus / "note.txt").write_text("The ferry to the island leaves at six every morning in "
                                     "winter, the harbour office said on Monday.")
    result = runner.invoke(cli, ["build", "--corpus", str(corpus), "--index-dir",
                                 str(tmp_path / "index")])
    assert result.exit_code == 0, result.output
    assert "Indexed 1 document, 1 passage (1 sentence)" in result.stderr
    assert "0 documents reused, 1 passage embedded" in result.stderr


@pytest.mark.parametrize("confidence, shown", [(0.9996, "99%"), (0.996, "99%"), (0.0001, "1%"),
                                               (0.734, "73%")])
def test_confidence_is_never_printed_as_certain(confidence, shown):
    from qa_service.cli.render import render
    from qa_service.response import Answer, PassageResult

    passage = PassageResult(id="a#1", rank=1, score=0.9, text="The bridge held.",
                            highlight="The bridge held.", doc_id="a", title="A",
                            source="S", date=None, paragraph=1, url=None)
    answer = Answer(question="q", query="q", answerable=True, confidence=confidence,
                    took_ms=1.0, passages=[passage], index="v")
    assert f"Confidence {shown} that the first passage answers this." in render(answer)
