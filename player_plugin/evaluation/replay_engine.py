"""``upnext`` in the replay task: the real product path, not a model of it.

Per listener: a temporary library database (their library as track rows with synthetic paths; each
track's text from tracks.tsv through the product's text view, its vector from the harness's cache of
the product's encoder, stored with the text hash the embedder would store), an :class:`Engine` on it
with the replay's clock injected, and every listen replayed in time order through the calls a host
makes: ``track_started(id, at=start)`` then ``track_ended(id, position, duration, at=end, reason=…)``,
"next" for a skip by FORMAT.md's rule and "ended" for a play. At a point the clock reads the point's
time and ``refill(k)`` asks for a fresh Up Next, exactly what the app would show if opened then:
habits, own transitions, sessions like this one, skips, the generator, explore slots, queue rules.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from player_plugin.engine import Engine
from player_plugin.evaluation.dataset import Dataset
from player_plugin.evaluation.histories import History
from player_plugin.evaluation.replay_baselines import ReplayRanker
from player_plugin.evaluation.replay_task import ReplayPoint
from player_plugin.listening import ENDED
from player_plugin.models import TrackTags
from player_plugin.nlp.textview import TrackText
from player_plugin.store import Database, TrackRepository, VectorRepository
from player_plugin.store.tracks import ScannedFile

SKIP_REASON = "next"  # a skip: the listener moved on (the next button)
MS_PER_S = 1000.0


def _tags(dataset: Dataset, i: int) -> TrackTags:
    artist = dataset.artists[i].strip()
    genre = dataset.genres[i].strip()
    return TrackTags(
        title=dataset.titles[i].strip() or dataset.track_ids[i],
        artists=(artist,) if artist else (),
        album=dataset.albums[i].strip() or None,
        genres=(genre,) if genre else (),
    )


def store_library(
    path: Path, dataset: Dataset, library: np.ndarray, vectors: np.ndarray, model_id: str, owner: str
) -> tuple[Database, np.ndarray]:
    """A library database at ``path``: dataset tracks ``library`` as rows with synthetic paths, each with
    its vector (``vectors``, library order) and the text hash the embedder would store. Returns the
    database and the track id of each library row."""
    db = Database(path)
    tracks, store = TrackRepository(db), VectorRepository(db)
    ids = np.empty(len(library), np.int64)
    with db.transaction():
        for row, i in enumerate(library.tolist()):
            scanned = ScannedFile(f"/{owner}/{dataset.track_ids[i]}", 0, 0, "", _tags(dataset, i), None, None)
            ids[row] = tracks.insert(scanned, now=0.0, reattach=False)
            store.put(int(ids[row]), model_id, vectors[row], TrackText(dataset.track_text(i), ()).hash)
    return db, ids


class EngineReplay(ReplayRanker):
    """The product's Engine, fed one listener's history. ``generator=False`` runs Up Next without the
    Seq2Seq generator (to report its share)."""

    def __init__(
        self,
        history: History,
        listen_rows: np.ndarray,
        library: np.ndarray,
        dataset: Dataset,
        vectors: np.ndarray,
        model_id: str,
        *,
        generator: bool = True,
        encoder_factory: Callable | None = None,
        settings: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(history, listen_rows, len(library))
        self._tmp = tempfile.TemporaryDirectory(prefix="player-plugin-replay-")
        db, ids = store_library(Path(self._tmp.name) / "library.db", dataset, library, vectors, model_id, history.user)
        self.track_ids = ids
        self.row_of = {int(t): r for r, t in enumerate(ids.tolist())}
        self.now = 0.0
        self.engine = Engine(db, encoder_factory=encoder_factory, model_id=model_id, clock=lambda: self.now)
        if not generator:
            self.engine.recommender.set_generator(None)
        if settings:
            self.engine.settings.set_recommend_settings(dict(settings))

    def observe(self, j: int) -> None:
        h = self.history
        start = float(h.ts[j])
        ms = int(h.ms_played[j])
        end = start + ms / MS_PER_S if ms >= 0 else start
        if j + 1 < len(h):
            end = min(end, float(h.ts[j + 1]))  # overlapping rows in an export: the next start ends this one
        track = int(self.track_ids[self.rows[j]])
        self.now = start
        self.engine.track_started(track, at=start)
        self.now = end
        position = ms / MS_PER_S if ms >= 0 else None
        self.engine.track_ended(track, position, None, at=end, reason=SKIP_REASON if h.skipped[j] else ENDED)

    def rank(self, point: ReplayPoint, k: int) -> np.ndarray:
        self.now = point.now
        entries = self.engine.refill(k)  # the context is among the last plays, which Up Next leaves out
        context = set(point.context.tolist())
        rows = [self.row_of[e.track_id] for e in entries if e.track_id in self.row_of]
        return np.asarray([r for r in rows if r not in context][:k], np.int64)

    def close(self) -> None:
        self.engine.close()
        self._tmp.cleanup()
