"""The library table's reads, off the UI thread and one at a time.

A reload reads every track and, for a full one, the play counts: about 2 s of SQLite and Python at
100k tracks, which froze the window after every rescan while it ran on the UI thread. A
:class:`LibraryReader` runs each read on its own worker (a ``JobRunner``: the engine's ``Database``
gives that thread its own SQLite connection, closed by ``engine.release_thread`` when the thread
ends), works the rows out there too (``library_rows.plan_rows``), and the UI thread only applies
them (``LibraryModel.apply``).

Requests coalesce: while a read runs, any number of requests make one more read after it (so the
rows end up as the library is), a full one if any of them asked for full.

The worker has no Qt parent: a running ``QThread`` destroyed with its parent aborts the process.
It ends when the reader is shut down or its model is destroyed (the thread is left to finish a
read under way, in the background; its result is dropped), and at the latest when Python exits.
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import logging
import weakref
from collections.abc import Callable, Iterator

import shiboken6

from player_plugin.engine import Engine
from player_plugin.ui.library_model import LibraryModel
from player_plugin.ui.library_rows import RowsPlan, plan_rows
from player_plugin.ui.workers import Job, JobRunner

log = logging.getLogger(__name__)

READER_THREAD_NAME = "library-reader"
FREE_CHUNK = 2000  # tracks freed per step on the worker (a step holds the GIL, so the UI thread waits)

# Every reader thread until it has ended: a QThread object must outlive its thread.
_RUNNING: set[JobRunner] = set()


def running_readers() -> int:
    """Reader threads that have not ended yet (those of panels shut down end after their read)."""
    return len(_RUNNING)


@atexit.register
def _end_readers() -> None:
    for runner in list(_RUNNING):
        runner.stop()


class LibraryReader:
    """Reads the engine's tracks for ``model`` on a worker; ``on_shown(rows)`` after each read is shown."""

    def __init__(self, engine: Engine, model: LibraryModel, on_shown: Callable[[int], None]) -> None:
        self._engine = engine
        self._model = model
        self._on_shown = on_shown
        self._runner: JobRunner | None = None
        self._job: Job | None = None
        self._again: bool | None = None  # a request came while reading: None, else whether one was full
        self._when_idle: list[Callable[[], None]] = []
        self._closed = False
        model.destroyed.connect(self.shutdown)

    @property
    def busy(self) -> bool:
        """A read runs or is asked for."""
        return self._job is not None

    def request(self, full: bool = False) -> None:
        """Read and show the library: after the read under way, if any (``full``: with play counts, anew)."""
        if self._closed:
            return
        if self._job is not None:
            self._again = bool(self._again) or full
            return
        self._start(full)

    def when_idle(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` once the rows show the last read asked for (at once when none is)."""
        if self._closed:
            return
        if self._job is None:
            callback()
        else:
            self._when_idle.append(callback)

    def shutdown(self) -> None:
        """Start nothing more and show nothing more; the worker ends after the read under way. Safe twice."""
        self._closed = True
        self._job, self._again = None, None
        self._when_idle.clear()
        runner, self._runner = self._runner, None
        if runner is not None and runner.stop(timeout_ms=0):  # no waiting: _RUNNING keeps it till its thread ends
            _RUNNING.discard(runner)

    # -- UI thread ---------------------------------------------------------------------------------

    def _start(self, full: bool) -> None:
        full = full or self._model.rowCount() == 0
        shown = self._model.shown()
        engine = self._engine

        def read(_job: Job) -> RowsPlan:  # on the worker
            with _collector_paused():
                tracks = engine.all_tracks()
                plan = plan_rows(shown, tracks, engine.play_counts() if full else None)
                _free(tracks)
            return plan

        self._job = self._worker().submit(read, "library read", on_done=self._show, on_error=self._failed)

    def _worker(self) -> JobRunner:
        if self._runner is None:
            runner = JobRunner(READER_THREAD_NAME, on_thread_exit=self._engine.release_thread)
            _RUNNING.add(runner)
            ref = weakref.ref(runner)
            runner.finished.connect(lambda: _forget(ref))
            self._runner = runner
        return self._runner

    def _show(self, plan: RowsPlan) -> None:
        if self._closed or not shiboken6.isValid(self._model):
            return
        try:
            self._model.apply(plan)
            self._on_shown(len(plan.tracks))
        finally:
            self._next()

    def _failed(self, exc: BaseException) -> None:
        if self._closed:
            return
        log.error("reading the library failed: %s", exc, exc_info=exc)
        self._next()

    def _next(self) -> None:
        self._job = None
        if self._again is not None:
            full, self._again = self._again, None
            self._start(full)
            return
        callbacks, self._when_idle = self._when_idle, []
        for callback in callbacks:
            callback()


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """No cyclic garbage collection while a read makes its objects.

    A read makes some 500,000 objects at 100k tracks (rows, tracks, tags, tuples), which set off two to
    four full collections per read, each 100-250 ms of the whole heap with the GIL held: the UI thread
    stood still for as long. The objects hold no reference cycles (refcounting frees them), so nothing
    waits for the collector; it runs again as usual afterwards. (Process-wide: a second reader that
    finds it paused leaves it to the first to resume.)"""
    paused = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()


def _free(tracks: list) -> None:
    """Drop the read's copies in steps (the rows keep the model's own objects for unchanged tracks):
    freeing 100k tracks at once is one C call of tens of milliseconds that the UI thread would wait out."""
    while tracks:
        del tracks[-FREE_CHUNK:]


def _forget(ref: weakref.ref[JobRunner]) -> None:
    """Its thread has ended (``finished`` arrives on the UI thread): the object may go."""
    runner = ref()
    if runner is not None:
        runner.wait()
        _RUNNING.discard(runner)
