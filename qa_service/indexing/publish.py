"""Write versions into the index folder: work folders, the atomic switch of `current`, pruning.

A build writes a new version folder beside the live one and then swaps the `current`
link in one rename, so a reader sees either the old index or the new one, never a mix,
and a build that dies half-way leaves the previous index whole. See store.layout for the
folder's shape and the shared lock a reader holds on the version it loaded.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import logging
import os
import secrets
import shutil
from contextlib import contextmanager
from pathlib import Path

from qa_service.errors import QAError
from qa_service.store.layout import CURRENT
from qa_service.store.manifest import MANIFEST
from qa_service.store.names import VERSION_PREFIX

LOCK = ".build.lock"
_WORK_PREFIX = ".work-"

log = logging.getLogger(__name__)


class BuildBusy(QAError):
    """Another build holds the index folder's lock."""

    status = 409
    code = "build_running"


@contextmanager
def build_lock(root: Path):
    """Let one build at a time work in `root`; a second one fails at once."""
    with open(Path(root) / LOCK, "w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BuildBusy(f"another build is writing to {root}; try again when it ends") from None
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def new_work_folder(root: Path) -> Path:
    """Create an empty folder for a build, on the same file system as the index."""
    path = Path(root) / f"{_WORK_PREFIX}{os.getpid()}-{secrets.token_hex(4)}"
    path.mkdir()
    return path


def fsync_folder(folder: Path) -> None:
    """Flush every file of a folder to disk, before a rename makes them visible."""
    for path in folder.iterdir():
        with open(path, "rb") as fh:
            os.fsync(fh.fileno())


def publish(root: Path, work: Path) -> Path:
    """Turn a finished work folder into a version and point `current` at it atomically."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
    final = Path(root) / f"{VERSION_PREFIX}{stamp}-{secrets.token_hex(2)}"
    os.rename(work, final)
    tmp_link = Path(root) / f".{CURRENT}-{secrets.token_hex(4)}"
    try:
        os.symlink(final.name, tmp_link)  # fails when no inode is left
        os.replace(tmp_link, Path(root) / CURRENT)  # rename(2) is atomic: never without one
    except BaseException:
        # Never made current, so no reader has it: no orphaned version is left behind.
        tmp_link.unlink(missing_ok=True)
        shutil.rmtree(final, ignore_errors=True)
        raise
    _fsync_dir(root)
    return final


def remove_leftovers(root: Path) -> None:
    """Delete work folders of builds that died (call with the build lock held)."""
    for path in Path(root).glob(f"{_WORK_PREFIX}*"):
        shutil.rmtree(path, ignore_errors=True)
    for path in Path(root).glob(f".{CURRENT}-*"):
        path.unlink(missing_ok=True)


def prune(root: Path, keep: Path) -> None:
    """Delete old versions, keeping `keep`, the one before it and any a process has loaded."""
    versions = sorted(p for p in Path(root).glob(f"{VERSION_PREFIX}*") if p.is_dir())
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
