"""How a host's playback becomes listening events: the one place "a skip" is decided.

A host (the Qt app, the CLI, another player) reports what its player did through the engine:
``Engine.track_started`` when a track starts playing, ``Engine.track_position`` while it plays and
``Engine.track_ended`` when it stops being the current track (it ran out, or the listener moved on).
The engine turns those reports into ``play`` / ``complete`` / ``skip`` events by the rule below, once
per play; a ``dislike`` or ``block`` of the playing track ends its play too (it says all a skip would).

This module holds the rule and the state it needs (what is playing, whether its play has ended, the
tracks "previous" walks back through). It imports no Qt and does no I/O; ``Listening`` is guarded by a
lock, as hosts report from whichever thread runs their engine calls.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from player_plugin.models import EventKind, TrackId

ENDED = "ended"  # track_ended reason: the track ran out by itself (any other reason is the listener's)


@dataclass(frozen=True, slots=True)
class ListeningConfig:
    """The numbers listening rules decide by."""

    complete_fraction: float = 0.8  # reaching 80 % of a track counts as finishing it (a later exit is no skip)
    restart_after_s: float = 3.0  # "previous" this far into a track restarts it (as most players do)
    history_size: int = 200  # tracks "previous" can walk back through
    queue_target: int = 10  # Up Next is topped up to this many entries
    low_water: int = 3  # ... once it falls below this many (so the next track never waits for a fill)


def reached_complete(position_s: float | None, duration_s: float | None, cfg: ListeningConfig) -> bool:
    """Whether a play that got to ``position_s`` of ``duration_s`` counts as finished."""
    return bool(duration_s) and (position_s or 0.0) >= cfg.complete_fraction * float(duration_s or 0.0)


def outcome(position_s: float | None, duration_s: float | None, reason: str, cfg: ListeningConfig) -> EventKind:
    """How a play ended: ``complete`` when the track ran out or got far enough, else ``skip``."""
    if reason == ENDED or reached_complete(position_s, duration_s, cfg):
        return EventKind.COMPLETE
    return EventKind.SKIP


class Listening:
    """The one "now playing": the track whose ``play`` was recorded last, whether its play is still open
    (no ``complete``/``skip``/``dislike``/``block`` yet), and the tracks played before it."""

    def __init__(self, cfg: ListeningConfig) -> None:
        self.cfg = cfg
        self._lock = threading.Lock()
        self._now: TrackId | None = None
        self._open = False
        self._history: list[TrackId] = []

    @property
    def now_playing(self) -> TrackId | None:
        return self._now

    @property
    def is_open(self) -> bool:
        """Whether the play of the track now playing has not ended yet."""
        return self._open

    def start(self, track_id: TrackId) -> bool:
        """A play of ``track_id`` begins; returns whether "now playing" changed."""
        with self._lock:
            changed = self._now != track_id
            self._now, self._open = track_id, True
            self._history.append(track_id)
            del self._history[: -self.cfg.history_size]
            return changed

    def close(self, track_id: TrackId) -> bool:
        """End the open play of ``track_id``; False when there is none (already ended, or never started)."""
        with self._lock:
            if self._now != track_id or not self._open:
                return False
            self._open = False
            return True

    def previous(self, position_s: float | None) -> TrackId | None:
        """The track "previous" goes back to, or None: restart the current one (far enough into it, or
        nothing before it). The current track leaves the history (its start puts the previous one back)."""
        with self._lock:
            if (position_s or 0.0) > self.cfg.restart_after_s or len(self._history) < 2:
                return None
            self._history.pop()
            return self._history.pop()

    def forget(self, track_ids: set[TrackId]) -> bool:
        """Tracks that left the library (their file deleted): out of the history, and no longer now
        playing (their play cannot be recorded any more); returns whether "now playing" changed."""
        with self._lock:
            self._history = [t for t in self._history if t not in track_ids]
            if self._now in track_ids:
                self._now, self._open = None, False
                return True
            return False

    @property
    def heard(self) -> list[TrackId]:
        """Now playing and the tracks played before it (a copy)."""
        with self._lock:
            return [*self._history, *([self._now] if self._now is not None else [])]

    def clear(self) -> None:
        with self._lock:
            self._now, self._open = None, False
            self._history.clear()
