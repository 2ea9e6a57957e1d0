"""What the commands share: settings from options, one-line errors, and common options."""

from __future__ import annotations

import functools
from pathlib import Path

import click

from qa_service.config import Settings
from qa_service.errors import InvalidInput, QAError

PATH = click.Path(path_type=Path)


def domain_errors(func):
    """Report domain and file-system errors as one line on stderr with a non-zero exit."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except QAError as exc:
            raise click.ClickException(exc.message) from None
        except OSError as exc:
            raise click.ClickException(f"{exc.strerror or exc}: {exc.filename or ''}".rstrip(
                ": ")) from None
        except KeyboardInterrupt:
            raise click.Abort() from None

    return wrapper


def settings(collection: str | None = None, **overrides) -> Settings:
    """Return the settings: defaults, then `QA_*` variables, then the options given; with
    collections configured (QA_COLLECTIONS), those of `collection` (None: the default)."""
    from qa_service.collections import collection_settings

    return collection_settings(Settings.from_env(**overrides), collection)


collection_option = click.option(
    "--collection", envvar="QA_COLLECTION", metavar="NAME",
    help="The collection to use, of those QA_COLLECTIONS names (with --server: of the "
         "server's) [the first].")


index_dir_option = click.option("--index-dir", type=PATH, envvar="QA_INDEX_DIR",
                                help="Index folder [index].")

server_option = click.option(
    "--server", envvar="QA_SERVER", metavar="URL",
    help="Ask a running service (e.g. http://127.0.0.1:8000) instead of loading the index; "
         "its API key, if it needs one, is read from QA_API_KEY.")

top_k_option = click.option("-k", "--top-k", type=int,
                            help="How many passages to return (1-20) [5].")


def parse_where(ctx, param, given: tuple[str, ...]) -> dict:
    """Turn --where FIELD=VALUE, FIELD>=DATE and FIELD<=DATE into the API's `where`."""
    from qa_service.search.filters import where_of  # here: the search package is heavy

    try:
        return where_of(list(given), "--where")
    except InvalidInput as exc:
        raise click.BadParameter(exc.message, ctx, param) from None


def filter_options(func):
    """Add --source, --since, --until and --where."""
    func = click.option("--where", "where", multiple=True, callback=parse_where,
                        metavar="FIELD=VALUE",
                        help="Only documents whose metadata FIELD is VALUE (repeat a field "
                             "for any of several values), or FIELD>=DATE / FIELD<=DATE; "
                             "repeatable.")(func)
    func = click.option("--until", metavar="YYYY-MM-DD",
                        help="Only documents dated on or before this day.")(func)
    func = click.option("--since", metavar="YYYY-MM-DD",
                        help="Only documents dated on or after this day.")(func)
    func = click.option("--source", "sources", multiple=True,
                        help="Only documents of this publisher; repeatable.")(func)
    return func
