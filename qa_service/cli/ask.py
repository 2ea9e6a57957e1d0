"""`qa-service ask` and `qa-service chat`: questions answered here or by a running server."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import click

from qa_service.cli.common import (
    collection_option,
    domain_errors,
    filter_options,
    index_dir_option,
    server_option,
    settings,
    top_k_option,
)
from qa_service.cli.render import render
from qa_service.errors import QAError


def answerer(server: str | None, index_dir: Path | None, collection: str | None = None):
    """Return a function that answers a request body, here or on a running server."""
    if server:
        from qa_service.cli.remote import ask_remote

        named = {"collection": collection} if collection else {}
        return lambda body: ask_remote(server, {**body, **named})
    from qa_service.service import Service

    service = Service.load(settings(collection, index_dir=index_dir))
    reason = service.stale()
    if reason:
        click.echo(f"warning: the index is stale ({reason}); run `qa-service build` "
                   "to update it", err=True)
    return service.ask


def request_body(question, history, top_k, sources, since, until, explain=False,
                 where=None) -> dict:
    """Build the request body the API takes, from the command's options."""
    body: dict = {"question": question, "history": list(history)}
    if explain:
        body["explain"] = True
    if top_k is not None:
        body["top_k"] = top_k
    filters = {k: v for k, v in (("sources", list(sources)), ("date_from", since),
                                 ("date_to", until), ("where", where)) if v}
    if filters:
        body["filters"] = filters
    return body


@click.command()
@click.argument("question")
@top_k_option
@click.option("--history", multiple=True,
              help="An earlier question of the conversation, oldest first; repeatable.")
@filter_options
@index_dir_option
@collection_option
@server_option
@click.option("--explain", is_flag=True, help="Show how each passage got its rank.")
@click.option("--json", "as_json", is_flag=True, help="Print the JSON response body.")
@domain_errors
def ask(question, top_k, history, sources, since, until, where, index_dir, collection,
        server, explain, as_json) -> None:
    """Answer QUESTION ('-' reads it from stdin) with ranked, attributed passages."""
    if question == "-":
        question = sys.stdin.read()
    body = request_body(question, history, top_k, sources, since, until, explain, where)
    answer = answerer(server, index_dir, collection)(body)
    if as_json:
        click.echo(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2))
    else:
        click.echo(render(answer))


CHAT_HELP = """Commands:
  /new   start a new conversation (forget the earlier questions)
  /quit  end (also /exit or Ctrl-D)
  /help  show this list (also /?)
Anything else is a question; follow-ups use the conversation so far."""
COMMANDS = ("/new", "/quit", "/exit", "/help", "/?")
# A line whose first word reads as a command ("/bogus", "/new please"); "/etc/hosts ..."
# or "/ 2" do not, and stay questions.
COMMAND_RE = re.compile(r"/[A-Za-z]+|/\?")


def command_of(line: str) -> str | None:
    """Return the command that `line` starts with, or None when it is a question."""
    word = line.split(maxsplit=1)[0] if line else ""
    return word if COMMAND_RE.fullmatch(word) else None


@click.command()
@top_k_option
@filter_options
@index_dir_option
@collection_option
@server_option
@domain_errors
def chat(top_k, sources, since, until, where, index_dir, collection, server) -> None:
    """Ask questions in a loop; follow-ups use the conversation so far (/new resets it)."""
    from qa_service.search import MAX_HISTORY

    answer_body = answerer(server, index_dir, collection)
    click.echo("Ask a question (/new starts a new conversation, /quit or Ctrl-D ends, "
               "/help lists the commands).")
    history: list[str] = []
    while True:
        try:
            question = input("> ").strip()
        except EOFError:
            click.echo()
            return
        if not question:
            continue
        command = command_of(question)
        if command in ("/quit", "/exit"):
            return
        if command == "/new":
            history = []
            click.echo("New conversation.")
            continue
        if command in ("/help", "/?"):
            click.echo(CHAT_HELP)
            continue
        if command:  # a mistyped command: searching it would answer something not asked
            click.echo(f"Unknown command {command}; the commands are {', '.join(COMMANDS)}.")
            continue
        try:
            answer = answer_body(request_body(question, history[-MAX_HISTORY:], top_k,
                                              sources, since, until, where=where))
        except QAError as exc:
            click.echo(f"Error: {exc.message}", err=True)
            continue
        click.echo(render(answer))
        history.append(question)
