"""Details seen in use: counts, the header's height, titles, wording, fonts, untagged files, feedback."""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QStyle, QStyleOptionFrame

from player_plugin.models import EventKind
from player_plugin.store import EventRepository
from player_plugin.ui.fonts import CJK_FONT_PACKAGES, chinese_font_families, missing_cjk_font_warning
from player_plugin.ui.text import friendly_provider, window_title
from tests.ui.conftest import WAIT_MS

CJK = re.compile(r"[\u4e00-\u9fff]")
LINE_EDIT_MARGIN = 2  # QLineEdit keeps this many pixels between its contents rect and the text


def _track_where(window, predicate):
    return next(t for t in window.library_panel.library_model.tracks() if predicate(t))


def _settle(qtbot, window) -> None:
    qtbot.wait(50)  # let queued layout requests run


def test_library_count_says_how_many_a_search_shows(ready_window):
    window = ready_window
    total = window.library_panel.library_model.rowCount()
    assert window.library_panel.library_count_label.text() == f"{total} tracks"
    window.library_panel.search_box.setText("harbor")
    shown = window.library_panel.library_proxy.rowCount()
    assert 0 < shown < total
    assert window.library_panel.library_count_label.text() == f"{shown} of {total} tracks"
    window.library_panel.search_box.clear()
    assert window.library_panel.library_count_label.text() == f"{total} tracks"


def test_now_playing_header_keeps_its_height_for_a_chinese_title(ready_window, qtbot):
    window = ready_window
    english = _track_where(window, lambda t: not CJK.search(t.tags.title + t.tags.artist))
    chinese = _track_where(window, lambda t: CJK.search(t.tags.title) and CJK.search(t.tags.artist))
    heights = []
    for track in (english, chinese, english):
        window.player.play_track(track.id)
        _settle(qtbot, window)
        panel = window.now_playing_panel
        heights.append((panel.height(), panel.title_label.height(), panel.artist_label.height()))
    assert heights[0] == heights[1] == heights[2]


def test_window_title_idle_and_playing(ready_window):
    window = ready_window
    assert window.windowTitle() == "Player Plugin"
    track = window.library_panel.library_model.track_at(0)
    window.player.play_track(track.id)
    assert window.windowTitle() == f"{track.tags.title} — {track.tags.artist}"
    assert window_title(None) == "Player Plugin"


def test_providers_in_plain_words():
    assert friendly_provider("CPUExecutionProvider") == "CPU"
    assert friendly_provider("CUDAExecutionProvider") == "GPU (CUDA)"


def test_model_tab_does_not_offer_the_cpu_while_on_the_cpu(ready_window, qtbot):
    from player_plugin.ui.settings_dialog import SettingsDialog

    dialog = SettingsDialog(ready_window.engine, ready_window, parent=ready_window)
    qtbot.addWidget(dialog)
    provider = dialog.findChild(QLabel, "providerLabel").text()
    assert provider.startswith("CPU")
    hint = dialog.device_hint.text()
    assert "PLAYER_PLUGIN_DEVICE" not in hint and "no GPU" in hint


def test_placeholders_fit_their_boxes_at_the_smallest_window(ready_window, qtbot):
    window = ready_window
    window.resize(window.minimumSize())
    _settle(qtbot, window)
    for edit in (window.library_panel.search_box, window.upnext_panel.prompt_box):
        opt = QStyleOptionFrame()
        edit.initStyleOption(opt)
        room = edit.style().subElementRect(QStyle.SubElement.SE_LineEditContents, opt, edit).width()
        room -= 2 * LINE_EDIT_MARGIN + edit.textMargins().left() + edit.textMargins().right()
        need = edit.fontMetrics().horizontalAdvance(edit.placeholderText())
        assert need <= room, (edit.objectName(), need, room)


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="needs ffmpeg to encode a real untagged file")
def test_an_untagged_file_shows_its_file_name(make_window, tmp_path, qtbot):
    folder = tmp_path / "untagged"
    folder.mkdir()
    path = folder / "field recording 7.mp3"
    subprocess.run(
        ["ffmpeg", "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i", "sine=frequency=330:duration=2",
         "-map_metadata", "-1", "-c:a", "libmp3lame", "-b:a", "32k", str(path)],
        check=True,
    )  # fmt: skip
    window = make_window()
    window.engine.scan([folder])
    with qtbot.waitSignal(window.library_panel.reloaded, timeout=WAIT_MS):  # read on the reader's thread
        window.library_panel.reload(full=True)
    track = window.library_panel.library_model.track_at(0)
    assert track.tags.artist == ""
    index = window.library_panel.library_model.index(0, 1)
    assert index.data() == path.name
    assert index.data(Qt.ItemDataRole.FontRole).italic()
    window.player.play_track(track.id)
    assert window.now_playing_panel.artist_label.text() == path.name
    assert window.windowTitle() == f"{track.tags.title} — {path.name}"


def test_the_playing_row_is_marked(ready_window):
    window = ready_window
    model = window.library_panel.library_model
    first, second = model.track_at(0), model.track_at(1)

    def marked(track) -> bool:
        index = model.index(model.row_of(track.id), 0)
        font = index.data(Qt.ItemDataRole.FontRole)
        return bool(font is not None and font.bold() and index.data(Qt.ItemDataRole.DecorationRole) is not None)

    assert not marked(first) and not marked(second)
    window.player.play_track(first.id)
    assert marked(first) and not marked(second)
    window.player.play_track(second.id)
    assert marked(second) and not marked(first)


def test_not_for_me_on_a_liked_track_takes_it_out_of_the_reasons(ready_window, qtbot):
    window = ready_window
    liked = window.library_panel.library_model.track_at(0)
    with qtbot.waitSignal(window.player.event_recorded, timeout=WAIT_MS, check_params_cb=lambda k, _t: k == "play"):
        window.player.play_track(liked.id)
    with qtbot.waitSignal(window.upnext.queue_changed, timeout=WAIT_MS):
        window.player.like()
    qtbot.waitUntil(lambda: not window.queue_runner.busy, timeout=WAIT_MS)
    title = liked.tags.title
    assert any(title in e.reason for e in window.upnext.entries())  # it is why some entries are there
    window.player.dislike()
    qtbot.waitUntil(lambda: window.player.current is not None and window.player.current.id != liked.id, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: not window.queue_runner.busy, timeout=WAIT_MS)
    reasons = [e.reason for e in window.upnext.entries()]
    assert reasons and not any(title in r for r in reasons), reasons


def test_not_for_me_keeps_a_paused_player_paused(ready_window, qtbot):
    window = ready_window
    first = window.library_panel.library_model.track_at(0)
    window.player.play_track(first.id)
    window.playback.pause()
    window.player.dislike()
    qtbot.waitUntil(lambda: window.player.current is not None and window.player.current.id != first.id, timeout=WAIT_MS)
    nxt = window.player.current.id
    qtbot.waitUntil(lambda: not window.queue_runner.busy, timeout=WAIT_MS)
    assert not window.playback.is_playing()
    events = EventRepository(window.engine.db)
    assert [e.kind for e in events.for_track(nxt)] == []  # loaded, not played yet
    with qtbot.waitSignal(window.player.event_recorded, timeout=WAIT_MS, check_params_cb=lambda k, t: k == "play"):
        window.player.toggle_play()
    assert window.playback.is_playing()
    assert [e.kind for e in events.for_track(nxt)] == [EventKind.PLAY]


# -- fonts -----------------------------------------------------------------------------------------


def test_cjk_font_check_both_ways():
    assert missing_cjk_font_warning(["Noto Sans CJK SC"]) is None
    warning = missing_cjk_font_warning([])
    assert warning is not None
    for _distro, package in CJK_FONT_PACKAGES:
        assert package in warning
    assert "fonts-noto-cjk" in warning and "google-noto-sans-cjk-fonts" in warning


def test_the_window_warns_once_without_a_chinese_font(make_window, caplog):
    with caplog.at_level(logging.WARNING, logger="player_plugin.ui.main_window"):
        window = make_window()
        has_font = bool(chinese_font_families())
        assert (window.font_warning is None) == has_font  # what this machine has, checked at start
        window.check_fonts([])  # as on a machine without one
        window.check_fonts([])
    warnings = [r for r in caplog.records if "No Chinese font" in r.getMessage()]
    assert len(warnings) == 1
    assert "fonts-noto-cjk" in window.status_label.text()
    assert window.font_label.isVisibleTo(window) and "fonts-noto-cjk" in window.font_label.toolTip()


FONTS_WITHOUT_CJK = """<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "fonts.dtd">
<fontconfig><dir>{dir}</dir><cachedir>{cache}</cachedir></fontconfig>
"""


def test_qt_finds_no_chinese_font_where_fontconfig_has_none(tmp_path):
    """The real QFontDatabase query, in a process whose fontconfig sees only a Latin font (if any)."""
    fonts = tmp_path / "fonts"
    fonts.mkdir()
    latin = [p for p in Path("/usr/share/fonts").rglob("DejaVuSans.ttf")]
    if latin:
        (fonts / latin[0].name).write_bytes(latin[0].read_bytes())
    conf = tmp_path / "fonts.conf"
    conf.write_text(FONTS_WITHOUT_CJK.format(dir=fonts, cache=tmp_path / "cache"), encoding="utf-8")
    code = (
        "from PySide6.QtWidgets import QApplication\n"
        "from player_plugin.ui.fonts import chinese_font_families, missing_cjk_font_warning\n"
        "app = QApplication([])\n"
        "print(repr(chinese_font_families()))\n"
        "print(missing_cjk_font_warning(chinese_font_families()))\n"
    )
    env = {**os.environ, "FONTCONFIG_FILE": str(conf), "QT_QPA_PLATFORM": "offscreen"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == "[]" and "fonts-noto-cjk" in lines[1]


# -- FFmpeg's chatter -----------------------------------------------------------------------------

PLAY_A_TRACK = """
import sys
from PySide6.QtCore import QTimer
from player_plugin.ui.app import ensure_application
app = ensure_application()
from player_plugin.ui.playback import Playback
playback = Playback()
if playback.backend != "qtmultimedia":
    print("NO-QTMULTIMEDIA")
    sys.exit(0)
playback.load(sys.argv[1])
playback.play()
QTimer.singleShot(1500, app.quit)
app.exec()
playback.shutdown()
"""


@pytest.mark.parametrize("quiet", [True, False], ids=["app", "qt-default"])
def test_playing_a_track_prints_no_ffmpeg_metadata(demo_music, tmp_path, quiet):
    track = next(demo_music.rglob("*.mp3"))
    env = {k: v for k, v in os.environ.items() if k not in ("QT_LOGGING_RULES", "QT_FFMPEG_DEBUG")}
    env["QT_QPA_PLATFORM"] = "offscreen"
    code = PLAY_A_TRACK
    if not quiet:  # the control: what Qt prints when nobody silences it
        code = code.replace(
            "app = ensure_application()", "from PySide6.QtWidgets import QApplication\napp = QApplication([])"
        )
    out = subprocess.run([sys.executable, "-c", code, str(track)], env=env, capture_output=True, text=True, timeout=120)
    if "NO-QTMULTIMEDIA" in out.stdout:
        pytest.skip("QtMultimedia is not available")
    chatter = [line for line in out.stderr.splitlines() if "Metadata:" in line or "Stream #" in line]
    if quiet:
        assert not chatter, out.stderr
    else:
        assert chatter, "the control run printed no metadata: this test could not fail"


def test_the_library_sorts_by_the_clicked_column_and_keeps_the_selection(ready_window):
    """Sorting happens in the library model, one key per row (the proxy sorting 100k rows took 6.6 s of
    the app's start): by artist at start, then by the clicked column either way; a search still filters
    the sorted rows and the selected track stays selected."""
    from player_plugin.ui.library_model import TRACK_ID_ROLE

    panel = ready_window.library_panel
    table, proxy, model = panel.library_table, panel.library_proxy, panel.library_model

    def column(col: int) -> list:
        rows = (model.track(proxy.index(r, 0).data(TRACK_ID_ROLE)) for r in range(proxy.rowCount()))
        return [model.sort_value(t, col) for t in rows]

    assert column(1) == sorted(column(1))  # artist, ascending, as the window opens
    table.selectRow(3)
    chosen = table.currentIndex().data(TRACK_ID_ROLE)
    table.sortByColumn(4, Qt.SortOrder.DescendingOrder)
    assert column(4) == sorted(column(4), reverse=True)
    assert table.currentIndex().data(TRACK_ID_ROLE) == chosen
    table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
    assert column(0) == sorted(column(0))
    proxy.set_query("rain")
    shown = column(0)
    assert shown == sorted(shown) and 0 < len(shown) < model.rowCount()
    proxy.set_query("")
    table.sortByColumn(1, Qt.SortOrder.AscendingOrder)
