"""How an index file is named in a message: by its version, never by its absolute path."""

from __future__ import annotations

from pathlib import Path

VERSION_PREFIX = "v-"


def named(file: Path) -> str:
    """Return "passages.faiss of version v-…" (error messages reach HTTP clients)."""
    file = Path(file)
    folder = file.parent.name
    if folder.startswith(VERSION_PREFIX):
        return f"{file.name} of version {folder}"
    return f"{file.name} of the index"
