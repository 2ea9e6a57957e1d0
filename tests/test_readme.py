"""The README's command lines run on the shipped corpus as written (with the fake model)."""

from __future__ import annotations

import re
import shlex
import shutil

import pytest

from qa_service.cli.main import cli
from tests.conftest import REPO

# Commands that need a server, a terminal or a cluster, or show usage ([options]).
NOT_RUN = re.compile(r"\b(serve|chat)\b|--server|--engine|\[|\|")


def readme_lines() -> list[str]:
    """Return the README's shell lines, continuations joined, from its sh blocks."""
    text = (REPO / "README.md").read_text("utf-8")
    lines: list[str] = []
    for block in re.findall(r"```sh\n(.*?)```", text, re.S):
        lines += block.replace("\\\n", " ").splitlines()
    return [line.strip() for line in lines if line.strip()]


COMMANDS = [line for line in readme_lines()
            if line.startswith(".venv/bin/qa-service ") and not NOT_RUN.search(line)]


def test_the_readme_has_commands_to_run():
    assert len(COMMANDS) >= 6
    assert any(" add " in c for c in COMMANDS) and any("--where" in c for c in COMMANDS)


@pytest.fixture(scope="module")
def shipped(tmp_path_factory):
    """A copy of the shipped corpus, built once with the fake model, as the cwd."""
    folder = tmp_path_factory.mktemp("readme")
    shutil.copytree(REPO / "corpus", folder / "corpus")
    return folder


def test_every_readme_command_line_runs_on_the_shipped_corpus(shipped, runner, monkeypatch):
    monkeypatch.chdir(shipped)
    monkeypatch.setenv("QA_INDEX_DIR", str(shipped / "index"))
    assert runner.invoke(cli, ["build"]).exit_code == 0
    for line in readme_lines():  # in order: a file made by printf is then added
        if line.startswith("printf "):
            text, target = shlex.split(line)[1], line.rsplit("> ", 1)[1].strip()
            (shipped / target).write_text(text.replace("\\n", "\n"))
        elif line in COMMANDS:
            args = shlex.split(line, comments=True)[1:]
            result = runner.invoke(cli, args)
            assert result.exit_code == 0, f"{line}\n{result.output}"
    # add, then remove: the corpus is as shipped, its metadata file byte for byte.
    assert (shipped / "corpus" / "sources.toml").read_bytes() == (
        REPO / "corpus" / "sources.toml").read_bytes()
    assert sorted(p.name for p in (shipped / "corpus").iterdir()) == sorted(
        p.name for p in (REPO / "corpus").iterdir())
