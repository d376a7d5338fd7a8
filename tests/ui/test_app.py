"""The desktop app end to end (offscreen): library, playback events, Up Next, prompt."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from player_plugin import paths
from player_plugin.models import EventKind
from player_plugin.store import EventRepository
from tests.ui.conftest import WAIT_MS, seek_near_end


def _events(window, kind: EventKind | None = None):
    evs = EventRepository(window.engine.db).recent(limit=10_000)
    return [e for e in evs if kind is None or e.kind == kind]


def _double_click_row(qtbot, window, row: int) -> int:
    table = window.library_panel.library_table
    index = window.library_panel.library_proxy.index(row, 0)
    rect = table.visualRect(index)
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    return index.data(Qt.ItemDataRole.UserRole + 1)


def test_first_start_scans_demo_library_with_progress_and_fills_up_next(make_window, demo_music, qtbot, monkeypatch):
    monkeypatch.setattr(paths, "demo_library_dir", lambda: demo_music)
    window = make_window(scan_demo=True, silent_audio=False)
    values: list[int] = []
    maxima: list[int] = []
    window.progress.valueChanged.connect(lambda v: (values.append(v), maxima.append(window.progress.maximum())))
    shown: list[int] = []
    window.library_panel.reloaded.connect(shown.append)
    with qtbot.waitSignal(window.jobs.scan_finished, timeout=WAIT_MS) as scan:
        window.start()
    report = scan.args[0]
    n_files = 32
    assert not report.cancelled and report.added == n_files
    assert window.engine.roots() == [str(demo_music)]
    # The bar moved: it went from empty to full over the scan's files.
    assert max(maxima) >= n_files and values and max(values) >= n_files and min(values) < n_files
    assert window.library_panel.library_model.rowCount() == n_files
    assert window.library_panel.library_proxy.rowCount() == n_files
    assert shown and shown[-1] == n_files
    qtbot.waitUntil(lambda: len(window.upnext.entries()) == 10, timeout=WAIT_MS)
    assert window.upnext_panel.queue_view.count() == 10
    assert all(e.reason for e in window.upnext.entries())  # every entry says why
    status = window.status_label.text()
    assert "on the CPU" in status and "ExecutionProvider" not in status  # plain words, not onnxruntime's
    assert not window.progress.isVisible()


@pytest.mark.real_audio
def test_double_click_plays_and_records_play_then_complete(ready_window, qtbot):
    window = ready_window
    assert window.playback.backend == "qtmultimedia"
    with qtbot.waitSignal(window.player.event_recorded, timeout=WAIT_MS, check_params_cb=lambda k, _t: k == "play"):
        track_id = _double_click_row(qtbot, window, 0)
    assert window.player.current is not None and window.player.current.id == track_id
    assert window.now_playing_panel.title_label.text() == window.player.current.tags.title
    plays = _events(window, EventKind.PLAY)
    assert [e.track_id for e in plays] == [track_id]
    assert window.library_panel.library_model.plays(track_id) == 1
    # Let it play (from near the end: demo tracks last a minute): past 80 % counts as complete, and at
    # the end Up Next takes over.
    head = window.upnext.entries()[0].track_id
    seek_near_end(qtbot, window.playback)
    qtbot.waitUntil(lambda: window.player.current is not None and window.player.current.id == head, timeout=WAIT_MS)
    completes = _events(window, EventKind.COMPLETE)
    assert [e.track_id for e in completes] == [track_id]
    assert not _events(window, EventKind.SKIP)


def test_skip_like_dislike_record_events_and_change_the_refill(ready_window, qtbot):
    window = ready_window
    engine = window.engine
    with qtbot.waitSignal(window.player.event_recorded, timeout=WAIT_MS, check_params_cb=lambda k, _t: k == "play"):
        first = _double_click_row(qtbot, window, 0)
    # Next before 80 %: a skip, with its position.
    with qtbot.waitSignal(window.player.event_recorded, timeout=WAIT_MS, check_params_cb=lambda k, _t: k == "skip"):
        qtbot.mouseClick(window.now_playing_panel.next_button, Qt.MouseButton.LeftButton)
    skip = _events(window, EventKind.SKIP)[0]
    assert skip.track_id == first and skip.position_s is not None and skip.position_s < 4.0
    qtbot.waitUntil(lambda: window.player.current is not None and window.player.current.id != first, timeout=WAIT_MS)
    second = window.player.current.id
    window.playback.pause()

    before = [(e.track_id, round(e.score or 0, 6)) for e in engine.refill(10)]
    with qtbot.waitSignal(window.upnext.queue_changed, timeout=WAIT_MS):
        qtbot.keyClick(window, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)  # like
    assert [e.track_id for e in _events(window, EventKind.LIKE)] == [second]
    after_like = [(e.track_id, round(e.score or 0, 6)) for e in window.upnext.entries()]
    assert after_like != before

    with qtbot.waitSignal(window.player.event_recorded, timeout=WAIT_MS, check_params_cb=lambda k, _t: k == "dislike"):
        qtbot.mouseClick(window.now_playing_panel.dislike_button, Qt.MouseButton.LeftButton)
    assert [e.track_id for e in _events(window, EventKind.DISLIKE)] == [second]
    # A dislike leaves the track at once (no extra skip event) and steers the next refill.
    qtbot.waitUntil(lambda: window.player.current is not None and window.player.current.id != second, timeout=WAIT_MS)
    assert len(_events(window, EventKind.SKIP)) == 1
    qtbot.waitUntil(lambda: not window.queue_runner.busy, timeout=WAIT_MS)
    after_dislike = [(e.track_id, round(e.score or 0, 6)) for e in engine.refill(10)]
    assert after_dislike != after_like
    assert second not in [t for t, _ in after_dislike]


def test_prompt_refills_the_queue_and_stays_visible_until_cleared(ready_window, qtbot):
    window = ready_window
    before = [e.track_id for e in window.upnext.entries()]
    prompt = "雨夜，安静的钢琴"  # any language
    with qtbot.waitSignal(window.upnext.queue_changed, timeout=WAIT_MS):
        window.upnext_panel.prompt_box.setText(prompt)
        qtbot.keyClick(window.upnext_panel.prompt_box, Qt.Key.Key_Return)
    entries = window.upnext.entries()
    assert window.engine.prompt == prompt
    assert len(entries) == 10 and [e.track_id for e in entries] != before
    assert any(prompt in e.reason for e in entries)
    assert window.upnext_panel.prompt_label.isVisible() and prompt in window.upnext_panel.prompt_label.text()
    assert window.upnext_panel.prompt_clear.isEnabled()
    with qtbot.waitSignal(window.upnext.queue_changed, timeout=WAIT_MS):
        qtbot.mouseClick(window.upnext_panel.prompt_clear, Qt.MouseButton.LeftButton)
    assert window.engine.prompt is None
    assert not window.upnext_panel.prompt_label.isVisible() and window.upnext_panel.prompt_box.text() == ""
    assert not any(prompt in e.reason for e in window.upnext.entries())


def test_reorder_by_drag_model_move_and_remove_with_delete(ready_window, qtbot):
    window = ready_window
    ids = [e.track_id for e in window.upnext.entries()]
    # A drag-and-drop inside the list ends in a row move of the list's model.
    with qtbot.waitSignal(window.upnext.queue_changed, timeout=WAIT_MS):
        model = window.upnext_panel.queue_view.model()
        assert model.moveRow(model.index(0, 0).parent(), 0, model.index(0, 0).parent(), 4)
    qtbot.waitUntil(lambda: not window.queue_runner.busy, timeout=WAIT_MS)
    expected = ids[1:4] + [ids[0]] + ids[4:]
    assert [e.track_id for e in window.engine.queue()] == expected
    assert window.upnext_panel.queue_view.track_ids() == expected

    window.upnext_panel.queue_view.setCurrentRow(2)
    window.upnext_panel.queue_view.setFocus()
    removed = expected[2]
    qtbot.keyClick(window.upnext_panel.queue_view, Qt.Key.Key_Delete)
    qtbot.waitUntil(lambda: not window.queue_runner.busy, timeout=WAIT_MS)
    assert [e.track_id for e in window.engine.queue()] == expected[:2] + expected[3:]
    assert window.upnext_panel.queue_view.track_ids() == expected[:2] + expected[3:]
    assert [e.track_id for e in _events(window, EventKind.QUEUE_REMOVE)] == [removed]


def test_context_menu_actions_play_next_add_and_never_play(ready_window, qtbot):
    window = ready_window
    rows = window.library_panel.library_proxy.rowCount()
    window.library_panel.search_box.setText("harbor")
    assert 0 < window.library_panel.library_proxy.rowCount() < rows
    window.library_panel.search_box.clear()
    last = window.library_panel.library_proxy.index(rows - 1, 0).data(Qt.ItemDataRole.UserRole + 1)
    window.upnext.queue_add([last], next_=True)
    qtbot.waitUntil(lambda: window.upnext.entries() and window.upnext.entries()[0].track_id == last, timeout=WAIT_MS)
    assert window.upnext.entries()[0].manual
    blocked = window.upnext.entries()[3].track_id
    window.player.block([blocked])
    qtbot.waitUntil(lambda: not window.queue_runner.busy, timeout=WAIT_MS)
    assert blocked not in [e.track_id for e in window.engine.queue()]
    assert [e.track_id for e in _events(window, EventKind.BLOCK)] == [blocked]
    assert window.upnext.entries()[0].track_id == last  # your own pick stays


def test_start_a_mix_plays_the_seed_and_fills_up_next(ready_window, qtbot):
    window = ready_window
    seed = window.library_panel.library_proxy.index(3, 0).data(Qt.ItemDataRole.UserRole + 1)
    with qtbot.waitSignal(window.upnext.queue_changed, timeout=WAIT_MS):
        window.upnext.start_mix(seed)
    assert window.player.current is not None and window.player.current.id == seed
    entries = window.upnext.entries()
    assert entries and seed not in [e.track_id for e in entries]
