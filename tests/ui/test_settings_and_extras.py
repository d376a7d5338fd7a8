"""Settings dialog, M3U8 export, silent playback fallback, MPRIS with and without a session bus."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest
from PySide6.QtWidgets import QLabel

from player_plugin.models import EventKind
from player_plugin.store import EventRepository
from player_plugin.ui.playlist import playlist_path_for
from tests.ui.conftest import WAIT_MS, seek_near_end


def test_save_up_next_as_m3u8_with_relative_paths(ready_window, demo_music, tmp_path):
    window = ready_window
    out = demo_music.parent / "mix.m3u8"  # next to the music: relative paths
    try:
        window.upnext.save_playlist(out)
        lines = out.read_text(encoding="utf-8").splitlines()
    finally:
        out.unlink(missing_ok=True)
    assert lines[0] == "#EXTM3U"
    entries = [line for line in lines if not line.startswith("#")]
    assert len(entries) == len(window.upnext.entries())
    assert all(e.startswith("demo/") for e in entries)
    assert sum(line.startswith("#EXTINF:") for line in lines) == len(entries)
    assert playlist_path_for("/music/a.mp3", tmp_path / "x.m3u8").startswith("/")  # nothing shared: absolute


def test_settings_store_blocklists_rules_and_show_the_provider(ready_window, qtbot, tmp_path):
    from player_plugin.store.settings import BLOCKLIST_KEY, RECOMMEND_KEY
    from player_plugin.ui.settings_dialog import SettingsDialog

    window = ready_window
    dialog = SettingsDialog(window.engine, window, parent=window)
    qtbot.addWidget(dialog)
    provider = dialog.findChild(QLabel, "providerLabel")
    assert "CPUExecutionProvider" in provider.text() and "CPU" in provider.text()
    assert str(window.engine.db.path) in dialog.findChild(QLabel, "dataLocation").text()
    dialog.block_artists.setPlainText("Iron Sermon\n")
    dialog.artist_spacing.setValue(3)
    qtbot.waitUntil(lambda: bool(window.upnext.entries()) and not window.queue_runner.busy, timeout=WAIT_MS)
    # the window is not called: it hears the engine's model_changed and picks Up Next again
    with qtbot.waitSignal(window.upnext.queue_changed, timeout=WAIT_MS):
        dialog.save()
    assert window.engine.settings.get(BLOCKLIST_KEY)["artists"] == ["Iron Sermon"]
    assert window.engine.settings.get(RECOMMEND_KEY)["artist_spacing"] == 3
    assert window.engine.queue_rules()["artist_spacing"] == 3
    qtbot.waitUntil(lambda: not window.queue_runner.busy, timeout=WAIT_MS)
    shown = {window.library_panel.track(e.track_id).tags.artist for e in window.upnext.entries()}
    assert shown and "Iron Sermon" not in shown
    entries = window.engine.refill(10)
    artists = {window.library_panel.track(e.track_id).tags.artist for e in entries}
    assert "Iron Sermon" not in artists

    window.player.play_track(window.upnext.entries()[0].track_id)
    qtbot.waitUntil(lambda: EventRepository(window.engine.db).count() > 0, timeout=WAIT_MS)
    export = tmp_path / "export.json"
    dialog.export_data(str(export))
    data = json.loads(export.read_text(encoding="utf-8"))
    assert any(e["kind"] == EventKind.PLAY for e in data["events"])
    qtbot.waitUntil(lambda: not window.queue_runner.busy, timeout=WAIT_MS)
    assert dialog.forget_history(confirm=False) >= 1
    assert EventRepository(window.engine.db).count() == 0


def test_silent_fallback_when_audio_is_unavailable(make_window, prepared_db, qtbot):
    window = make_window(prepared_db, silent_audio=True)
    assert "silent" in window.status_label.text()
    with qtbot.waitSignal(window.jobs.embed_finished, timeout=WAIT_MS):
        window.start()
    first = window.library_panel.library_model.track_at(0).id
    window.player.play_track(first)
    seek_near_end(qtbot, window.playback)  # demo tracks last a minute
    # The silent clock runs the track to its end; the session goes on.
    qtbot.waitUntil(lambda: window.player.current is not None and window.player.current.id != first, timeout=WAIT_MS)
    kinds = [e.kind for e in EventRepository(window.engine.db).for_track(first)]
    assert kinds == [EventKind.PLAY, EventKind.COMPLETE]


def test_without_a_session_bus_there_is_no_mpris_and_no_error(make_window, monkeypatch):
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus")
    window = make_window()
    assert window.mpris is None or window.mpris.service


@pytest.mark.skipif(shutil.which("dbus-daemon") is None or shutil.which("dbus-send") is None, reason="no dbus")
def test_mpris_on_a_session_bus(make_window, prepared_db, qtbot, tmp_path):
    proc = subprocess.Popen(
        ["dbus-daemon", "--session", "--print-address", "--nofork"], stdout=subprocess.PIPE, text=True
    )
    try:
        address = proc.stdout.readline().strip()
        os.environ["DBUS_SESSION_BUS_ADDRESS"] = address
        window = make_window(prepared_db)
        if window.mpris is None:
            pytest.skip("the session bus did not accept the MPRIS registration")
        with qtbot.waitSignal(window.library_panel.reloaded, timeout=WAIT_MS):  # read on the reader's thread
            window.library_panel.reload(full=True)
        first = window.library_panel.library_model.track_at(0)
        window.player.play_track(first.id)

        def query(prop: str) -> str:
            # Asynchronously: the app answers from this thread's event loop, which must keep running.
            proc = subprocess.Popen(
                ["dbus-send", "--session", "--print-reply", f"--dest={window.mpris.service}",
                 "/org/mpris/MediaPlayer2", "org.freedesktop.DBus.Properties.Get",
                 "string:org.mpris.MediaPlayer2.Player", f"string:{prop}"],
                stdout=subprocess.PIPE, text=True, env={**os.environ, "DBUS_SESSION_BUS_ADDRESS": address},
            )  # fmt: skip
            qtbot.waitUntil(lambda: proc.poll() is not None, timeout=WAIT_MS)
            return proc.stdout.read()

        out = {}

        def answered() -> bool:
            out["status"] = query("PlaybackStatus")
            return "Playing" in out["status"] or "Paused" in out["status"]

        qtbot.waitUntil(answered, timeout=WAIT_MS)
        assert first.tags.title in query("Metadata")
    finally:
        os.environ.pop("DBUS_SESSION_BUS_ADDRESS", None)
        proc.terminate()
        proc.wait(10)
