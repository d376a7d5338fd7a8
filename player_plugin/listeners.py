"""The engine tells, hosts listen (as Mopidy's ``CoreListener`` or beets' ``send(event)``).

A host subscribes an ``EngineListener`` (override the methods it cares about) with
``Engine.subscribe``. Listeners are called synchronously, on whatever thread made the change (a
host's worker thread, usually), after the change is stored; a host that draws must hop to its own
thread (the Qt app re-emits each call as a queued signal). A listener that raises is logged and the
others still run: a display never undoes what the engine stored.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from player_plugin.models import QueueEntry, TrackId

log = logging.getLogger(__name__)


class EngineListener:
    """What the engine announces. Every method does nothing by default."""

    def queue_changed(self, entries: list[QueueEntry], refill_due: bool) -> None:
        """Up Next is now ``entries``; ``refill_due``: it fell below the low-water mark with auto-fill on,
        so the host should run ``Engine.up_next()`` (on its worker) to top it up."""

    def now_playing_changed(self, track_id: TrackId | None) -> None:
        """A different track (or none) is now playing."""

    def library_changed(self) -> None:
        """Tracks or folders were added, changed or removed (a scan finished)."""

    def model_changed(self) -> None:
        """Track vectors changed (an embedding job finished), or the model or its settings did."""

    def vectors_added(self, done: int, total: int) -> None:
        """An embedding job still running has stored vectors for ``done`` of its ``total`` tracks: Up Next
        can be filled from them already (a host with an empty queue does; the job's end is
        ``model_changed``)."""


class Listeners:
    """The engine's subscriber list (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: list[EngineListener] = []

    def subscribe(self, listener: EngineListener) -> Callable[[], None]:
        with self._lock:
            self._items.append(listener)

        def unsubscribe() -> None:
            with self._lock:
                if listener in self._items:
                    self._items.remove(listener)

        return unsubscribe

    def send(self, name: str, *args: object) -> None:
        with self._lock:
            items = list(self._items)
        for listener in items:
            try:
                getattr(listener, name)(*args)
            except Exception:  # noqa: BLE001 - one listener's failure must not stop the others
                log.exception("listener %r failed on %s", listener, name)
