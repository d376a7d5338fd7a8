"""The player controller: the track loaded in the player, and what the player does, told to the engine.

It reports, the engine decides (``player_plugin/listening.py``): a track starting is
``track_started``, the position passing ``engine.is_complete`` is ``track_position`` (once), the
track running out or being left is ``track_ended``; Previous asks ``engine.previous``, the next
track comes from ``engine.advance``. Every engine call runs in order on the queue worker; results
come back as signals. Feedback (like, dislike, block) is recorded here too, because a dislike or
block of the playing track moves the player on.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal

from player_plugin.engine import Engine
from player_plugin.levelling import Gain, gain
from player_plugin.models import EventKind, QueueEntry, Track, TrackId, TrackTags
from player_plugin.ui.playback import Playback
from player_plugin.ui.workers import Job, JobRunner

MS_PER_S = 1000
RESUME = "resume"  # the source of a track loaded as the app closed on it
RESUME_END_SLACK_MS = 2_000  # this close to its end a track has played out: nothing to resume
POSITION_DECIMALS = 3  # a feedback event's position, in seconds


class PlayerController(QObject):
    now_playing_changed = Signal(object)  # Track | None: the track loaded in the player
    picked = Signal(int, str)  # track id, where it came from ("library", "queue", "mix", "previous")
    event_recorded = Signal(str, int)  # the engine stored an event (kind, track id): tests and the library listen
    liked = Signal()
    taste_changed = Signal()  # a like, dislike or block: Up Next refills when auto-fill is on
    queue_seen = Signal(list)  # list[QueueEntry], the queue after advance took its head
    queue_failed = Signal(object)  # the exception of an advance
    message = Signal(str)  # for the status bar

    def __init__(
        self,
        engine: Engine,
        playback: Playback,
        runner: JobRunner,
        tracks: Callable[[TrackId], Track | None],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.engine = engine
        self.playback = playback
        self._runner = runner
        self._tracks = tracks
        self.current: Track | None = None  # the track loaded in the player (the engine knows what plays)
        self.levelling = engine.levelling  # re-read by reload_levelling() when the settings change
        self.gain: Gain | None = None  # how loud the current track plays (levelling.py)
        self._previous_tags: TrackTags | None = None  # the track played before the current one
        self._complete_sent = False  # the engine was told the current track got far enough
        self._pending_play_source: str | None = None  # loaded paused: PLAY is recorded when it starts
        self._advance_pending = False
        self._closed = False
        # Whether advance may fill an empty queue (the Up Next controller says: auto-fill on, model loaded).
        self.autofill_allowed: Callable[[], bool] = lambda: True
        playback.position_changed.connect(self._on_position)
        playback.playing_changed.connect(self._on_playing_changed)
        playback.ended.connect(self._on_ended)
        playback.error.connect(lambda msg: self.message.emit(f"Playback: {msg}"))

    def close(self) -> None:
        """The window is closing: start nothing new."""
        self._closed = True

    # -- listening calls ----------------------------------------------------------------------------

    def record(self, track_id: TrackId, kind: EventKind, position_s: float | None = None, **context: Any) -> Job:
        """Tell the engine what the listener did (like, dislike, block); it adds the prompt while one is set."""
        engine = self.engine
        return self._listening_job(
            f"record {kind}",
            lambda: engine.record(track_id, kind, position_s=position_s, context=context or None) or kind,
            track_id,
        )

    def _listening_job(self, name: str, call: Callable[[], EventKind | None], track_id: TrackId) -> Job:
        """Run an engine listening call on the queue worker; announce the event it stored, if any."""

        def done(kind: EventKind | None) -> None:
            if kind is not None:
                self.event_recorded.emit(str(kind), track_id)

        return self._runner.submit(
            lambda _job: call(),
            name,
            on_done=done,
            on_error=lambda e: self.message.emit(f"Could not record ({name}): {self.engine.error_text(e)}"),
        )

    def _started(self, track_id: TrackId, via: str) -> Job:
        engine = self.engine

        def call() -> EventKind | None:
            if via == RESUME and engine.resume_play(track_id):
                return None  # the play stored before the app closed goes on: its end is recorded once
            engine.track_started(track_id, via=via)
            return EventKind.PLAY

        return self._listening_job("track started", call, track_id)

    def _leave_current(self, via: str) -> None:
        """Tell the engine the current track stops being current (it decides complete or skip)."""
        if self.current is None:
            return
        if self._pending_play_source is not None:  # loaded paused and never started: nothing happened
            self._pending_play_source = None
            return
        track_id, engine = self.current.id, self.engine
        pos_s = self.playback.position_ms() / MS_PER_S
        dur_s = (self.playback.duration_ms() / MS_PER_S) or self.current.tags.duration_s
        self._listening_job("track ended", lambda: engine.track_ended(track_id, pos_s, dur_s, reason=via), track_id)

    # -- transport ----------------------------------------------------------------------------------

    def play_track(self, track_id: TrackId, source: str = "library", autoplay: bool = True) -> bool:
        """Load and play a track; ``autoplay=False`` loads it paused (its PLAY counts when it starts)."""
        track = self._tracks(track_id)
        if track is None:
            self.message.emit(f"Track {track_id} is no longer in the library")
            return False
        self._leave_current(via=source)
        if not os.path.exists(track.file_path):
            self.message.emit(f"File missing: {track.file_path}")
            return False
        self._previous_tags = self.current.tags if self.current is not None else None
        self.current = track
        self._complete_sent = False
        self._level()
        self.playback.load(track.file_path, track.tags.duration_s, track.start_s, track.end_s)
        self._pending_play_source = None
        if autoplay:
            self.playback.play()
            self._started(track_id, source)
        else:
            self._pending_play_source = source
        self.now_playing_changed.emit(track)
        self.picked.emit(track_id, source)
        return True

    def save_resume_point(self) -> None:
        """The app is closing: remember the track and where it is, to resume there next time (a track
        not started or played to its end is nothing to resume)."""
        if self._pending_play_source == RESUME:
            return  # restored and never started: the point stored stays as it was
        pos_ms, dur_ms = self.playback.position_ms(), self.playback.duration_ms()
        if self.current is None or (dur_ms and pos_ms >= dur_ms - RESUME_END_SLACK_MS):
            self.engine.set_resume_point(None)
        else:
            self.engine.set_resume_point(self.current.id, pos_ms / MS_PER_S)

    def restore(self) -> bool:
        """Load the track the app closed on, paused where it was (its play goes on when it is started)."""
        point = self.engine.resume_point()
        if point is None or self.current is not None:
            return False
        track_id, position_s = point
        if not self.play_track(track_id, source=RESUME, autoplay=False):
            return False
        self.playback.seek(int(position_s * MS_PER_S))
        return True

    def refresh_current(self) -> None:
        """The library was read again: the track loaded may have new tags (a tag editor saved its file
        while it played). Show them, and level it by its new ReplayGain; nothing is recorded."""
        if self.current is None:
            return
        fresh = self._tracks(self.current.id)
        if fresh is not None and fresh != self.current:
            self.current = fresh
            self._level()
            self.now_playing_changed.emit(fresh)

    def _level(self) -> None:
        """The current track's gain (the engine's rule, levelling.py) to the output."""
        if self.current is not None:
            self.gain = gain(self.current.tags, self.levelling, self._previous_tags)
            self.playback.set_gain(self.gain.factor)

    def reload_levelling(self) -> None:
        """The levelling setting changed: read it, and apply it to what plays now."""
        self.levelling = self.engine.levelling
        self._level()

    def play(self) -> None:
        if self.current is None:
            self.advance()
        else:
            self.playback.play()

    def pause(self) -> None:
        self.playback.pause()

    def toggle_play(self) -> None:
        if self.current is None:
            self.advance()
        else:
            self.playback.toggle()

    def next_track(self) -> None:
        self._leave_current(via="next")
        self.advance()

    def previous_track(self) -> None:
        """The engine decides: restart the current track, or go back to the one before."""
        position_s = self.playback.position_ms() / MS_PER_S if self.current is not None else None
        engine = self.engine

        def done(prev: TrackId | None) -> None:
            if prev is not None:
                self.play_track(prev, source="previous")
            elif self.current is not None:
                self.playback.seek(0)

        self._runner.submit(lambda _job: engine.previous(position_s), "previous", on_done=done)

    def advance(self, autoplay: bool = True) -> None:
        """Play the head of Up Next (taken from the engine's queue); ``autoplay=False`` loads it paused."""
        if self._advance_pending or self._closed:
            return
        self._advance_pending = True
        engine = self.engine
        autofill = self.autofill_allowed()

        def work(_job: Job) -> tuple[QueueEntry | None, list[QueueEntry]]:
            return engine.advance(autofill), engine.queue()

        def done(result: tuple[QueueEntry | None, list[QueueEntry]]) -> None:
            self._advance_pending = False
            head, entries = result
            self.queue_seen.emit(entries)
            if head is not None:
                self.play_track(head.track_id, source="queue", autoplay=autoplay)
            else:
                self._stop_playing()
                self.message.emit("Up Next is empty")

        def failed(exc: BaseException) -> None:
            self._advance_pending = False
            self.queue_failed.emit(exc)

        self._runner.submit(work, "advance", on_done=done, on_error=failed)

    def _stop_playing(self) -> None:
        self.playback.stop()
        self.current = None
        self._pending_play_source = None
        self.now_playing_changed.emit(None)

    # -- what the player reports --------------------------------------------------------------------

    def _on_position(self, ms: int) -> None:
        if self.current is None or self._complete_sent or self._pending_play_source is not None:
            return
        pos_s, dur_s = ms / MS_PER_S, self.playback.duration_ms() / MS_PER_S
        if self.engine.is_complete(pos_s, dur_s):  # tell the engine once; it records the complete
            self._complete_sent = True
            track_id, engine = self.current.id, self.engine
            self._listening_job("position", lambda: engine.track_position(track_id, pos_s, dur_s), track_id)

    def _on_playing_changed(self, playing: bool) -> None:
        if playing and self._pending_play_source is not None and self.current is not None:
            source, self._pending_play_source = self._pending_play_source, None
            self._started(self.current.id, source)

    def _on_ended(self) -> None:
        if self.current is not None and self._pending_play_source is None:
            track_id, engine, dur_s = self.current.id, self.engine, self.playback.duration_ms() / MS_PER_S
            self._listening_job("track ended", lambda: engine.track_ended(track_id, dur_s, dur_s), track_id)
        self.advance()

    # -- feedback -----------------------------------------------------------------------------------

    def like(self, track_id: TrackId | None = None) -> None:
        track_id = track_id if track_id is not None else (self.current.id if self.current else None)
        if track_id is None:
            return
        self.liked.emit()
        self.record(track_id, EventKind.LIKE, self._position_s(track_id))
        self.message.emit("Liked: more like this in Up Next")
        self.taste_changed.emit()

    def dislike(self, track_id: TrackId | None = None) -> None:
        """Dislike the current (or given) track; the current one is left at once (no separate skip)."""
        track_id = track_id if track_id is not None else (self.current.id if self.current else None)
        if track_id is None:
            return
        self.record(track_id, EventKind.DISLIKE, self._position_s(track_id))
        self.message.emit("Noted: less like this")
        self.taste_changed.emit()
        if self.current is not None and self.current.id == track_id:  # the engine ends its play: no skip
            self.advance(autoplay=self.playback.is_playing())  # a paused player stays paused

    def block(self, track_ids: list[TrackId]) -> None:
        for tid in track_ids:
            self.record(tid, EventKind.BLOCK)
        self.message.emit(f"Never playing {len(track_ids)} track(s) again")
        self.taste_changed.emit()
        if self.current is not None and self.current.id in track_ids:
            self.advance(autoplay=self.playback.is_playing())

    def _position_s(self, track_id: TrackId) -> float | None:
        if self.current is not None and self.current.id == track_id:
            return round(self.playback.position_ms() / MS_PER_S, POSITION_DECIMALS)
        return None
