"""The app plays each track at its ReplayGain level: track gain in a mix, album gain while an album
plays in order, as the settings say (real files tagged as taggers tag them, the real app)."""

from __future__ import annotations

import pytest

from tests.conftest import make_track
from tests.test_levelling import _tag
from tests.ui.conftest import WAIT_MS


def _db(gain: float) -> float:
    return 10 ** (gain / 20)


@pytest.fixture
def window(make_window, qtbot, tmp_path):
    music = tmp_path / "Music"
    for n, (title, track_gain) in enumerate((("Dawn", -9.0), ("Noon", -3.0)), start=1):
        path = make_track(music / "Anna" / "Day", f"0{n} {title}", "flac", title=title, artist="Anna", album="Day")
        _tag(path, "flac", {"TRACKNUMBER": str(n)})
        _tag(path, "flac", {"REPLAYGAIN_TRACK_GAIN": f"{track_gain} dB", "REPLAYGAIN_ALBUM_GAIN": "-6.0 dB"})
    make_track(music / "Bo", "Night", "ogg", title="Night", artist="Bo")  # no ReplayGain
    w = make_window()
    w.engine.add_root(str(music))
    with qtbot.waitSignal(w.jobs.embed_finished, timeout=WAIT_MS):
        w.start()
    qtbot.waitUntil(lambda: w.library_panel.row_count() == 3, timeout=WAIT_MS)
    return w


def _id(window, title: str) -> int:
    return next(t.id for t in window.engine.all_tracks() if t.tags.title == title)


def test_each_track_plays_at_its_level(window):
    player, playback = window.player, window.playback
    playback.set_volume(0.5)
    player.play_track(_id(window, "Noon"))  # a mix: its own track gain
    assert player.gain.source == "track" and playback.output_volume() == pytest.approx(0.5 * _db(-3.0))
    player.play_track(_id(window, "Dawn"))
    player.play_track(_id(window, "Noon"))  # after track 1 of its album: the album's gain
    assert player.gain.source == "album" and playback.output_volume() == pytest.approx(0.5 * _db(-6.0))
    player.play_track(_id(window, "Night"))  # no tags: as it is
    assert player.gain.source == "untagged" and playback.output_volume() == pytest.approx(0.5)


def test_the_setting_applies_to_what_plays_now(window):
    from player_plugin.ui.settings_dialog import SettingsDialog

    window.playback.set_volume(0.8)
    window.player.play_track(_id(window, "Dawn"))
    assert window.playback.output_volume() == pytest.approx(0.8 * _db(-9.0))
    dialog = SettingsDialog(window.engine, window, parent=window)
    dialog.levelling.setCurrentIndex(dialog.levelling.findData("off"))
    dialog.save_and_close()
    assert window.playback.output_volume() == pytest.approx(0.8)
    dialog = SettingsDialog(window.engine, window, parent=window)
    assert dialog.levelling.currentData() == "off"  # stored
    dialog.levelling.setCurrentIndex(dialog.levelling.findData("track"))
    dialog.preamp.setValue(12.0)  # +3 dB over full volume: as loud as the volume leaves room for
    dialog.save_and_close()
    assert window.playback.output_volume() == pytest.approx(min(1.0, 0.8 * _db(3.0)))
