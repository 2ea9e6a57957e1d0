"""The index folder: versions side by side, `current` naming the live one.

    index/
      current -> v-20261123T084800Z-1a2b   (a relative symlink, replaced in one rename)
      v-20261123T084800Z-1a2b/            (manifest.json, passages.sqlite, ...)
      .work-*/                            (a build in progress, or one that died)

A process that has a version loaded holds a shared flock on its manifest; a build deletes
old versions only when it can lock them exclusively, so it never pulls one from under a
server that still reads it.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import logging
import os
import secrets
import shutil
from collections.abc import Callable
from functools import partial
from pathlib import Path

from qa_service.errors import IndexCorrupt, IndexMissing
from qa_service.store.manifest import MANIFEST

CURRENT = "current"
LOCK = ".build.lock"
_WORK_PREFIX = ".work-"
_VERSION_PREFIX = "v-"

log = logging.getLogger(__name__)


def resolve(root: Path) -> Path:
    """Return the folder of the live index under `root` (or `root` itself if it is one)."""
    root = Path(root)
    link = root / CURRENT
    if link.exists():
        return link.resolve()
    if (root / MANIFEST).exists():
        return root
    raise IndexMissing(f"no index in {root}: run `qa-service build` first")


def new_work_folder(root: Path) -> Path:
    """Create an empty folder for a build, on the same file system as the index."""
    path = Path(root) / f"{_WORK_PREFIX}{os.getpid()}-{secrets.token_hex(4)}"
    path.mkdir()
    return path


def publish(root: Path, work: Path) -> Path:
    """Turn a finished work folder into a version and point `current` at it atomically."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
    final = Path(root) / f"{_VERSION_PREFIX}{stamp}-{secrets.token_hex(2)}"
    os.rename(work, final)
    tmp_link = Path(root) / f".{CURRENT}-{secrets.token_hex(4)}"
    os.symlink(final.name, tmp_link)
    os.replace(tmp_link, Path(root) / CURRENT)  # rename(2) is atomic: no moment without one
    _fsync_dir(root)
    return final


def remove_leftovers(root: Path) -> None:
    """Delete work folders of builds that died (call with the build lock held)."""
    for path in Path(root).glob(f"{_WORK_PREFIX}*"):
        shutil.rmtree(path, ignore_errors=True)
    for path in Path(root).glob(f".{CURRENT}-*"):
        path.unlink(missing_ok=True)


def hold(folder: Path) -> Callable[[], None]:
    """Mark a loaded index folder in use until the returned function is called."""
    manifest = Path(folder) / MANIFEST
    try:
        fd = os.open(manifest, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        raise IndexCorrupt(f"{manifest} is missing: the index is incomplete; rebuild it") from None
    fcntl.flock(fd, fcntl.LOCK_SH)  # waits only while a build is deleting this very folder
    if os.fstat(fd).st_nlink == 0:
        os.close(fd)
        raise IndexCorrupt(f"{folder} was deleted by a newer build; load the current one")
    return partial(os.close, fd)  # closing the descriptor drops the lock


def prune(root: Path, keep: Path) -> None:
    """Delete old versions, keeping `keep`, the one before it and any a process has loaded."""
    versions = sorted(p for p in Path(root).glob(f"{_VERSION_PREFIX}*") if p.is_dir())
    older = [p for p in versions if p.name < keep.name]
    # The one before `keep` stays even unlocked: a reader may have resolved `current` to
    # it and not yet taken its lock.
    for path in older[:-1]:
        if not _remove_unused(path):
            log.info("kept %s: a running process still reads it", path)


def _remove_unused(path: Path) -> bool:
    try:
        fd = os.open(path / MANIFEST, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:  # no manifest: nothing can load it
        shutil.rmtree(path, ignore_errors=True)
        return True
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        shutil.rmtree(path, ignore_errors=True)
        return True
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
