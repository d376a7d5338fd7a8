"""The library panel reads the library on its reader's thread; requests coalesce; closing is safe.

Real parts throughout: a copy of the prepared demo database, the real engine, the real panel. The
engine's own ``all_tracks`` / ``play_counts`` are wrapped (still called) to see which thread reads,
and to hold the first read back until the test has asked for more.
"""

from __future__ import annotations

import dataclasses
import logging
import shutil
import threading
import time

import pytest
import shiboken6
from PySide6.QtCore import Qt

from player_plugin.engine import Engine
from player_plugin.store import Database
from player_plugin.ui.library_model import LibraryModel
from player_plugin.ui.library_panel import LibraryPanel
from player_plugin.ui.library_reader import running_readers
from tests.ui.conftest import WAIT_MS

DEMO_TRACKS = 32
GATE_WAIT_S = 60  # a held read gives up waiting after this (a failing test must not hang)
SETTLE_MS = 200  # long enough for a read of the demo library that should not happen to show up
CLOSE_MAX_S = 2.0  # closing the window must not wait for a read under way


class Reads:
    """Wraps the engine's real reads: records the thread of each, holds the first one back after it read."""

    def __init__(self, engine: Engine, monkeypatch: pytest.MonkeyPatch, hold_first: bool = True) -> None:
        self.tracks_threads: list[int] = []
        self.counts_threads: list[int] = []
        self.gate = threading.Event()
        if not hold_first:
            self.gate.set()
        real_tracks, real_counts = engine.all_tracks, engine.play_counts

        def all_tracks():
            tracks = real_tracks()  # the library as it is now ...
            self.tracks_threads.append(threading.get_ident())
            if len(self.tracks_threads) == 1:
                self.gate.wait(GATE_WAIT_S)  # ... shown only once the test lets go
            return tracks

        def play_counts():
            self.counts_threads.append(threading.get_ident())
            return real_counts()

        monkeypatch.setattr(engine, "all_tracks", all_tracks)
        monkeypatch.setattr(engine, "play_counts", play_counts)
        self.real_tracks = real_tracks
        self.real_counts = real_counts


@pytest.fixture
def engine(prepared_db, tmp_path):
    db_path = tmp_path / "library.db"
    shutil.copyfile(prepared_db, db_path)
    engine = Engine(Database(db_path))
    yield engine
    engine.close()


@pytest.fixture
def panel(engine, qtbot):
    panel = LibraryPanel(engine)
    qtbot.addWidget(panel)
    panel.show()
    yield panel
    panel.shutdown()
    qtbot.waitUntil(lambda: running_readers() == 0, timeout=WAIT_MS)


@pytest.fixture
def release():
    """``release(reads)``: let its held read go at the end of the test, whatever happened."""
    held: list[Reads] = []
    yield held.append
    for reads in held:
        reads.gate.set()


def _ids(tracks) -> set[int]:
    return {t.id for t in tracks}


def test_reload_reads_on_another_thread_and_shows_the_tracks(panel, engine, qtbot, monkeypatch, release):
    reads = Reads(engine, monkeypatch)
    release(reads)
    shown: list[int] = []
    panel.reloaded.connect(shown.append)
    panel.reload(full=True)
    qtbot.waitUntil(lambda: len(reads.tracks_threads) == 1, timeout=WAIT_MS)
    # reload() came back while the read was still held: the UI thread did not wait for it
    assert panel.reloading and panel.row_count() == 0 and shown == []
    with qtbot.waitSignal(panel.reloaded, timeout=WAIT_MS) as done:
        reads.gate.set()
    assert done.args == [DEMO_TRACKS]
    ui_thread = threading.get_ident()
    assert reads.tracks_threads and all(t != ui_thread for t in reads.tracks_threads)
    assert reads.counts_threads and all(t != ui_thread for t in reads.counts_threads)
    assert panel.row_count() == DEMO_TRACKS
    assert _ids(panel.library_model.tracks()) == _ids(reads.real_tracks())
    assert panel.library_count_label.text() == f"{DEMO_TRACKS} tracks"
    assert not panel.reloading


def test_requests_during_a_read_make_one_more_read_that_shows_the_last_state(
    panel, engine, qtbot, monkeypatch, release
):
    reads = Reads(engine, monkeypatch)
    release(reads)
    shown: list[int] = []
    panel.reloaded.connect(shown.append)
    panel.reload(full=True)
    qtbot.waitUntil(lambda: len(reads.tracks_threads) == 1, timeout=WAIT_MS)  # read the 32 tracks, held
    gone = sorted(_ids(reads.real_tracks()))[:3]
    with engine.db.transaction():
        engine.tracks.delete(gone)
    for _ in range(5):
        panel.reload()
    panel.reload_throttled()
    reads.gate.set()
    qtbot.waitUntil(lambda: not panel.reloading, timeout=WAIT_MS)
    qtbot.wait(SETTLE_MS)
    assert len(reads.tracks_threads) == 2  # the held read, then one for all six requests
    assert shown == [DEMO_TRACKS, DEMO_TRACKS - len(gone)]
    assert _ids(panel.library_model.tracks()) == _ids(reads.real_tracks())
    assert panel.library_count_label.text() == f"{DEMO_TRACKS - len(gone)} tracks"


def test_a_full_request_merged_with_plain_ones_still_resets_play_counts(panel, engine, qtbot, monkeypatch, release):
    with qtbot.waitSignal(panel.reloaded, timeout=WAIT_MS):
        panel.reload(full=True)
    model = panel.library_model
    counted, played = model.track_at(0).id, model.track_at(1).id
    for _ in range(3):
        panel.add_play(counted)  # counted by the table, never stored
    assert model.plays(counted) == 3
    reads = Reads(engine, monkeypatch)
    release(reads)
    panel.reload()  # a merge: keeps the table's counts
    qtbot.waitUntil(lambda: len(reads.tracks_threads) == 1, timeout=WAIT_MS)
    engine.track_started(played)  # stored while the merge reads
    panel.reload(full=True)
    panel.reload()  # asking for a merge after the full request must not lose it
    reads.gate.set()
    qtbot.waitUntil(lambda: not panel.reloading, timeout=WAIT_MS)
    assert len(reads.tracks_threads) == 2
    assert len(reads.counts_threads) == 1  # the merge read no counts, the full read did
    stored = reads.real_counts()
    assert model.plays(counted) == stored.get(counted, 0) == 0
    assert model.plays(played) == stored[played] == 1
    assert model.index(model.row_of(played), model.columnCount() - 1).data() == "1"


def test_closing_the_window_during_a_read_neither_waits_nor_shows_it(make_window, prepared_db, qtbot, monkeypatch):
    window = make_window(prepared_db)
    reads = Reads(window.engine, monkeypatch)
    try:
        shown: list[int] = []
        window.library_panel.reloaded.connect(shown.append)
        window.library_panel.reload(full=True)
        qtbot.waitUntil(lambda: len(reads.tracks_threads) == 1, timeout=WAIT_MS)
        started = time.monotonic()
        window.close()
        assert time.monotonic() - started < CLOSE_MAX_S
    finally:
        reads.gate.set()
    qtbot.waitUntil(lambda: running_readers() == 0, timeout=WAIT_MS)
    assert shown == [] and window.library_panel.row_count() == 0
    window.library_panel.reload()  # after shutdown: nothing more is read
    qtbot.wait(SETTLE_MS)
    assert len(reads.tracks_threads) == 1 and running_readers() == 0


@pytest.mark.parametrize("how", ["deleteLater", "delete"])
def test_deleting_the_panel_during_a_read_is_harmless(engine, qtbot, monkeypatch, caplog, qtlog, capfd, how):
    reads = Reads(engine, monkeypatch)
    try:
        panel = LibraryPanel(engine)
        panel.show()
        panel.reload(full=True)
        qtbot.waitUntil(lambda: len(reads.tracks_threads) == 1, timeout=WAIT_MS)
        if how == "delete":
            shiboken6.delete(panel)
        else:
            panel.deleteLater()
            qtbot.waitUntil(lambda: not shiboken6.isValid(panel), timeout=WAIT_MS)
    finally:
        reads.gate.set()
    with caplog.at_level(logging.WARNING):
        qtbot.waitUntil(lambda: running_readers() == 0, timeout=WAIT_MS)  # the reader thread ended
        qtbot.wait(SETTLE_MS)
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
    complaints = [r.message for r in qtlog.records if "delet" in r.message.lower() or "thread" in r.message.lower()]
    assert complaints == []
    assert "already deleted" not in capfd.readouterr().err


def test_merge_keeps_the_sort_and_the_selection_and_matches_a_fresh_load(panel, engine, qtbot):
    """New, changed and vanished tracks in one merge: the rows come out as a full load sorts them, and a
    selected row that stays stays selected."""
    with qtbot.waitSignal(panel.reloaded, timeout=WAIT_MS):
        panel.reload(full=True)
    table, model = panel.library_table, panel.library_model
    table.sortByColumn(0, Qt.SortOrder.DescendingOrder)
    table.selectRow(5)
    chosen = panel.selected_track_ids()
    library = engine.all_tracks()
    kept = [t for t in library if t.id not in chosen][3:]  # three tracks vanish
    retitled = dataclasses.replace(kept[0], tags=dataclasses.replace(kept[0].tags, title="Zz renamed"))
    new = dataclasses.replace(library[0], id=max(t.id for t in library) + 1, path="/new/track.mp3")
    tracks = [retitled, *kept[1:], *(t for t in library if t.id in chosen), new]
    assert model.merge(tracks) == 1
    fresh = LibraryModel()
    fresh.sort(0, Qt.SortOrder.DescendingOrder)
    fresh.set_tracks(tracks)
    assert [t.id for t in model.tracks()] == [t.id for t in fresh.tracks()]
    assert model.track(retitled.id) == retitled and model.track(new.id) == new
    assert panel.selected_track_ids() == chosen
    assert all(model.row_of(t.id) == row for row, t in enumerate(model.tracks()))
    assert panel.library_proxy.rowCount() == len(tracks)
