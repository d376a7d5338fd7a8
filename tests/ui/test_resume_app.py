"""The app reopens where it closed: the track it was playing, paused at the same place; started again,
that play goes on (one play, one complete in the history), as a player that was only paused."""

from __future__ import annotations

import shutil

import pytest

from player_plugin.shared_encoder import make_engine
from tests.ui.conftest import TEST_MODEL, WAIT_MS, seek_near_end

POSITION_MS = 31_000  # where the first session leaves the track (a demo track lasts a minute)
SLACK_MS = 1_500


def _window(qtbot, db_path):
    from player_plugin.ui.main_window import MainWindow

    engine = make_engine(db_path, model_id=TEST_MODEL)
    window = MainWindow(engine, scan_demo=False, silent_audio=True)
    qtbot.addWidget(window)
    window.show()
    with qtbot.waitSignal(window.jobs.embed_finished, timeout=WAIT_MS):
        window.start()
    return window, engine


def _close(window, engine) -> None:
    window.close()
    window.shutdown()
    engine.close()


def _events(engine, track_id: int) -> list[str]:
    return [str(e.kind) for e in engine.events.recent(50) if e.track_id == track_id][::-1]


@pytest.fixture
def db_path(prepared_db, tmp_path):
    path = tmp_path / "library.db"
    shutil.copyfile(prepared_db, path)
    return path


def test_the_app_reopens_on_the_track_it_closed_on(qtbot, db_path):
    window, engine = _window(qtbot, db_path)
    track_id = next(t.id for t in engine.all_tracks() if t.tags.title == "Rain on Glass")
    window.player.play_track(track_id)
    qtbot.waitUntil(lambda: _events(engine, track_id) == ["play"], timeout=WAIT_MS)  # stored by the queue worker
    window.playback.seek(POSITION_MS)
    qtbot.waitUntil(lambda: window.playback.position_ms() >= POSITION_MS, timeout=WAIT_MS)
    window.player.pause()
    _close(window, engine)

    window, engine = _window(qtbot, db_path)
    try:
        qtbot.waitUntil(lambda: window.player.current is not None, timeout=WAIT_MS)
        assert window.player.current.id == track_id and not window.playback.is_playing()
        qtbot.waitUntil(lambda: abs(window.playback.position_ms() - POSITION_MS) < SLACK_MS, timeout=WAIT_MS)
        assert _events(engine, track_id) == ["play"]  # nothing recorded by opening
        window.player.play()
        seek_near_end(qtbot, window.playback)
        qtbot.waitUntil(lambda: "complete" in _events(engine, track_id), timeout=WAIT_MS)
        assert _events(engine, track_id) == ["play", "complete"]  # the same play, ended once
        qtbot.waitUntil(lambda: window.player.current.id != track_id, timeout=WAIT_MS)  # Up Next goes on
        next_id = window.player.current.id
        qtbot.waitUntil(lambda: _events(engine, next_id) == ["play"], timeout=WAIT_MS)
    finally:
        _close(window, engine)

    window, engine = _window(qtbot, db_path)  # it closed on the track Up Next went on to
    try:
        qtbot.waitUntil(lambda: window.player.current is not None, timeout=WAIT_MS)
        assert window.player.current.id == next_id and not window.playback.is_playing()
    finally:
        _close(window, engine)
