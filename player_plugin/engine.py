"""The one object a host (CLI, Qt app, another player) holds.

It wires the library scanner and the store together; later layers (encoder, user model, Up Next)
hang off it the same way. Dependencies come in through the constructor; there is no global state.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from player_plugin.engine_queue import QueueOps
from player_plugin.engine_settings import HostSettings
from player_plugin.listeners import EngineListener, Listeners
from player_plugin.listening import ENDED, Listening, ListeningConfig, outcome, reached_complete
from player_plugin.models import Event, EventKind, Track, TrackId
from player_plugin.nlp.encoder import DEFAULT_MODEL_ID, Encoder
from player_plugin.store import (
    Database,
    EventRepository,
    QueueRepository,
    SettingsRepository,
    TrackRepository,
    VectorRepository,
)
from player_plugin.store.db import is_storage_error, storage_message
from player_plugin.store.listing import TrackRow, track_rows
from player_plugin.store.play_counts import play_counts
from player_plugin.store.settings import MODEL_KEY
from player_plugin.store.tracks import LibraryCounts, is_under
from player_plugin.store.unreadable import UnreadableFile, UnreadableRepository

if TYPE_CHECKING:  # the scanner, the embedder, the encoder and the recommender load when first used:
    # a one-shot CLI command imports only what it runs (bench/cli_latency.py)
    from player_plugin.embedding import EmbedProgress, EmbedReport
    from player_plugin.library.scanner import CancelFn, ProgressFn, ScanReport
    from player_plugin.ratings_import import RatingsImport
    from player_plugin.recommend.service import RecommendService


EMBED_ANNOUNCE_MIN = 2000  # tracks embedded between two "vectors_added" announcements of one run


class Engine(QueueOps, HostSettings):
    """``encoder_factory(model_id)`` builds the text encoder on first need (tests inject their own);
    ``clock`` gives "now" (unix seconds) wherever the engine stamps a time (a replay passes its own)."""

    def __init__(
        self,
        db: Database,
        encoder_factory: Callable[[str], Encoder] | None = None,
        model_id: str | None = None,
        clock: Callable[[], float] = time.time,
        listening: ListeningConfig | None = None,
    ) -> None:
        self.db = db
        self.tracks = TrackRepository(db)
        self.settings = SettingsRepository(db)
        self.vectors = VectorRepository(db)
        self._encoder_factory = encoder_factory or (lambda mid: Encoder.load(mid))
        self._model_id = model_id
        self._encoder: Encoder | None = None
        self.events = EventRepository(db)
        self.queue_repo = QueueRepository(db)
        self._recommender: RecommendService | None = None
        # set by a host that shares one encoder between threads (shared_encoder.make_engine)
        self.shared_encoders: Any = None
        self.clock = clock
        self.listening = Listening(listening or ListeningConfig())
        self._listeners = Listeners()

    @classmethod
    def open(cls, db_path: str | os.PathLike[str]) -> Engine:
        return cls(Database(db_path))

    @property
    def recommender(self) -> RecommendService:
        """Up Next's service, built on first use (its imports are the heaviest of the engine's)."""
        if self._recommender is None:
            from player_plugin.recommend.service import RecommendService

            self._recommender = RecommendService(self.db, lambda: self.encoder, lambda: self.model_id, clock=self.clock)
        return self._recommender

    def subscribe(self, listener: EngineListener) -> Callable[[], None]:
        """Announce changes to ``listener`` (see ``player_plugin.listeners``); returns the unsubscribe call.
        Listeners run synchronously on the thread that made the change."""
        return self._listeners.subscribe(listener)

    def close(self) -> None:
        self.db.close()

    def error_text(self, exc: BaseException) -> str:
        """The one line a host shows for an error from the engine: a database's in the CLI's words (a full
        disk with its free space, a file the modes refuse, a lock, damage), anything else as it says."""
        return storage_message(self.db.path, exc) if is_storage_error(exc) else str(exc)

    @staticmethod
    def is_storage_error(exc: BaseException) -> bool:
        """Whether ``exc`` is the database's (the work around it, a model say, went fine)."""
        return is_storage_error(exc)

    # -- library -------------------------------------------------------------------------------

    def scan(
        self,
        paths: Iterable[str | os.PathLike[str]] | None = None,
        progress: ProgressFn | None = None,
        cancel: CancelFn | threading.Event | None = None,
        remember: bool = True,
    ) -> ScanReport:
        """Scan ``paths`` (default: the configured library folders); new folders are remembered."""
        roots = [os.path.abspath(os.fspath(p)) for p in paths] if paths is not None else self.settings.roots()
        from player_plugin.library.scanner import Scanner
        from player_plugin.library.walk import valid_name

        if remember:
            for root in roots:
                # a name that is not valid UTF-8 cannot be stored: the scanner reports it
                if valid_name(root) and Path(root).is_dir():
                    self.settings.add_root(root)

        report = Scanner(self.db).scan(roots, progress=progress, cancel=cancel)
        self._scanned(report)
        return report

    def _scanned(self, report: ScanReport) -> None:
        """After a scan: the library changed; tracks it removed leave what plays and the queue."""
        self.recommender.invalidate()
        self._listeners.send("library_changed")
        if not report.removed:
            return
        gone = {t for t in set(self.listening.heard) if self.tracks.get(t) is None}
        if gone and self.listening.forget(gone):
            self._listeners.send("now_playing_changed", None)  # its file is gone: nothing to record any more
        self._announce_queue(self.queue(), shrunk=True)  # their entries left with them (ON DELETE CASCADE)

    def scan_changes(
        self,
        folders: Iterable[str],
        progress: ProgressFn | None = None,
        cancel: CancelFn | threading.Event | None = None,
        deleted: Iterable[str] = (),
    ) -> ScanReport:
        """Rescan only ``folders``, inside the library folders: what a watcher saw change
        (library/watch.py), each scanned as part of its library folder, with the paths it saw
        ``deleted`` known to be gone (``Scanner.scan``)."""
        from player_plugin.library.scanner import Scanner, ScanReport

        roots = self.settings.roots()
        inside = [f for f in folders if any(is_under(f, r) for r in roots)]
        if not inside:
            return ScanReport()  # nothing of the library's (a folder removed from it since): nothing changed
        scanner = Scanner(self.db)
        report = scanner.scan(inside, progress=progress, cancel=cancel, library_roots=roots, deleted=deleted)
        self._scanned(report)
        return report

    def library_counts(self) -> LibraryCounts:
        return self.tracks.counts()

    def roots(self) -> list[str]:
        return self.settings.roots()

    def track_rows(self, search: str | None = None, limit: int | None = None) -> tuple[list[TrackRow], int]:
        """The library's tracks (id, tags, path, lyrics, a vector of the current model), those
        matching ``search`` only, at most ``limit``; and how many matched in all."""
        return track_rows(self.db, self.model_id, search, limit)

    def play_counts(self) -> dict[TrackId, int]:
        """How often each track was played (``play`` events), by one GROUP BY."""
        return play_counts(self.db)

    def unreadable_files(self) -> list[UnreadableFile]:
        """The files the last scan of each folder could not read, with the reason (path order)."""
        return UnreadableRepository(self.db).all()

    # -- music understanding ---------------------------------------------------------------------

    @property
    def model_id(self) -> str:
        """The model in use: the constructor's, else the library's setting, else the default."""
        return self._model_id or self.settings.get(MODEL_KEY) or DEFAULT_MODEL_ID

    @property
    def encoder(self) -> Encoder:
        if self._encoder is None or self._encoder.model_id != self.model_id:
            self._encoder = self._encoder_factory(self.model_id)
        return self._encoder

    def embed(
        self,
        progress: Callable[[EmbedProgress], None] | None = None,
        cancel: CancelFn | threading.Event | None = None,
    ) -> EmbedReport:
        """Vectors for every track that lacks a current one (resumable, cancellable)."""
        from player_plugin.embedding import Embedder

        announced = [0]

        def progressed(p: EmbedProgress) -> None:
            # Vectors are stored chunk by chunk: Up Next can fill from what is there long before a big
            # library is done. Said after the first chunk, then every tenth of the work (at least
            # EMBED_ANNOUNCE_MIN tracks apart: each announcement makes the next fill read the catalog).
            step = max(EMBED_ANNOUNCE_MIN, p.total // 10)
            if p.done and p.done < p.total and (announced[0] == 0 or p.done - announced[0] >= step):
                announced[0] = p.done
                self.recommender.invalidate()
                self._listeners.send("vectors_added", p.done, p.total)
            if progress is not None:
                progress(p)

        report = Embedder(self.db, self.encoder).run(progress=progressed, cancel=cancel)
        self.recommender.invalidate()
        if report.embedded:  # vectors changed; an embed with nothing to do changes nothing
            self._listeners.send("model_changed")
        return report

    def similar(self, text: str, count: int = 10) -> list[tuple[Track, float]]:
        """Library tracks ranked by how well they fit a free-text query: the prompt's own ranking, the same
        one Up Next follows while a prompt is set (recommend/prompt_space.py)."""
        from player_plugin.recommend.prompt_adapter import prompt_lead
        from player_plugin.recommend.prompt_language import language_wish
        from player_plugin.recommend.prompt_space import centred_query

        recommender = self.recommender
        index = recommender.index()
        ids = index.catalog.ids
        if len(ids) == 0:
            return []
        raw = self.encoder.embed_query(text)
        query = prompt_lead(centred_query(text, raw, recommender.query_centre(), len(ids)), text, index.model_id)
        scores = index.prompt_fit(query, language_wish(text, raw, index.model_id))
        k = min(count, len(ids))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        out = []
        for i in top:
            track = self.tracks.get(int(ids[i])) if np.isfinite(scores[i]) else None  # not the language asked for
            if track is not None:
                out.append((track, float(scores[i])))
        return out

    # -- listening (the rules: player_plugin/listening.py) ---------------------------------------

    @property
    def now_playing(self) -> TrackId | None:
        """The track the host is playing: the last one whose ``play`` was recorded."""
        return self.listening.now_playing

    def record(
        self,
        track_id: int,
        kind: EventKind | str,
        position_s: float | None = None,
        context: dict | None = None,
        at: float | None = None,
    ) -> None:
        """Store what the listener did (at ``at``, default the engine's clock), with the prompt while one is
        set. ``play`` makes the track the one playing; ``complete``, ``skip``, ``dislike`` and ``block`` of
        it end its play (the host's ``track_ended`` then adds nothing)."""
        kind = EventKind(kind)
        context = dict(context or {})
        if prompt := self.prompt:
            context.setdefault("prompt", prompt)
        self.events.record(Event(track_id, kind, position_s, self._ts(at), context))
        if kind == EventKind.PLAY:
            if self.listening.start(track_id):
                self._listeners.send("now_playing_changed", track_id)
        elif kind in (EventKind.COMPLETE, EventKind.SKIP, EventKind.DISLIKE, EventKind.BLOCK):
            self.listening.close(track_id)
        if kind in (EventKind.DISLIKE, EventKind.BLOCK):
            # A track you just rejected leaves the queue at once.
            self._edit_queue(lambda entries: [e for e in entries if e.track_id != track_id], shrinks=True)

    def track_started(self, track_id: TrackId, at: float | None = None, via: str = "library") -> None:
        """The host's player started ``track_id`` (``via``: library, queue, mix, previous, …): a ``play``.
        Up Next's own picks of it leave the queue (played from the library while it was next, it would
        play again at its end); an entry the listener queued stays."""
        self.record(track_id, EventKind.PLAY, context={"source": via}, at=at)
        self._edit_queue(lambda entries: [e for e in entries if e.manual or e.track_id != track_id], shrinks=True)

    def resume_play(self, track_id: TrackId) -> bool:
        """A host reconnected mid-song to an engine started since (a service that was restarted): the
        play it reported before is open again when it is the last event stored, so that its end is
        recorded once. Stores nothing; False when that play is not the last thing stored."""
        if self.now_playing == track_id and self.listening.is_open:
            return True
        last = self.events.recent(1)
        if not last or last[0].track_id != track_id or last[0].kind != EventKind.PLAY:
            return False
        if self.listening.start(track_id):
            self._listeners.send("now_playing_changed", track_id)
        return True

    def is_complete(self, position_s: float | None, duration_s: float | None) -> bool:
        """Whether a play this far in counts as finished (hosts use it to report the moment it does)."""
        return reached_complete(position_s, duration_s, self.listening.cfg)

    def track_position(
        self, track_id: TrackId, position_s: float, duration_s: float | None, at: float | None = None
    ) -> EventKind | None:
        """The playing track got to ``position_s``: its ``complete`` once that counts as finished."""
        if not self.is_complete(position_s, duration_s) or not self.listening.close(track_id):
            return None
        self.record(track_id, EventKind.COMPLETE, round(position_s, 3), at=at)
        return EventKind.COMPLETE

    def track_ended(
        self,
        track_id: TrackId,
        position_s: float | None,
        duration_s: float | None,
        at: float | None = None,
        reason: str = ENDED,
    ) -> EventKind | None:
        """``track_id`` stopped being the current track at ``position_s`` of ``duration_s``: it ran out
        (``reason="ended"``) or the listener moved on (``"next"``, ``"stopped"``, ``"previous"``, or where
        the next track came from). Records ``complete`` or ``skip`` by the one rule
        (``listening.outcome``), once per play; returns it, or None when the play had already ended
        (or never started: a track loaded paused and left)."""
        if not self.listening.close(track_id):
            return None
        kind = outcome(position_s, duration_s, reason, self.listening.cfg)
        position = None if position_s is None else round(position_s, 3)
        self.record(track_id, kind, position, context=None if reason == ENDED else {"via": reason}, at=at)
        return kind

    def previous(self, position_s: float | None) -> TrackId | None:
        """What "previous" does at ``position_s`` into the current track: None restarts it (seek to 0);
        else the host plays the returned track (and reports it with ``track_started``)."""
        return self.listening.previous(position_s)

    def _ts(self, at: float | None) -> float:
        return self.clock() if at is None else at

    def comment(self, track_id: int, text: str, at: float | None = None) -> None:
        """A free-text note on a track; its embedding joins the long-term taste."""
        text = text.strip()
        if not text:
            raise ValueError("empty comment")
        try:
            vec, model_id = self.encoder.embed_query(text), self.model_id
        except Exception:  # noqa: BLE001 - keep the words even when the model cannot run now
            vec, model_id = None, None
        self.events.add_comment(track_id, text, model_id, vec, ts=self._ts(at))

    @property
    def prompt(self) -> str | None:
        return self.settings.prompt()

    def set_prompt(self, text: str | None) -> None:
        """Set (or clear with None/"") the free-text wish that steers Up Next; the auto entries refill."""
        if (text or "").strip() != (self.prompt or ""):
            self.recommender.set_prompt(text)
            # The recommended entries answered the old wish: drop them so the next fill follows the new one.
            self._edit_queue(lambda entries: [e for e in entries if e.manual])

    # -- your data --------------------------------------------------------------------------------

    def import_ratings(self, dry_run: bool = False) -> RatingsImport:
        """Likes and dislikes from the star ratings in the tags (ratings_import.py); Up Next's own picks
        make way for a fill that follows them."""
        from player_plugin.ratings_import import import_ratings

        report = import_ratings(self.db, dry_run=dry_run, now=self.clock())
        if not dry_run and (report.liked or report.disliked):
            self.recommender.history_forgotten()  # older events than the folded history's: fold again
            self._edit_queue(lambda entries: [e for e in entries if e.manual], shrinks=True)
        return report

    def forget_history(self) -> int:
        """Delete every listening event and comment, and the recommended queue entries whose reasons
        quote them; the library, the settings and the entries you added stay."""
        self.recommender.seed = None
        was_playing = self.now_playing
        self.listening.clear()
        n = self.events.forget_all()
        self.recommender.history_forgotten()
        if was_playing is not None:
            self._listeners.send("now_playing_changed", None)
        self._announce_queue(self.queue(), shrunk=False)
        return n

    def export_data(self, path: str | os.PathLike[str]) -> None:
        """Everything the app learned about you, as one JSON file (events, comments, settings, queue).

        Events of tracks whose file is gone are included (they keep the track's fingerprint). The
        file is created private (mode 0600), like the database.
        """
        import json

        data = {
            "events": self.events.export_rows(),
            "comments": [{"track_id": t, "text": x, "ts": ts} for t, x, ts, _m, _v in self.events.comments()],
            "queue": [{"track_id": e.track_id, "reason": e.reason, "manual": e.manual} for e in self.queue()],
            "prompt": self.prompt,
            "blocklist": self.settings.blocklist(),
            "recommend_settings": self.settings.recommend_settings(),
            "folders": self.roots(),
        }
        from player_plugin.private_files import write_private

        # 0600 even when it replaces an existing file (O_CREAT's mode applies only to a new one)
        write_private(Path(os.fspath(path)), json.dumps(data, ensure_ascii=False, indent=1).encode("utf-8"))
