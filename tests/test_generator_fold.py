"""The app's fills with the generator folded into the int8 first pass (recommend/seq2seq_rec.py,
``GeneratorSide``) pick what the exact map of the library picks: the same store, the same shipped
generator, once as it ships (a linear track map: folded) and once behind the bare generator
interface (``map_tracks`` / ``generate_batch`` only: the library mapped and scored exactly). The
first pass is made to run on a small library, and to rescore few rows, so rows outside the rescored
ones carry approximate scores in both runs."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from player_plugin.models import Event, EventKind, TrackTags
from player_plugin.nlp.manifest import TRACK_SPACES
from player_plugin.recommend import first_pass
from player_plugin.recommend.seq2seq_rec import load_generator_or_none
from player_plugin.recommend.service import RecommendService
from player_plugin.store import Database, EventRepository, TrackRepository, VectorRepository
from player_plugin.store.tracks import ScannedFile

NOW = 2_000_000.0


class BareGenerator:
    """The shipped generator seen through the generator interface alone (as a generator trained by
    export/train_seq2seq.py is): no ``weight`` / ``bias`` to fold; the track vectors it reads
    (``track_space``) are part of that interface."""

    def __init__(self, generator) -> None:
        self._g = generator
        self.track_space = generator.track_space

    def map_tracks(self, vectors: np.ndarray) -> np.ndarray:
        return self._g.map_tracks(vectors)

    def generate_batch(self, *args, **kwargs) -> np.ndarray:
        return self._g.generate_batch(*args, **kwargs)


def _store(path, n: int, dim: int) -> tuple[Database, list[int]]:
    db = Database(path)
    tracks, vectors = TrackRepository(db), VectorRepository(db)
    rng = np.random.default_rng(3)
    styles = rng.standard_normal((30, dim)).astype(np.float32)
    ids = []
    with db.transaction():
        for i in range(n):
            title = f"Song {i}" if i % 4 else f"歌 {i}"  # two script groups, for a script-centred generator
            tags = TrackTags(title=title, artists=(f"Artist {i % 300}",), duration_s=200.0)
            tid = tracks.insert(ScannedFile(f"/music/{i}.mp3", 1000, i, "", tags, None, None), now=1.0)
            v = styles[i % 30] + 0.7 * rng.standard_normal(dim).astype(np.float32)
            vectors.put(tid, "m", v / np.linalg.norm(v), "h")
            ids.append(tid)
    return db, ids


@pytest.mark.parametrize("track_space", TRACK_SPACES)
def test_folded_and_exact_generator_fill_alike(tmp_path, monkeypatch, track_space):
    """The shipped generator reads raw vectors; a script-centred one (export/train_seq2seq.py
    --track-space) is the same weights told to read each track less its script's mean."""
    generator = load_generator_or_none()
    if generator is None:
        pytest.skip("the shipped generator is missing")
    generator = copy.copy(generator)
    generator.track_space = track_space
    monkeypatch.setattr(first_pass, "FIRST_PASS_MIN_TRACKS", 1000)
    monkeypatch.setattr(first_pass, "RESCORE_ROWS", 60)
    monkeypatch.setattr(first_pass, "RESCORE_GENERATOR_ROWS", 40)
    db, ids = _store(tmp_path / "lib.db", 4000, generator.dim)
    events = EventRepository(db)
    session = ids[7:400:37]  # a session going on: the generator has its say
    for k, tid in enumerate(session):
        events.record(Event(tid, EventKind.PLAY, None, NOW - 3000 + 240 * k))
        events.record(Event(tid, EventKind.COMPLETE, None, NOW - 2800 + 240 * k))

    def fills(gen) -> list[list[tuple[int, str]]]:
        svc = RecommendService(db, lambda: None, lambda: "m", clock=lambda: NOW)
        svc.set_generator(gen)
        out = [[(e.track_id, e.reason) for e in svc.recommend(10, [], None)]]
        index = svc.index()
        assert index.first_pass is not None
        side = index.generator_side(gen)  # which way its scores came: folded (norms kept) or mapped
        assert (side._inverse_norm is not None, side._mapped is not None) == (
            (True, False) if gen is generator else (False, True)
        )
        events.record(Event(ids[1234], EventKind.PLAY, None, NOW - 30))  # a new event: a new session
        out.append([(e.track_id, e.reason) for e in svc.recommend(10, [], None)])
        db.conn.execute("DELETE FROM events WHERE ts = ?", (NOW - 30,))
        return out

    folded, exact = fills(generator), fills(BareGenerator(generator))
    assert folded == exact
    assert all(len(f) == 10 for f in folded)
