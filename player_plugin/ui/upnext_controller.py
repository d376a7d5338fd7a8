"""The Up Next controller: fills and refills, the prompt, the hand-made queue, and what is shown of it.

Every engine call runs on the queue worker, in order with the player's listening calls, so the
queue is never edited from two threads. The engine announces each change (``queue_changed``,
through ``EngineSignals``) and says when a top-up is due (``refill_due``); this controller then
runs ``up_next``. The panel shows what ``entries_shown`` / ``prompt_shown`` / ``notice`` say.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from player_plugin.engine import Engine
from player_plugin.models import QueueEntry, Track, TrackId
from player_plugin.ui.player_controller import PlayerController
from player_plugin.ui.playlist import write_m3u8
from player_plugin.ui.workers import Job, JobRunner

log = logging.getLogger(__name__)


class UpNextController(QObject):
    queue_changed = Signal(list)  # list[QueueEntry]: the state after one of this controller's jobs
    entries_shown = Signal(list, object)  # entries, {track id: Track | None}: what the panel draws
    prompt_shown = Signal(object, bool)  # the prompt followed (str | None), whether to fill the box too
    autofill_shown = Signal(bool)  # the stored switch, at start
    notice = Signal(str)  # why Up Next can't recommend ("" when it can)
    message = Signal(str)  # for the status bar

    def __init__(
        self,
        engine: Engine,
        runner: JobRunner,
        player: PlayerController,
        tracks: Callable[[TrackId], Track | None],
        ask_playlist_path: Callable[[], str | None],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.engine = engine
        self._runner = runner
        self._player = player
        self._tracks = tracks
        self._ask_playlist_path = ask_playlist_path
        self._queue: list[QueueEntry] = []
        self._fill_pending = False
        self._closed = False
        self.autofill = True
        self.prompt: str | None = None
        self.recommend_error: str | None = None  # set while the music model cannot be loaded
        player.autofill_allowed = self.may_autofill
        player.queue_seen.connect(self._show_queue)
        player.queue_failed.connect(self._recommend_failed)
        player.taste_changed.connect(lambda: self.refill(only_if_auto=True))

    def start(self) -> Job:
        """Show the stored switch and prompt, then the engine's queue."""
        self.autofill = self.engine.autofill
        self.autofill_shown.emit(self.autofill)
        self.prompt = self.engine.prompt
        if self.prompt:
            self.prompt_shown.emit(self.prompt, True)
        return self._queue_job("load queue", lambda: None)

    def close(self) -> None:
        self._closed = True

    def entries(self) -> list[QueueEntry]:
        return list(self._queue)

    def may_autofill(self) -> bool:
        return self.autofill and self.recommend_error is None

    # -- fills --------------------------------------------------------------------------------------

    def _queue_job(self, name: str, fn: Callable[[], Any], on_done: Callable[[list], None] | None = None) -> Job:
        """Run ``fn`` on the queue worker, then show the engine's queue."""
        engine = self.engine

        def work(_job: Job) -> list[QueueEntry]:
            result = fn()
            return result if isinstance(result, list) else engine.queue()

        def done(entries: list[QueueEntry]) -> None:
            self._show_queue(entries)
            if on_done is not None:
                on_done(entries)

        return self._runner.submit(work, name, on_done=done, on_error=self._recommend_failed)

    def fill_queue(self) -> Job | None:
        """Top Up Next up to the engine's queue target."""
        if self._fill_pending:
            return None
        self._fill_pending = True

        def finished(_entries: list[QueueEntry]) -> None:
            self._fill_pending = False

        job = self._queue_job("fill", self.engine.up_next, on_done=finished)
        prev_error = job.on_error

        def failed(exc: BaseException) -> None:
            self._fill_pending = False
            if prev_error is not None:
                prev_error(exc)

        job.on_error = failed
        return job

    def refill(self, only_if_auto: bool = False) -> Job | None:
        """Replace the recommended entries (manual ones stay)."""
        if only_if_auto and not self.autofill:
            return None
        return self._queue_job("refill", self.engine.refill)

    def set_prompt(self, text: str | None) -> Job:
        text = (text or "").strip() or None
        self.prompt = text
        self.prompt_shown.emit(text, False)
        engine = self.engine

        def work() -> list[QueueEntry]:
            engine.set_prompt(text)
            return engine.refill()

        self.message.emit(f"Up Next now follows “{text}”" if text else "Prompt cleared: Up Next follows your taste")
        return self._queue_job("prompt", work)

    def set_autofill(self, on: bool) -> None:
        self.autofill = on
        self.engine.set_autofill(on)  # switching it on announces the queue, "refill due" when it is short

    def model_ready(self, cancelled: bool) -> None:
        """Embedding finished: recommendations work; an empty queue is filled when auto-fill is on."""
        self.recommend_error = None
        if not cancelled and not self._queue and self.autofill:
            self.fill_queue()

    def on_vectors_added(self, done: int, total: int) -> None:
        """An embedding job is under way and some tracks have vectors: an empty Up Next (auto-fill on) is
        filled from them now instead of when the whole library is done."""
        if not self._queue and self.autofill and self.recommend_error is None and not self._closed:
            self.fill_queue()

    def on_model_changed(self) -> None:
        """Vectors, the model or the queue rules changed (the engine said so): the recommended entries
        answered the old state, so they are picked again (when auto-fill is on). An empty queue waits for
        ``model_ready``, which fills it once the first embedding is done."""
        if self._queue and self.recommend_error is None and not self._closed:
            self.refill(only_if_auto=True)

    def model_failed(self, error: str) -> None:
        self.recommend_error = f"the music model could not be loaded ({error})"
        self.notice.emit(
            "Up Next can't recommend: " + self.recommend_error + ". Library and playback still work; "
            "add tracks by hand (right-click a track)."
        )

    # -- the hand-made queue ------------------------------------------------------------------------

    def queue_add(self, track_ids: list[TrackId], next_: bool = False) -> Job:
        engine = self.engine

        def work() -> None:
            for tid in reversed(track_ids) if next_ else track_ids:
                engine.queue_add(tid, next=next_)

        n = len(track_ids)
        self.message.emit(f"{n} track(s) " + ("will play next" if next_ else "added to Up Next"))
        return self._queue_job("queue add", work)

    def remove_from_queue(self, index: int) -> Job | None:
        if not 0 <= index < len(self._queue):
            return None
        engine = self.engine
        self._show_queue(self._queue[:index] + self._queue[index + 1 :])  # at once; the engine's follows
        return self._queue_job("queue remove", lambda: engine.queue_remove(index))

    def move_in_queue(self, src: int, dst: int) -> Job | None:
        n = len(self._queue)
        if not (0 <= src < n and 0 <= dst < n) or src == dst:
            return None
        engine = self.engine
        optimistic = list(self._queue)
        optimistic.insert(dst, optimistic.pop(src))
        self._show_queue(optimistic)
        return self._queue_job("queue move", lambda: engine.queue_move(src, dst))

    def play_from_queue(self, index: int) -> None:
        """Play a queue entry now (the entries before it stay)."""
        if not 0 <= index < len(self._queue):
            return
        entry = self._queue[index]
        engine = self.engine

        def work(_job: Job) -> tuple[QueueEntry | None, list[QueueEntry]]:
            return engine.queue_pop(index), engine.queue()

        def done(result: tuple[QueueEntry | None, list[QueueEntry]]) -> None:
            head, entries = result
            self._show_queue(entries)
            self._player.play_track(head.track_id if head else entry.track_id, source="queue")

        self._runner.submit(work, "play from queue", on_done=done, on_error=self._recommend_failed)

    def start_mix(self, track_id: TrackId) -> Job:
        engine = self.engine
        track = self._tracks(track_id)
        self.message.emit(f"Mix started from “{track.tags.title if track else track_id}”")
        job = self._queue_job("mix", lambda: engine.start_mix(track_id))  # the seed is not queued: it plays now
        self._player.play_track(track_id, source="mix")
        return job

    def continue_playlist(self, path: str | os.PathLike[str]) -> Job:
        """A fresh Up Next that continues an M3U/M3U8 playlist (``Engine.continue_playlist``)."""
        engine, said = self.engine, {}

        def work() -> list[QueueEntry]:
            entries, said["name"] = engine.continue_playlist(path)
            return entries

        def done(entries: list[QueueEntry]) -> None:
            self.message.emit(f"Continuing “{said.get('name', '')}”: {len(entries)} picks in Up Next")

        return self._queue_job("continue playlist", work, on_done=done)

    def save_playlist(self, path: str | os.PathLike[str] | None = None) -> Path | None:
        """Write Up Next as M3U8 (``path`` None: ask where)."""
        if not self._queue:
            self.message.emit("Up Next is empty: nothing to save")
            return None
        if path is None:
            chosen = self._ask_playlist_path()
            if not chosen:
                return None
            path = chosen if chosen.lower().endswith((".m3u8", ".m3u")) else chosen + ".m3u8"
        tracks = [t for t in (self._tracks(e.track_id) for e in self._queue) if t is not None]
        title = f"Up Next — {self.prompt}" if self.prompt else "Up Next"
        done = write_m3u8(Path(path), tracks, title=title)
        left_out = f" ({done.skipped} left out: a line break in the file name)" if done.skipped else ""
        self.message.emit(f"Saved {done.written} tracks to {path}{left_out}")
        return Path(path)

    # -- what is shown ------------------------------------------------------------------------------

    def on_engine_queue(self, entries: list[QueueEntry], refill_due: bool) -> None:
        """The engine changed Up Next (on the worker); it says when a top-up is due. ``queue_changed`` stays
        the signal of this controller's own jobs (their last state), so an intermediate state is only drawn."""
        self._show_queue(entries, announce=False)
        if refill_due and self.recommend_error is None and not self._closed:
            self.fill_queue()

    def _recommend_failed(self, exc: BaseException) -> None:
        log.warning("Up Next: %s", exc, exc_info=exc)
        self.notice.emit(f"Up Next can't recommend right now: {self.engine.error_text(exc)}")

    def _show_queue(self, entries: list[QueueEntry], announce: bool = True) -> None:
        self._queue = list(entries)
        if entries and self.recommend_error is None:
            self.notice.emit("")
        self.redraw()
        if announce:
            self.queue_changed.emit(list(entries))

    def redraw(self) -> None:
        """Show the entries again (the library changed: titles, durations)."""
        self.entries_shown.emit(list(self._queue), {e.track_id: self._tracks(e.track_id) for e in self._queue})
