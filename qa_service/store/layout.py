"""The index folder: versions side by side, `current` naming the live one.

    index/
      current -> v-20261123T084800Z-1a2b   (a relative symlink, replaced in one rename)
      v-20261123T084800Z-1a2b/            (manifest.json, passages.sqlite, ...)
      .work-*/                            (a build in progress, or one that died)
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import shutil
from pathlib import Path

from qa_service.errors import IndexMissing
from qa_service.store.manifest import MANIFEST

CURRENT = "current"
LOCK = ".build.lock"
_WORK_PREFIX = ".work-"
_VERSION_PREFIX = "v-"


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


def prune(root: Path, keep: Path) -> None:
    """Delete old versions, keeping `keep` and the one before it for readers still on it."""
    versions = sorted(p for p in Path(root).glob(f"{_VERSION_PREFIX}*") if p.is_dir())
    older = [p for p in versions if p.name < keep.name]
    for path in older[:-1]:
        shutil.rmtree(path, ignore_errors=True)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
