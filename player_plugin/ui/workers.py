"""Background work off the UI thread: serial job runners on ``QThread``.

A :class:`JobRunner` owns one thread and runs submitted callables one after the other; each
result (or exception) comes back to the UI thread through a queued signal and is handed to the
job's callbacks there. Progress callbacks called inside a job are forwarded the same way.

The engine's ``Database`` gives each thread its own SQLite connection, so a job may use the
engine freely; the runner closes its thread's connection when it stops. Nothing Qt-related is
touched inside a job: jobs talk to the UI only through the signals.
"""

from __future__ import annotations

import itertools
import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal, Slot

from player_plugin.priority import lower_this_thread

log = logging.getLogger(__name__)
_ids = itertools.count(1)


@dataclass(eq=False)
class Job:
    """One unit of work. ``fn(job)`` runs on the runner's thread; the callbacks on the UI thread."""

    fn: Callable[[Job], Any]
    name: str = ""
    on_done: Callable[[Any], None] | None = None
    on_error: Callable[[BaseException], None] | None = None
    on_progress: Callable[[Any], None] | None = None
    cancel: threading.Event = field(default_factory=threading.Event)
    id: int = field(default_factory=lambda: next(_ids))
    runner: JobRunner | None = None
    finished: bool = False

    def progress(self, value: Any) -> None:
        """Call from inside ``fn``: forwards ``value`` to ``on_progress`` on the UI thread."""
        if self.runner is not None:
            self.runner._progress.emit(self, value)

    def is_cancelled(self) -> bool:
        return self.cancel.is_set()


class JobRunner(QThread):
    """A worker thread with a FIFO of jobs. ``stop()`` then ``wait()`` before the app exits."""

    _progress = Signal(object, object)  # job, value   (worker thread → UI thread)
    _finished = Signal(object, object, object)  # job, result, error
    busy_changed = Signal(bool)

    def __init__(
        self,
        name: str,
        on_thread_exit: Callable[[], None] | None = None,
        parent: QObject | None = None,
        background: bool = False,
    ):
        """``background``: the thread runs bulk work (scans, embeds) at a lower priority
        (player_plugin/priority.py), so fills and repaints keep their core while it runs."""
        super().__init__(parent)
        self.setObjectName(name)
        self._background = background
        self._queue: queue.Queue[Job | None] = queue.Queue()
        self._current: Job | None = None
        self._pending = 0
        self._lock = threading.Lock()
        self._on_thread_exit = on_thread_exit
        self._stopping = False
        self._progress.connect(self._deliver_progress)
        self._finished.connect(self._deliver_finished)

    # -- UI thread side --------------------------------------------------------------------------

    def submit(
        self,
        fn: Callable[[Job], Any],
        name: str = "",
        on_done: Callable[[Any], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
        on_progress: Callable[[Any], None] | None = None,
    ) -> Job:
        job = Job(fn, name, on_done, on_error, on_progress)
        job.runner = self
        if self._stopping:
            job.finished = True
            return job
        with self._lock:
            self._pending += 1
            first = self._pending == 1
        self._queue.put(job)
        if first:
            self.busy_changed.emit(True)
        if not self.isRunning():
            self.start()
        return job

    @property
    def busy(self) -> bool:
        return self._pending > 0

    def current(self) -> Job | None:
        return self._current

    def cancel_all(self) -> None:
        """Cancel the running job (cooperatively) and every queued one (they never start)."""
        with self._queue.mutex:
            pending = list(self._queue.queue)
        for job in pending:
            if job is not None:
                job.cancel.set()
        current = self._current
        if current is not None:
            current.cancel.set()

    def stop(self, timeout_ms: int = 15000) -> bool:
        """Cancel everything, end the thread and wait for it. True when it ended in time."""
        self._stopping = True
        self.cancel_all()
        self._queue.put(None)
        if not self.isRunning():
            return True
        return self.wait(timeout_ms)

    @Slot(object, object)
    def _deliver_progress(self, job: Job, value: Any) -> None:
        if job.on_progress is not None and not job.finished:
            try:
                job.on_progress(value)
            except Exception:  # a UI callback must never kill the event loop
                log.exception("progress callback of %s failed", job.name)

    @Slot(object, object, object)
    def _deliver_finished(self, job: Job, result: Any, error: BaseException | None) -> None:
        job.finished = True
        with self._lock:
            self._pending -= 1
            idle = self._pending == 0
        try:
            if error is not None:
                if not isinstance(error, _Cancelled):
                    if job.on_error is not None:
                        job.on_error(error)
                    else:
                        log.error("job %s failed: %s", job.name, error, exc_info=error)
            elif job.on_done is not None:
                job.on_done(result)
        except Exception:
            log.exception("callback of %s failed", job.name)
        if idle:
            self.busy_changed.emit(False)

    # -- worker thread side ----------------------------------------------------------------------

    def run(self) -> None:  # noqa: D401 - QThread entry point
        if self._background:
            lower_this_thread()
        try:
            while True:
                job = self._queue.get()
                if job is None:
                    break
                self._current = job
                result: Any = None
                error: BaseException | None = None
                try:
                    if job.cancel.is_set():
                        raise _Cancelled()
                    result = job.fn(job)
                except BaseException as exc:  # noqa: BLE001 - reported to the UI thread
                    error = exc
                finally:
                    self._current = None
                self._finished.emit(job, result, error)
        finally:
            if self._on_thread_exit is not None:
                try:
                    self._on_thread_exit()
                except Exception:
                    log.exception("thread exit hook failed")


class _Cancelled(Exception):
    pass
