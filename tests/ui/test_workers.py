"""Background scan/embed: cancelling leaves a consistent database; closing waits for workers."""

from __future__ import annotations

import os
import sys
import time

import pytest
from PySide6.QtCore import Qt

from tests.ui.conftest import WAIT_MS


def _audio_files(root) -> int:
    n = 0
    for _dirpath, _dirs, files in os.walk(root):
        n += sum(1 for f in files if f.rsplit(".", 1)[-1] in ("mp3", "ogg", "opus", "m4a", "flac"))
    return n


def _assert_consistent(engine) -> None:
    conn = engine.db.conn
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    for track in engine.tracks.iter_all():
        assert os.path.isfile(track.path)
        assert track.tags.title


def test_cancelling_a_scan_leaves_a_consistent_database(make_window, big_music, qtbot):
    window = make_window()
    window.engine.settings.add_root(str(big_music))
    phases: list[str] = []

    def on_progress(p) -> None:
        phases.append(p.phase)
        if p.phase == "read" and window.cancel_button.isVisible():
            qtbot.mouseClick(window.cancel_button, Qt.MouseButton.LeftButton)

    with qtbot.waitSignal(window.jobs.scan_finished, timeout=WAIT_MS) as finished:
        job = window.jobs.start_scan()
        job.on_progress = _chain(job.on_progress, on_progress)
    report = finished.args[0]
    assert report.cancelled
    assert not window.progress.isVisible() and not window.cancel_button.isVisible()
    engine = window.engine
    partial = engine.tracks.count()
    total = _audio_files(big_music)
    assert partial < total
    assert window.library_panel.library_model.rowCount() == partial
    _assert_consistent(engine)
    # A fresh scan picks up where the cancelled one stopped.
    with qtbot.waitSignal(window.jobs.scan_finished, timeout=WAIT_MS) as again:
        window.jobs.start_scan()
    assert not again.args[0].cancelled
    assert engine.tracks.count() == total
    assert window.library_panel.library_model.rowCount() == total
    _assert_consistent(engine)


def test_closing_with_workers_running_cancels_and_waits(make_window, big_music, qtbot):
    window = make_window()
    engine = window.engine
    engine.settings.add_root(str(big_music))
    window.jobs.start_scan()
    qtbot.waitUntil(lambda: window.library_runner.isRunning(), timeout=WAIT_MS)
    window.upnext.fill_queue()  # something on the other worker too
    started = time.monotonic()
    window.close()
    assert time.monotonic() - started < 30
    assert not window.library_runner.isRunning() and not window.queue_runner.isRunning()
    assert window.library_runner.wait(0) and window.queue_runner.wait(0)
    _assert_consistent(engine)
    # Nothing queued after close runs.
    job = window.queue_runner.submit(lambda _job: 1 / 0)
    assert job.finished


def test_model_failure_keeps_library_and_playback_working(make_window, demo_music, qtbot):
    window = make_window(model_id="no-such-model")
    window.engine.settings.add_root(str(demo_music))
    with qtbot.waitSignal(window.jobs.embed_finished, timeout=WAIT_MS) as embed:
        window.start()
    assert isinstance(embed.args[0], Exception)
    assert window.library_panel.library_model.rowCount() == 32
    assert window.upnext_panel.queue_notice.isVisible()
    assert "can't recommend" in window.upnext_panel.queue_notice.text()
    first = window.library_panel.library_proxy.index(0, 0).data(Qt.ItemDataRole.UserRole + 1)
    with qtbot.waitSignal(window.player.event_recorded, timeout=WAIT_MS, check_params_cb=lambda k, _t: k == "play"):
        window.player.play_track(first)
    # A hand-picked queue still works without the model.
    window.upnext.queue_add([first])
    qtbot.waitUntil(lambda: [e.track_id for e in window.upnext.entries()] == [first], timeout=WAIT_MS)


def _chain(a, b):
    def both(value):
        if a is not None:
            a(value)
        b(value)

    return both


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice values are Linux's")
def test_the_library_worker_runs_its_jobs_lowered_and_the_queue_worker_does_not(make_window, qtbot):
    from player_plugin import priority

    window = make_window()
    mine, seen = priority.thread_nice(), {}
    for name, runner in (("library", window.library_runner), ("queue", window.queue_runner)):
        runner.submit(lambda _job: priority.thread_nice(), on_done=lambda v, k=name: seen.__setitem__(k, v))
        qtbot.waitUntil(lambda k=name: k in seen, timeout=WAIT_MS)
    assert seen["library"] >= priority.BACKGROUND_NICE and seen["queue"] == mine
    assert priority.thread_nice() == mine
