"""The one object a host (CLI, Qt app, another player) holds.

It wires the library scanner and the store together; later layers (encoder, user model, Up Next)
hang off it the same way. Dependencies come in through the constructor; there is no global state.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from player_plugin.models import Event, EventKind, QueueEntry, Track
from player_plugin.nlp.encoder import DEFAULT_MODEL_ID, Encoder
from player_plugin.store import (
    Database,
    EventRepository,
    QueueRepository,
    SettingsRepository,
    TrackRepository,
    VectorRepository,
)
from player_plugin.store.listing import TrackRow, track_rows
from player_plugin.store.tracks import LibraryCounts
from player_plugin.store.unreadable import UnreadableFile, UnreadableRepository

if TYPE_CHECKING:  # the scanner, the embedder, the encoder and the recommender load when first used:
    # a one-shot CLI command imports only what it runs (bench/cli_latency.py)
    from player_plugin.embedding import EmbedProgress, EmbedReport
    from player_plugin.library.scanner import CancelFn, ProgressFn, ScanReport
    from player_plugin.recommend.service import RecommendService


class Engine:
    """``encoder_factory(model_id)`` builds the text encoder on first need (tests inject their own)."""

    def __init__(
        self,
        db: Database,
        encoder_factory: Callable[[str], Encoder] | None = None,
        model_id: str | None = None,
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
        self.now_playing: int | None = None  # the track the host is playing (set by a "play" event)

    @classmethod
    def open(cls, db_path: str | os.PathLike[str]) -> Engine:
        return cls(Database(db_path))

    @property
    def recommender(self) -> RecommendService:
        """Up Next's service, built on first use (its imports are the heaviest of the engine's)."""
        if self._recommender is None:
            from player_plugin.recommend.service import RecommendService

            self._recommender = RecommendService(self.db, lambda: self.encoder, lambda: self.model_id)
        return self._recommender

    def close(self) -> None:
        self.db.close()

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
        if remember:
            for root in roots:
                if Path(root).is_dir():
                    self.settings.add_root(root)
        from player_plugin.library.scanner import Scanner

        report = Scanner(self.db).scan(roots, progress=progress, cancel=cancel)
        self.recommender.invalidate()
        return report

    def library_counts(self) -> LibraryCounts:
        return self.tracks.counts()

    def roots(self) -> list[str]:
        return self.settings.roots()

    def track_rows(self, search: str | None = None, limit: int | None = None) -> tuple[list[TrackRow], int]:
        """The library's tracks (id, tags, path, lyrics, a vector of the current model), those
        matching ``search`` only, at most ``limit``; and how many matched in all."""
        return track_rows(self.db, self.model_id, search, limit)

    def unreadable_files(self) -> list[UnreadableFile]:
        """The files the last scan of each folder could not read, with the reason (path order)."""
        return UnreadableRepository(self.db).all()

    # -- music understanding ---------------------------------------------------------------------

    @property
    def model_id(self) -> str:
        """The model in use: the constructor's, else the library's setting, else the default."""
        return self._model_id or self.settings.get("model_id") or DEFAULT_MODEL_ID

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

        report = Embedder(self.db, self.encoder).run(progress=progress, cancel=cancel)
        self.recommender.invalidate()
        return report

    def similar(self, text: str, count: int = 10) -> list[tuple[Track, float]]:
        """Library tracks ranked by cosine to a free-text query (embedded with the query prefix)."""
        ids, matrix = self.vectors.matrix(self.model_id)
        if len(ids) == 0:
            return []
        query = self.encoder.embed_query(text)
        scores = matrix @ query
        k = min(count, len(ids))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        out = []
        for i in top:
            track = self.tracks.get(int(ids[i]))
            if track is not None:
                out.append((track, float(scores[i])))
        return out

    # -- listening ---------------------------------------------------------------------------------

    def record(
        self,
        track_id: int,
        kind: EventKind | str,
        position_s: float | None = None,
        context: dict | None = None,
    ) -> None:
        """Store what the listener did. ``play`` marks the track as now playing."""
        kind = EventKind(kind)
        self.events.record(Event(track_id, kind, position_s, 0.0, context or {}))
        if kind == EventKind.PLAY:
            self.now_playing = track_id
        if kind in (EventKind.DISLIKE, EventKind.BLOCK):
            # A track you just rejected leaves the queue at once.
            self.queue_repo.replace([e for e in self.queue_repo.entries() if e.track_id != track_id])

    def comment(self, track_id: int, text: str) -> None:
        """A free-text note on a track; its embedding joins the long-term taste."""
        text = text.strip()
        if not text:
            raise ValueError("empty comment")
        try:
            vec, model_id = self.encoder.embed_query(text), self.model_id
        except Exception:  # noqa: BLE001 - keep the words even when the model cannot run now
            vec, model_id = None, None
        self.events.add_comment(track_id, text, model_id, vec)

    @property
    def prompt(self) -> str | None:
        return self.recommender.prompt

    def set_prompt(self, text: str | None) -> None:
        """Set (or clear with None/"") the free-text wish that steers Up Next; the auto entries refill."""
        if (text or "").strip() != (self.prompt or ""):
            self.recommender.set_prompt(text)
            # The recommended entries answered the old wish: drop them so the next fill follows the new one.
            entries = self.queue_repo.entries()
            if any(not e.manual for e in entries):
                self.queue_repo.replace([e for e in entries if e.manual])

    # -- Up Next ------------------------------------------------------------------------------------

    def queue(self) -> list[QueueEntry]:
        return self.queue_repo.entries()

    def up_next(self, n: int = 10) -> list[QueueEntry]:
        """Top the queue up to ``n`` entries with recommendations; manual entries stay where they are."""
        entries = self.queue_repo.entries()
        missing = n - len(entries)
        if missing > 0:
            entries += self.recommender.recommend(missing, [e.track_id for e in entries], self.now_playing)
            self.queue_repo.replace(entries)
        return entries

    def refill(self, n: int = 10) -> list[QueueEntry]:
        """Drop the recommended entries and fill again (after a prompt change, a like, a dislike)."""
        self.queue_repo.replace([e for e in self.queue_repo.entries() if e.manual])
        return self.up_next(n)

    def start_mix(self, seed: int | str, n: int = 10) -> list[QueueEntry]:
        """A fresh Up Next seeded by a track id, a title or an artist name."""
        self.recommender.seed = self.recommender.resolve_seed(str(seed))
        return self.refill(n)

    def queue_add(self, track_id: int, next: bool = False) -> None:  # noqa: A002 - the user's word
        """Add by hand: at the end, or right after the current track ("play next")."""
        if self.tracks.get(track_id) is None:
            raise KeyError(f"no track with id {track_id}")
        # A recommendation of the same track gives way to the one added by hand (no track twice).
        entries = [e for e in self.queue_repo.entries() if e.manual or e.track_id != track_id]
        entry = QueueEntry(track_id, "added by you", manual=True)
        if next:
            entries.insert(0, entry)
        else:
            last_manual = max((i for i, e in enumerate(entries) if e.manual), default=-1)
            entries.insert(last_manual + 1, entry)
        self.queue_repo.replace(entries)

    def queue_remove(self, index: int) -> QueueEntry:
        """Remove an entry; a removed recommendation is feedback ("not this") and stays out."""
        entries = self.queue_repo.entries()
        entry = entries.pop(index)
        self.queue_repo.replace(entries)
        if not entry.manual:
            self.events.record(Event(entry.track_id, EventKind.QUEUE_REMOVE))
        return entry

    def queue_move(self, src: int, dst: int) -> None:
        entries = self.queue_repo.entries()
        entry = entries.pop(src)
        entries.insert(max(0, min(dst, len(entries))), entry)
        self.queue_repo.replace(entries)

    def queue_pop(self) -> QueueEntry | None:
        """Take the head of the queue to play it."""
        entries = self.queue_repo.entries()
        if not entries:
            return None
        head = entries.pop(0)
        self.queue_repo.replace(entries)
        return head

    # -- your data --------------------------------------------------------------------------------

    def forget_history(self) -> int:
        """Delete every listening event and comment, and the recommended queue entries whose reasons
        quote them; the library, the settings and the entries you added stay."""
        self.recommender.seed = None
        self.now_playing = None
        return self.events.forget_all()

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
            "blocklist": self.settings.get("blocklist", {}) or {},
            "recommend_settings": self.settings.get("recommend", {}) or {},
            "folders": self.roots(),
        }
        text = json.dumps(data, ensure_ascii=False, indent=1)
        fd = os.open(os.fspath(path), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
