"""Collections: several named indexes, each with its corpus folder, served by one server.

Configured as `QA_COLLECTIONS="news=archive/news,science=/data/papers"`: each name's
index lives in `<index_dir>/<name>/`, and the first is the default (asked when a
request names none). Without the setting there is one collection, `default`, built
from `corpus` into `index_dir` itself, as before collections existed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from qa_service.config import Settings
from qa_service.errors import InvalidInput, NotFound

DEFAULT = "default"
# A name is a path segment, a metric label and a word in a URL: short, plain.
NAME_RE = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")
# Names the index folder already uses for its own entries.
RESERVED = ("current", "eval")
RESERVED_PREFIX = "v-"
MAX_COLLECTIONS = 50


@dataclass(frozen=True)
class Collection:
    """One collection: its name and the settings that point at its corpus and index."""

    name: str
    settings: Settings


def collections(settings: Settings) -> list[Collection]:
    """Return the configured collections, the default first, or raise InvalidInput."""
    spec = settings.collections.strip()
    if not spec:
        return [Collection(DEFAULT, settings)]
    found: dict[str, Collection] = {}
    for item in spec.split(","):
        name, sep, corpus = item.strip().partition("=")
        name, corpus = name.strip(), corpus.strip()
        if not sep or not corpus:
            raise InvalidInput(f"setting collections: {item.strip()[:60]!r} is not "
                               "NAME=CORPUS_FOLDER (e.g. news=archive/news)")
        check_name(name)
        if name in found:
            raise InvalidInput(f"setting collections names {name!r} twice")
        found[name] = Collection(name, settings.with_(
            corpus=Path(corpus).expanduser(), index_dir=Path(settings.index_dir) / name))
    if len(found) > MAX_COLLECTIONS:
        raise InvalidInput(f"setting collections lists {len(found)}; at most "
                           f"{MAX_COLLECTIONS}")
    return list(found.values())


def check_name(name: str) -> str:
    """Return `name` if it can name a collection, or raise InvalidInput."""
    if not NAME_RE.fullmatch(name) or name in RESERVED or name.startswith(RESERVED_PREFIX):
        raise InvalidInput(f"collection name {name[:60]!r} must be 1-40 lower-case letters, "
                           f"digits, _ or -, not {', '.join(RESERVED)} or v-...")
    return name


def choose(found: list[Collection], name: str | None) -> Collection:
    """Return the collection called `name` (None: the default), or raise NotFound."""
    if name is None:
        return found[0]
    if not isinstance(name, str):
        raise InvalidInput("collection must be a collection's name")
    for collection in found:
        if collection.name == name:
            return collection
    names = ", ".join(c.name for c in found[:20])
    raise NotFound(f"no collection {name[:60]!r}; the collections are: {names}")


def collection_settings(settings: Settings, name: str | None) -> Settings:
    """Return the settings of collection `name` (None: the default), for one command."""
    return choose(collections(settings), name).settings
