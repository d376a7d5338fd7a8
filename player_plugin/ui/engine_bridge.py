"""The engine's announcements as Qt signals, delivered on the UI thread.

The engine calls its listeners on whatever thread made the change (the queue worker, mostly);
``EngineSignals`` lives on the UI thread, so each call is re-emitted as a signal that Qt queues to
it. The Up Next controller (``queue_changed``: show it, top up when due; ``model_changed``: pick the
recommended entries again), the library panel (``library_changed``: reload) and MPRIS
(``now_playing_changed``) connect to these signals instead of being called by hand.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from player_plugin.engine import Engine
from player_plugin.listeners import EngineListener
from player_plugin.models import QueueEntry, TrackId


class EngineSignals(QObject):
    queue_changed = Signal(list, bool)  # list[QueueEntry], refill due
    now_playing_changed = Signal(object)  # TrackId | None
    library_changed = Signal()
    model_changed = Signal()
    vectors_added = Signal(int, int)  # done, total: an embedding job still running stored some vectors

    def __init__(self, engine: Engine, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._unsubscribe = engine.subscribe(_Forward(self))

    def close(self) -> None:
        """Stop listening (the window is closing; the engine may outlive it)."""
        self._unsubscribe()


class _Forward(EngineListener):
    def __init__(self, signals: EngineSignals) -> None:
        self._signals = signals

    def queue_changed(self, entries: list[QueueEntry], refill_due: bool) -> None:
        self._signals.queue_changed.emit(list(entries), refill_due)

    def now_playing_changed(self, track_id: TrackId | None) -> None:
        self._signals.now_playing_changed.emit(track_id)

    def library_changed(self) -> None:
        self._signals.library_changed.emit()

    def model_changed(self) -> None:
        self._signals.model_changed.emit()

    def vectors_added(self, done: int, total: int) -> None:
        self._signals.vectors_added.emit(done, total)
