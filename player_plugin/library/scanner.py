"""Walk library folders and bring the database in line with the disk, incrementally.

A scan has three phases:

1. **walk** – list every audio file under the roots with its size and mtime (one ``stat`` each,
   via ``os.scandir``), plus the lyric sidecars next to it. Symlinked folders are followed once;
   a link back to an ancestor is reported as a loop.
2. **read** – files that are new, or whose size, mtime or sidecars changed, are read with mutagen
   and written in batches, one transaction per batch. A scan killed mid-way therefore leaves every
   finished batch in place and nothing half-written; the next scan sees those files as unchanged
   and carries on with the rest. A file a CUE sheet cuts (library/cue.py) is read as the sheet's
   tracks, a row each; all of a file's rows are compared with it and read again together.
3. **prune** – tracks whose files are gone are removed, but only after a complete, uncancelled
   walk, and never under a root that could not be listed (an unplugged drive must not wipe the
   library). A new file whose tags and duration match a vanished one is treated as a move: the old
   row takes the new path and keeps its id, vectors and play history.

Bad files never stop a scan: each is skipped and reported with a reason in ``ScanReport.failures``.
"""

from __future__ import annotations

import multiprocessing
import os
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

from player_plugin.library.emptied import emptied_folders
from player_plugin.library.errors import ScanFailure
from player_plugin.library.read_phase import _ReadResult, read_file, read_files
from player_plugin.library.scan_lock import SCAN_LOCK_WAIT_S, ScanAlreadyRunningError, scan_lock
from player_plugin.library.walk import Found, display_path, valid_name, walk
from player_plugin.models import TAGS_VERSION
from player_plugin.store.db import Database
from player_plugin.store.tracks import FileState, ScannedFile, TrackRepository, fingerprint, is_under
from player_plugin.store.unreadable import UnreadableRepository


@dataclass(frozen=True, slots=True)
class ScanProgress:
    """A snapshot for progress bars. ``total`` is None while the walk is still counting."""

    phase: str  # "walk", "read", "prune", "done"
    seen: int  # audio files found so far
    done: int  # files finished in the read phase (read, unchanged or failed)
    total: int | None  # files to look at in the read phase
    current: str = ""
    added: int = 0
    updated: int = 0
    failed: int = 0


BAD_ROOT_NAME = "folder name is not valid UTF-8 (paths are stored as UTF-8): not scanned"

__all__ = ["ScanAlreadyRunningError", "ScanFailure", "ScanProgress", "ScanReport", "Scanner"]


@dataclass
class ScanReport:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    moved: int = 0
    removed: int = 0
    failures: list[ScanFailure] = field(default_factory=list)
    warnings: list[ScanFailure] = field(default_factory=list)
    cancelled: bool = False
    seconds: float = 0.0

    @property
    def failed(self) -> int:
        return len(self.failures)

    def as_dict(self) -> dict:
        return {
            "added": self.added,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "moved": self.moved,
            "removed": self.removed,
            "failed": self.failed,
            "cancelled": self.cancelled,
            "seconds": round(self.seconds, 3),
            "failures": [{"path": f.path, "reason": f.reason} for f in self.failures],
            "warnings": [{"path": f.path, "reason": f.reason} for f in self.warnings],
        }


ProgressFn = Callable[[ScanProgress], None]
CancelFn = Callable[[], bool]


def default_workers() -> int:
    """Tag-reading processes for big scans.

    mutagen is pure Python, so only processes read tags in parallel; but each result is pickled
    back to the writer, and on a 2-core machine that costs more than it saves (bench/scan.py:
    2 workers ran at 0.6x one process there). So: one process up to 2 cores, then cores - 1
    (the writer keeps one), at most 4 (the disk is the limit beyond that).
    """
    cores = os.cpu_count() or 1
    return 1 if cores <= 2 else min(4, cores - 1)


class Scanner:
    """Scans folders into a database. Thread-confined: create and use it on one thread.

    ``batch_size`` files are written per transaction and progress is reported once per batch
    (and every ``progress_interval`` seconds during the walk), so a UI can follow without being
    flooded.
    """

    def __init__(
        self,
        db: Database,
        *,
        batch_size: int = 200,
        workers: int | None = None,
        parallel_threshold: int = 2000,
        progress_interval: float = 0.1,
        clock: Callable[[], float] = time.monotonic,
        lock_wait_s: float = SCAN_LOCK_WAIT_S,
    ) -> None:
        self.db = db
        self.tracks = TrackRepository(db)
        self.batch_size = batch_size
        self.workers = default_workers() if workers is None else max(1, workers)
        self.parallel_threshold = parallel_threshold
        self.progress_interval = progress_interval
        self._clock = clock
        self.lock_wait_s = lock_wait_s

    # -- public ----------------------------------------------------------------------------------

    def scan(
        self,
        roots: Iterable[str | os.PathLike[str]],
        progress: ProgressFn | None = None,
        cancel: CancelFn | threading.Event | None = None,
        library_roots: Iterable[str] | None = None,
        deleted: Iterable[str] = (),
    ) -> ScanReport:
        """Scan ``roots``; waits up to ``lock_wait_s`` for another scan of this database to end,
        then raises ``ScanAlreadyRunningError``.

        With ``library_roots``, ``roots`` are folders inside those (the ones a watcher saw change,
        library/watch.py) and each is scanned as part of its library folder: a folder that is gone
        is empty (its tracks go, as in a scan of the whole library folder, where it would not be
        found), and the rule for a folder that suddenly holds nothing (library/emptied.py) looks at
        the library folder and its top folders, as a whole scan's does. A track under ``deleted`` (paths
        the watcher saw deleted or moved away) is not kept by that rule: its file is known to be gone."""
        self.db.conn  # noqa: B018 - opens (creates) the database first: the lock file lies next to it
        with scan_lock(self.db.path, self.lock_wait_s):
            return self._scan(roots, progress, cancel, _unique_roots(library_roots or []), list(deleted))

    def _scan(
        self,
        roots: Iterable[str | os.PathLike[str]],
        progress: ProgressFn | None,
        cancel: CancelFn | threading.Event | None,
        library_roots: list[str],
        deleted: list[str],
    ) -> ScanReport:
        started = self._clock()
        report = ScanReport()
        is_cancelled = _cancel_fn(cancel)
        emit = progress or (lambda _p: None)

        root_paths = []
        for root in _unique_roots(roots):
            if valid_name(root):
                root_paths.append(root)
            else:  # no path under it could be stored (paths are UTF-8 text): one line, the rest goes on
                report.failures.append(ScanFailure(display_path(root), BAD_ROOT_NAME))
        found: dict[str, Found] = {}
        # Paths under which "not seen" must not mean "gone": unreadable folders, missing roots.
        uncertain: list[str] = []
        last_emit = self._clock()
        for root in root_paths:
            if not os.path.lexists(root) and any(is_under(root, r) and os.path.isdir(r) for r in library_roots):
                continue  # a folder gone from its library folder: nothing under it now
            if not os.path.isdir(root):
                reason = "folder not found" if not os.path.exists(root) else "not a folder"
                report.failures.append(ScanFailure(display_path(root), reason))
                uncertain.append(root)
                continue
            for item in walk(root, report.failures, uncertain, is_cancelled):
                found[item.path] = item
                now = self._clock()
                if now - last_emit >= self.progress_interval:
                    last_emit = now
                    emit(ScanProgress("walk", len(found), 0, None, display_path(item.path)))
            if is_cancelled():
                break

        if is_cancelled():
            report.cancelled = True
            report.seconds = self._clock() - started
            emit(ScanProgress("done", len(found), 0, len(found)))
            return report

        known: dict[str, FileState] = {}
        for root in root_paths:
            known.update(self.tracks.file_states(root))
        # The rows of each file: its own, or one per track of the CUE sheet that cuts it (library/cue.py).
        rows_of: dict[str, list[str]] = {}
        for path, state in known.items():
            rows_of.setdefault(state.file or path, []).append(path)
        listed = [r for r in root_paths if r not in uncertain]
        seen = [*found, *(f.path for f in report.failures)]
        known_files = [state.file or path for path, state in known.items()]
        emptied = list(zip(*emptied_folders(listed, known_files, seen, display_path, library_roots), strict=True))

        to_read: list[tuple[Found, list[FileState]]] = []
        for path, item in found.items():
            states = [known[p] for p in rows_of.get(path, ())]
            if states and all(
                (s.size, s.mtime_ns, s.sidecar_sig, s.tags_version)
                == (item.size, item.mtime_ns, item.sidecar_sig, TAGS_VERSION)  # an older tag reader's row: read again
                for s in states
            ):
                report.unchanged += 1
            else:
                to_read.append((item, states))

        # Rows whose file was not seen: candidates for a move target, else removal.
        missing: dict[str, FileState] = {
            path: state
            for path, state in known.items()
            if (state.file or path) not in found and not _under_any(state.file or path, uncertain)
        }
        moved_from = set(missing)  # what is left in here after the read phase was not claimed by a move
        by_fingerprint: dict[str, list[str]] = {}
        for path, state in missing.items():
            by_fingerprint.setdefault(state.fingerprint, []).append(path)

        total = len(found)
        done = report.unchanged
        emit(ScanProgress("read", total, done, total))
        batch: list[tuple[ScannedFile, FileState | None]] = []
        since_emit = 0
        for (item, states), (rows, failures, warnings) in self._read_all(to_read, is_cancelled):
            done += 1
            since_emit += 1
            report.failures.extend(failures)
            report.warnings.extend(warnings)
            batch.extend((scanned, known.get(scanned.path)) for scanned in rows)
            if rows or (states and not os.path.lexists(item.path)):  # read anew, or vanished since the walk
                produced = {scanned.path for scanned in rows}
                # Rows the file no longer has (a sheet added, changed or taken away) go with the prune.
                missing.update((p, known[p]) for p in rows_of.get(item.path, ()) if p not in produced)
            if len(batch) >= self.batch_size:
                self._write(batch, missing, by_fingerprint, report)
                batch = []
            if since_emit >= self.batch_size:
                since_emit = 0
                emit(self._read_progress(total, done, item.path, report))
        report.cancelled = done - report.unchanged < len(to_read)
        if batch:
            self._write(batch, missing, by_fingerprint, report)
        emit(self._read_progress(total, done, "", report))

        if not report.cancelled:
            self._keep_emptied(emptied, missing, moved_from, report, deleted)
        if not report.cancelled and missing:
            emit(ScanProgress("prune", total, done, total))
            with self.db.transaction():
                report.removed = self.tracks.delete(s.id for s in missing.values())

        if not report.cancelled:
            self._record_unreadable(root_paths, uncertain, report, library_roots)
        report.seconds = self._clock() - started
        emit(ScanProgress("done", total, done, total, "", report.added, report.updated, report.failed))
        return report

    def _keep_emptied(
        self,
        emptied: list[tuple[str, ScanFailure]],
        missing: dict[str, FileState],
        moved_from: set[str],
        report: ScanReport,
        deleted: list[str],
    ) -> None:
        """Keep the tracks of a folder that suddenly holds no audio, unless they turned up elsewhere
        or are known to be ``deleted`` (see ``library/emptied.py``): take them out of ``missing`` and warn."""
        moved_from.difference_update(missing)  # now: the paths a move claimed in this scan
        for folder, warning in emptied:
            rows = [p for p in missing if is_under(p, folder) and not _under_any(missing[p].file or p, deleted)]
            if not rows or any(is_under(p, folder) for p in moved_from):
                continue
            if any(self.tracks.has_other(missing[p].fingerprint, missing[p].id) for p in rows):
                continue
            for path in rows:
                del missing[path]
            report.warnings.append(warning)

    def _record_unreadable(
        self, roots: list[str], uncertain: list[str], report: ScanReport, library_roots: list[str]
    ) -> None:
        """Keep this scan's failures for ``library --unreadable``, replacing the last list of each
        root that was listed (a missing root keeps the list of its last real scan)."""
        listed = [display_path(r) for r in roots if r not in uncertain]
        failures = [(f.path, f.reason) for f in report.failures if _under_any(f.path, listed)]
        UnreadableRepository(self.db).replace(listed, failures, within=[display_path(r) for r in library_roots])

    # -- phases ----------------------------------------------------------------------------------

    def _read_all(
        self, to_read: list[tuple[Found, list[FileState]]], is_cancelled: CancelFn
    ) -> Iterator[tuple[tuple[Found, list[FileState]], _ReadResult]]:
        """Read files in order, in worker processes when there are enough to pay for starting them."""
        workers = self.workers if len(to_read) >= self.parallel_threshold else 1
        if workers <= 1:
            for entry in to_read:
                if is_cancelled():
                    return
                yield entry, read_file(entry[0])
            return
        chunks = [to_read[i : i + _CHUNK] for i in range(0, len(to_read), _CHUNK)]
        # "spawn": forking a process that runs Qt or other threads is unsafe.
        ctx = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
            pending: deque = deque()
            next_chunk = 0
            try:
                while next_chunk < len(chunks) or pending:
                    # Keep a bounded number of chunks in flight so cancel is quick and memory flat.
                    while next_chunk < len(chunks) and len(pending) < 2 * workers:
                        items = [e[0] for e in chunks[next_chunk]]
                        pending.append((chunks[next_chunk], pool.submit(read_files, items)))
                        next_chunk += 1
                    chunk, future = pending.popleft()
                    for entry, result in zip(chunk, future.result(), strict=True):
                        yield entry, result
                    if is_cancelled():
                        return
            finally:
                for _chunk, future in pending:
                    future.cancel()

    def _write(
        self,
        batch: list[tuple[ScannedFile, FileState | None]],
        missing: dict[str, FileState],
        by_fingerprint: dict[str, list[str]],
        report: ScanReport,
    ) -> None:
        added = updated = moved = 0
        claimed: list[str] = []
        failures: list[ScanFailure] = []
        with self.db.transaction():
            reattach = self.tracks.has_orphans()
            for scanned, state in batch:
                old_path = None if state is not None else _pick_moved(scanned, by_fingerprint)
                try:
                    # A savepoint per file: a row SQLite refuses fails alone, not with its batch.
                    with self.db.transaction():
                        if state is not None:
                            self.tracks.update(state.id, scanned)
                        elif old_path is not None:
                            self.tracks.update(missing[old_path].id, scanned)
                        else:
                            self.tracks.insert(scanned, reattach=reattach)
                except _ROW_ERRORS as exc:
                    if old_path is not None:
                        by_fingerprint.setdefault(fingerprint(scanned.tags), []).append(old_path)
                    failures.append(ScanFailure(display_path(scanned.path), _row_reason(exc)))
                    continue
                if state is not None:
                    updated += 1
                elif old_path is not None:
                    claimed.append(old_path)
                    moved += 1
                else:
                    added += 1
        # Only after the commit: a rolled-back batch must leave the move candidates as they were.
        for old_path in claimed:
            missing.pop(old_path, None)
        report.added += added
        report.updated += updated
        report.moved += moved
        report.failures.extend(failures)

    @staticmethod
    def _read_progress(total: int, done: int, current: str, report: ScanReport) -> ScanProgress:
        return ScanProgress(
            "read", total, done, total, display_path(current) if current else "",
            report.added, report.updated + report.moved, report.failed,
        )  # fmt: skip


# What one file's row can raise that is about that file, not the database: a number out of
# SQLite's 64-bit range, a value of a type it cannot bind, a constraint. Other errors (disk full,
# I/O) stop the batch, which then rolls back whole.
_ROW_ERRORS = (OverflowError, ValueError, TypeError, sqlite3.IntegrityError, sqlite3.InterfaceError)


def _row_reason(exc: BaseException) -> str:
    if isinstance(exc, OverflowError):
        return f"cannot be stored: a number in the file or its metadata is out of range ({exc})"
    return f"cannot be stored: {type(exc).__name__}: {exc}"


_CHUNK = 64  # files per task sent to a worker process


def _pick_moved(scanned: ScannedFile, by_fingerprint: dict[str, list[str]]) -> str | None:
    """The vanished path this new file most likely is (same tags + duration), preferring its name."""
    candidates = by_fingerprint.get(fingerprint(scanned.tags))
    if not candidates:
        return None
    name = os.path.basename(scanned.path)
    pick = next((p for p in candidates if os.path.basename(p) == name), candidates[0])
    candidates.remove(pick)
    return pick


def _unique_roots(roots: Iterable[str | os.PathLike[str]]) -> list[str]:
    """Absolute, normalised roots; a root inside another root is dropped (it is scanned anyway)."""
    paths = sorted({os.path.normpath(os.path.abspath(os.fspath(r))) for r in roots})
    out: list[str] = []
    for p in paths:
        if not any(is_under(p, q) for q in out):
            out.append(p)
    return out


def _under_any(path: str, roots: list[str]) -> bool:
    return any(is_under(path, r) for r in roots)


def _cancel_fn(cancel: CancelFn | threading.Event | None) -> CancelFn:
    if cancel is None:
        return lambda: False
    if isinstance(cancel, threading.Event):
        return cancel.is_set
    return cancel
