"""Library jobs: ``engine.scan`` then ``engine.embed`` on the library worker, with their progress.

Progress comes back by signal (``work_shown`` / ``work_hidden`` for the status bar's progress bar),
cancellation goes through the job's ``threading.Event``. While a scan adds tracks the library
view merges them at most every ``library_panel.RELOAD_INTERVAL_S``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any, Protocol

from PySide6.QtCore import QObject, QTimer, Signal

from player_plugin.engine import Engine
from player_plugin.library.watch import Changes
from player_plugin.ui.text import friendly_provider
from player_plugin.ui.workers import Job, JobRunner

SCAN_PHASE_LABELS = {"read": "Scanning", "prune": "Tidying", "done": "Scanned"}
# An embed under way gives way to a watched scan only once it has run this long: while changes keep
# coming (a long copy into the library) it is not cancelled and started again every few seconds
EMBED_RUNS_BEFORE_GIVING_WAY_S = 30.0


class LibraryView(Protocol):
    """What the jobs ask of the library on screen (``LibraryPanel`` provides it)."""

    def reload(self, full: bool = False) -> None: ...
    def reload_throttled(self) -> None: ...
    def when_reloaded(self, callback: Callable[[], None]) -> None: ...
    def row_count(self) -> int: ...


class LibraryJobs(QObject):
    work_shown = Signal(str, object, object)  # text, done (int | None), total (int | None: no total yet)
    work_hidden = Signal()
    message = Signal(str)  # for the status bar
    idle_message = Signal(str)  # for the status bar, unless a sticky note is up
    scan_finished = Signal(object)  # ScanReport | Exception
    embed_finished = Signal(object)  # EmbedReport | Exception
    model_ready = Signal(bool)  # embedding done (cancelled?)
    model_failed = Signal(str)  # why the music model could not be loaded

    def __init__(self, engine: Engine, runner: JobRunner, library: LibraryView, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.engine = engine
        self._runner = runner
        self._library = library
        self._scan_job: Job | None = None
        self._embed_job: Job | None = None
        self._changed: Changes | None = None  # what the watch saw while a scan ran: scanned after it
        self._watched_scan = False  # the running scan is of what the watch saw (its report says "updated")
        self._embed_started = 0.0  # monotonic time the last embed was submitted
        self._deferred = False  # a watched scan waits for the embed under way to have run a while
        self._closed = False

    def close(self) -> None:
        """The window is closing: start nothing new, cancel what runs (the runner is stopped by its owner)."""
        self._closed = True
        self._runner.cancel_all()

    def cancel(self) -> None:
        self._runner.cancel_all()
        self.message.emit("Cancelling…")

    # -- scan ---------------------------------------------------------------------------------------

    def start_scan(self, roots: list[str] | None = None) -> Job | None:
        if self._closed:
            return None
        if self._scan_job is not None and not self._scan_job.finished:
            self.message.emit("A scan is already running")
            return None
        engine = self.engine

        def work(job: Job) -> Any:
            return engine.scan(roots, progress=job.progress, cancel=job.cancel)

        self.work_shown.emit("Looking for music…", 0, None)
        self._scan_job = self._runner.submit(
            work, "scan", on_done=self._on_scan_done, on_error=self._on_scan_error, on_progress=self._on_scan_progress
        )
        return self._scan_job

    def scan_changes(self, changes: Changes | None = None) -> Job | None:
        """Scan what the library watch saw change (ui/library_watch.py): after the scan that runs, if
        one does; an embed under way gives way once it has run ``EMBED_RUNS_BEFORE_GIVING_WAY_S`` (it goes on
        from where it was once the scan is done)."""
        if changes is not None:
            self._changed = changes if self._changed is None else self._changed | changes
        if self._closed or self._changed is None or (self._scan_job is not None and not self._scan_job.finished):
            return None
        if self._embed_job is not None and not self._embed_job.finished:
            ran = time.monotonic() - self._embed_started
            if ran < EMBED_RUNS_BEFORE_GIVING_WAY_S:  # changes keep coming (a long copy): not a restart each time
                if not self._deferred:
                    self._deferred = True
                    QTimer.singleShot(int((EMBED_RUNS_BEFORE_GIVING_WAY_S - ran) * 1000), self._scan_deferred)
                return None
            self._embed_job.cancel.set()
        todo, engine = self._changed, self.engine
        self._changed = None

        def work(job: Job) -> Any:
            return engine.scan_changes(todo.folders, job.progress, job.cancel, todo.deleted)

        self._watched_scan = True
        self._scan_job = self._runner.submit(
            work, "scan", on_done=self._on_scan_done, on_error=self._on_scan_error, on_progress=self._on_scan_progress
        )
        return self._scan_job

    def _scan_deferred(self) -> None:
        self._deferred = False
        self.scan_changes()

    def _on_scan_progress(self, p: Any) -> None:
        name = os.path.basename(p.current) if p.current else ""
        if p.phase == "walk":
            self.work_shown.emit(f"Looking for music… {p.seen} files  {name}", 0, None)
        elif p.phase in SCAN_PHASE_LABELS:
            self.work_shown.emit(f"{SCAN_PHASE_LABELS[p.phase]}  {name}".rstrip(), p.done, p.total or p.seen)
        if p.added or p.updated:
            self._library.reload_throttled()

    def _on_scan_done(self, report: Any) -> None:
        # the library panel listens to the engine's library_changed, which the scan announced (queued to
        # this thread) before its result came back: its read is under way; report once the rows show
        self._library.when_reloaded(lambda: self._scan_done(report))

    def _scan_done(self, report: Any) -> None:
        parts = [f"{report.added} new", f"{report.updated} updated"]
        if report.removed:
            parts.append(f"{report.removed} removed")
        if report.failed:
            parts.append(f"{report.failed} unreadable")
        verb = "Scan cancelled" if report.cancelled else "Library updated" if self._watched_scan else "Library scanned"
        self._watched_scan = False
        self.message.emit(f"{verb}: {', '.join(parts)} ({self._library.row_count()} tracks)")
        self.scan_finished.emit(report)
        if self._changed is not None and not self._closed:
            self.scan_changes()  # what the watch saw meanwhile; the embed follows that scan
        elif not report.cancelled and not self._closed:
            self.start_embed()
        else:
            self._hide_work()

    def _on_scan_error(self, exc: BaseException) -> None:
        self._watched_scan = False
        self._hide_work()
        self.message.emit(f"Scan failed: {self.engine.error_text(exc)}")
        self.scan_finished.emit(exc)

    def _hide_work(self) -> None:
        if self._runner.busy and self._scan_job is not None and not self._scan_job.finished:
            return
        self.work_hidden.emit()

    # -- embed --------------------------------------------------------------------------------------

    def start_embed(self) -> Job | None:
        if self._closed:
            return None
        engine = self.engine

        def work(job: Job) -> Any:
            return engine.embed(progress=job.progress, cancel=job.cancel)

        self._embed_started = time.monotonic()
        self._embed_job = self._runner.submit(
            work,
            "embed",
            on_done=self._on_embed_done,
            on_error=self._on_embed_error,
            on_progress=self._on_embed_progress,
        )
        return self._embed_job

    def _on_embed_progress(self, p: Any) -> None:
        if p.total:
            self.work_shown.emit(f"Understanding tracks  {p.current}".rstrip(), p.done, p.total)

    def _on_embed_done(self, report: Any) -> None:
        if report.cancelled and self._scan_job is not None and not self._scan_job.finished:
            self.embed_finished.emit(report)  # it gave way to the watch's scan, which starts it again
            return
        if self._changed is not None and not self._closed:
            self.scan_changes()  # what the watch saw while it ran (the next embed follows that scan)
        self.work_hidden.emit()
        if report.embedded:
            self.message.emit(
                f"Ready: {report.embedded} tracks understood with {report.model_id} "
                f"on the {friendly_provider(report.provider)}"
            )
        else:
            self.idle_message.emit(f"Ready: {self._library.row_count()} tracks")
        self.model_ready.emit(bool(report.cancelled))
        self.embed_finished.emit(report)

    def _on_embed_error(self, exc: BaseException) -> None:
        self.work_hidden.emit()
        if self.engine.is_storage_error(exc):
            # The model ran; the database would not take its vectors (a full disk, a read-only file). What
            # was saved before stays usable, so Up Next recommends from it; the next embed goes on from there.
            self.message.emit(f"Could not save what the model understood: {self.engine.error_text(exc)}")
            self.model_ready.emit(False)
        else:
            self.model_failed.emit(str(exc))
            self.message.emit("Music model unavailable: recommendations are off")
        self.embed_finished.emit(exc)
