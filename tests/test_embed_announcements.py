"""An embedding job under way says when some tracks have vectors (``vectors_added``), so a host fills an
empty Up Next from them instead of waiting for the whole library (issue 16: a 100k-track embed takes
minutes)."""

from __future__ import annotations

import pytest

from player_plugin import engine as engine_module
from player_plugin.engine import Engine
from player_plugin.listeners import EngineListener
from player_plugin.store import Database
from tests.conftest import make_track

MODEL = "all-minilm-l6-v2"
GENRES = ("jazz", "metal", "folk", "techno", "soul")


class FillsWhenVectorsArrive(EngineListener):
    """What the desktop app's Up Next does on ``vectors_added`` with an empty queue (on its worker)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.seen: list[tuple[int, int, int, int]] = []  # (done, total, entries, tracks with a vector)

    def vectors_added(self, done: int, total: int) -> None:
        entries = self.engine.up_next(5) if not self.engine.queue() else self.engine.queue()
        embedded = len(self.engine.vectors.text_hashes(MODEL))
        self.seen.append((done, total, len(entries), embedded))


def test_up_next_fills_from_what_is_embedded_so_far(tmp_path, monkeypatch):
    monkeypatch.setattr(engine_module, "EMBED_ANNOUNCE_MIN", 64)  # a 200-track library: every chunk counts
    music = tmp_path / "music"
    for i in range(200):
        genre = GENRES[i % len(GENRES)]
        make_track(music, f"t{i:03d}", "ogg", title=f"{genre.title()} song {i}", artist=f"Artist {i % 17}", genre=genre)
    engine = Engine(Database(tmp_path / "library.db"), model_id=MODEL)
    engine.scan([music])
    listener = FillsWhenVectorsArrive(engine)
    engine.subscribe(listener)
    report = engine.embed()
    assert report.embedded == 200
    assert listener.seen, "no announcement while the embed ran"
    done, total, entries, embedded = listener.seen[0]
    assert total == 200 and done < total and embedded == done  # said while most tracks had no vector yet
    assert entries == 5  # ... and Up Next filled from those
    assert all(d < t for d, t, _, _ in listener.seen)  # the end itself is model_changed's


@pytest.mark.parametrize("tracks", [30])
def test_a_small_library_is_announced_once_at_its_end(tmp_path, tracks):
    music = tmp_path / "music"
    for i in range(tracks):
        make_track(music, f"t{i:03d}", "ogg", title=f"Song {i}")
    engine = Engine(Database(tmp_path / "library.db"), model_id=MODEL)
    engine.scan([music])
    listener = FillsWhenVectorsArrive(engine)
    engine.subscribe(listener)
    engine.embed()
    assert listener.seen == []  # one chunk: the job's end (model_changed) says it all
