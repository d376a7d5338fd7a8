"""One scan at a time per database, across processes.

Two scans of the same library at once would both see a new file as new and both insert it (the
second died with ``UNIQUE constraint failed: tracks.path``), and both would prune. A scan therefore
holds an exclusive ``flock`` on ``<database>.scan-lock`` (a 0600 file next to the database) for its
whole run. A second scan waits for it up to ``SCAN_LOCK_WAIT_S`` and then gives up with
:class:`ScanAlreadyRunningError` ("a scan is already running"). The kernel drops the lock when its
process ends, however it ends (``kill -9`` included), so a crash never leaves it stale.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from pathlib import Path

from player_plugin.store.db import StoreError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no flock; the upserts still keep the rows whole
    fcntl = None  # type: ignore[assignment]

# How long a second scan waits for the first. An incremental rescan of an unchanged library takes
# seconds; a first scan of a big one takes minutes, and then "already running" is the better answer.
SCAN_LOCK_WAIT_S = 10.0
_POLL_S = 0.05  # how often a waiting scan retries the lock
LOCK_SUFFIX = ".scan-lock"


class ScanAlreadyRunningError(StoreError):
    """Another scan of the same database kept its lock for longer than the wait."""


def lock_path(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + LOCK_SUFFIX)


@contextlib.contextmanager
def scan_lock(db_path: Path, wait_s: float = SCAN_LOCK_WAIT_S) -> Iterator[None]:
    """Hold the scan lock of ``db_path`` (no lock for an in-memory database)."""
    if fcntl is None or str(db_path) == ":memory:":
        yield
        return
    path = lock_path(db_path)
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o600)
    except OSError as exc:
        raise StoreError(f"cannot create the scan lock {path}: {exc.strerror or exc}") from exc
    try:
        deadline = time.monotonic() + wait_s
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise ScanAlreadyRunningError(
                        f"a scan is already running on {db_path} (waited {wait_s:g} s); try again when it has finished"
                    ) from None
                time.sleep(_POLL_S)
        yield
    finally:
        os.close(fd)  # releases the lock
