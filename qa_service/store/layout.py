"""The index folder as a reader sees it: `current` names the live version.

    index/
      current -> v-20261123T084800Z-1a2b   (a relative symlink, replaced in one rename)
      v-20261123T084800Z-1a2b/            (manifest.json, passages.sqlite, ...)
      .work-*/                            (a build in progress, or one that died)

A process that has a version loaded holds a shared flock on its manifest; a build deletes
old versions only when it can lock them exclusively (qa_service.indexing.publish), so it
never pulls one from under a server that still reads it.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Callable
from functools import partial
from pathlib import Path

from qa_service.errors import IndexCorrupt, IndexMissing
from qa_service.store.manifest import MANIFEST
from qa_service.store.names import named

CURRENT = "current"


def resolve(root: Path) -> Path:
    """Return the folder of the live index under `root` (or `root` itself if it is one)."""
    root = Path(root)
    link = root / CURRENT
    if link.exists():
        return link.resolve()
    if (root / MANIFEST).exists():
        return root
    raise IndexMissing(f"no index in {root}: run `qa-service build` first")


def hold(folder: Path) -> Callable[[], None]:
    """Mark a loaded index folder in use until the returned function is called."""
    manifest = Path(folder) / MANIFEST
    try:
        fd = os.open(manifest, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        raise IndexCorrupt(f"{named(manifest)} is missing: the index is incomplete; "
                           "rebuild it") from None
    fcntl.flock(fd, fcntl.LOCK_SH)  # waits only while a build is deleting this very folder
    if os.fstat(fd).st_nlink == 0:
        os.close(fd)
        raise IndexCorrupt(f"version {Path(folder).name} was deleted by a newer build; "
                           "load the current one")
    return partial(os.close, fd)  # closing the descriptor drops the lock
