"""The app follows its music folders: music added, edited or deleted shows up without a rescan.

Real parts: the app's window on a temp database, a real music folder of tagged fixture files, the
kernel's inotify (library/watch.py), the real scan and embed on the library worker.
"""

from __future__ import annotations

import mutagen
import pytest

from player_plugin.library import inotify
from tests.conftest import make_track
from tests.ui.conftest import WAIT_MS

pytestmark = pytest.mark.skipif(not inotify.available(), reason="inotify is Linux's (other systems rescan on start)")


def _titles(engine) -> set[str]:
    return {t.tags.title for t in engine.all_tracks()}


@pytest.fixture
def started(make_window, qtbot, tmp_path):
    music = tmp_path / "Music"
    make_track(music / "Anna" / "First", "01 Rain", "mp3", title="Rain", artist="Anna")
    make_track(music / "Bo", "Night", "ogg", title="Night", artist="Bo")
    window = make_window()
    window.said = []  # what the library jobs told the status bar
    window.jobs.message.connect(window.said.append)
    window.engine.add_root(str(music))
    with qtbot.waitSignal(window.jobs.embed_finished, timeout=WAIT_MS):
        window.start()
    qtbot.waitUntil(lambda: window.library_panel.row_count() == 2, timeout=WAIT_MS)
    assert window.watch.roots == [str(music)] and window.watch.wait_ready(WAIT_MS / 1000)
    return window, music


def test_music_added_edited_and_deleted_shows_up_by_itself(started, qtbot):
    window, music = started
    engine = window.engine
    fresh = make_track(music / "Cleo" / "Live", "01 Open", "flac", title="Open", artist="Cleo")
    qtbot.waitUntil(lambda: window.library_panel.row_count() == 3, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: any(m.startswith("Library updated: 1 new") for m in window.said), timeout=WAIT_MS)
    qtbot.waitUntil(lambda: engine.vector_count() == 3, timeout=WAIT_MS)  # and understood: Up Next can pick it

    fresh_id = next(t.id for t in engine.all_tracks() if t.tags.title == "Open")
    window.player.play_track(fresh_id, autoplay=False)  # loaded (the fixture lasts a second: not played out)
    audio = mutagen.File(fresh, easy=True)  # a tag editor's save, in place, while it is loaded
    audio["title"] = "Open Air"
    audio.save()
    qtbot.waitUntil(lambda: "Open Air" in _titles(engine), timeout=WAIT_MS)
    assert window.library_panel.row_count() == 3
    qtbot.waitUntil(lambda: "Open Air" in window.windowTitle(), timeout=WAIT_MS)  # now playing shows it
    assert window.player.current.tags.title == "Open Air"

    fresh.unlink()
    qtbot.waitUntil(lambda: window.library_panel.row_count() == 2, timeout=WAIT_MS)
    assert _titles(engine) == {"Rain", "Night"}


def test_changes_seen_during_a_scan_are_scanned_after_it(started, qtbot):
    window, music = started
    make_track(music / "Dee", "One", "mp3", title="One", artist="Dee")
    make_track(music / "Eve", "Two", "ogg", title="Two", artist="Eve")
    window.jobs.start_scan()  # a whole rescan runs: the watch's batch waits for it, then is scanned
    window.jobs.scan_changes([str(music / "Dee"), str(music / "Eve")])
    qtbot.waitUntil(lambda: _titles(window.engine) == {"Rain", "Night", "One", "Two"}, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: window.engine.vector_count() == 4, timeout=WAIT_MS)


def test_the_watch_follows_the_setting_and_the_folders(started, qtbot, tmp_path):
    from player_plugin.ui.settings_dialog import SettingsDialog

    window, music = started
    dialog = SettingsDialog(window.engine, window, parent=window)
    dialog.watch_folders.setChecked(False)
    dialog.save_and_close()
    assert window.watch.roots == [] and not window.engine.watch_folders

    more = tmp_path / "More"
    make_track(more, "Far", "mp3", title="Far", artist="Fay")
    dialog = SettingsDialog(window.engine, window, parent=window)
    dialog.watch_folders.setChecked(True)
    dialog.folders.addItem(str(more))
    with qtbot.waitSignal(window.jobs.scan_finished, timeout=WAIT_MS):
        dialog.save_and_close()
    assert window.watch.roots == [str(music), str(more)] and window.watch.wait_ready(WAIT_MS / 1000)
    make_track(more, "Near", "mp3", title="Near", artist="Fay")
    qtbot.waitUntil(lambda: "Near" in _titles(window.engine), timeout=WAIT_MS)


def test_a_long_embed_gives_way_to_the_watch_after_a_while_and_goes_on(make_window, qtbot, tmp_path, monkeypatch):
    """While the first embed of a big library runs, new music is scanned once the embed has run
    ``EMBED_RUNS_BEFORE_GIVING_WAY_S`` (shortened here): it is cancelled, the scan runs, and the embed
    goes on from where it was, to the end."""
    import shutil

    from player_plugin import paths
    from player_plugin.library import watch
    from player_plugin.ui import library_jobs

    # shortened so that the embed is still running when the new file's scan is due, on any CPU: the
    # scan comes the watch's quiet time after the file, and no sooner than the give-way after the embed's start
    monkeypatch.setattr(library_jobs, "EMBED_RUNS_BEFORE_GIVING_WAY_S", 0.5)
    monkeypatch.setattr(watch, "WATCH_QUIET_S", 0.3)
    music = tmp_path / "Music"
    for i in range(20):  # 640 tracks: an embed of a few seconds on a fast CPU
        shutil.copytree(paths.demo_library_dir(), music / f"copy{i:02d}")
    window = make_window()
    window.engine.add_root(str(music))
    embeds = []
    window.jobs.embed_finished.connect(embeds.append)
    with qtbot.waitSignal(window.jobs.scan_finished, timeout=WAIT_MS):
        window.start()
    total = window.engine.track_count()
    assert window.watch.wait_ready(WAIT_MS / 1000)
    qtbot.waitUntil(lambda: window.engine.vector_count() > 0, timeout=WAIT_MS)  # the embed runs
    make_track(music / "zz New", "Fresh", "mp3", title="Fresh", artist="Newcomer")
    qtbot.waitUntil(lambda: "Fresh" in _titles(window.engine), timeout=WAIT_MS)
    assert window.engine.vector_count() < total  # scanned before the embed was done
    qtbot.waitUntil(lambda: embeds and not embeds[-1].cancelled, timeout=4 * WAIT_MS)  # went on to the end
    assert embeds[0].cancelled and window.engine.vector_count() == total + 1  # after giving way once
