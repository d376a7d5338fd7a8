"""The app plays a CUE sheet's track as a track: its own position and length, its play and complete
recorded on it, and at its end Up Next takes over."""

from __future__ import annotations

import shutil

import pytest

from player_plugin.models import EventKind
from player_plugin.store import EventRepository
from tests.cd_image import make_image
from tests.ui.conftest import TEST_MODEL, WAIT_MS

pytestmark = pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="needs ffmpeg to encode the CD image")

SHEET = 'PERFORMER "Imogen"\nTITLE "Image"\nFILE "CDImage.flac" WAVE\n' + "".join(
    f'  TRACK 0{n} AUDIO\n    TITLE "Part {n}"\n    INDEX 01 00:{4 * n - 4:02d}:00\n' for n in (1, 2, 3)
)


@pytest.mark.real_audio
def test_a_track_of_an_image_plays_and_is_recorded_as_itself(make_window, tmp_path, qtbot):
    from player_plugin.shared_encoder import make_engine

    music = tmp_path / "music"
    make_image(music / "Image" / "CDImage.flac")
    (music / "Image" / "CDImage.cue").write_text(SHEET, encoding="utf-8")
    prepared = tmp_path / "prepared.db"
    engine = make_engine(prepared, model_id=TEST_MODEL)
    engine.scan([music])
    engine.embed()
    engine.close()

    window = make_window(prepared, silent_audio=False)
    if window.playback.backend != "qtmultimedia":
        pytest.skip(f"QtMultimedia is not available here ({window.playback.note})")
    with qtbot.waitSignal(window.jobs.embed_finished, timeout=WAIT_MS):
        window.start()
    qtbot.waitUntil(lambda: len(window.upnext.entries()) >= 1, timeout=WAIT_MS)
    part2 = next(t for t in window.engine.tracks.iter_all() if t.tags.title == "Part 2")
    assert window.player.play_track(part2.id)
    qtbot.waitUntil(lambda: window.playback.position_ms() > 0, timeout=WAIT_MS)
    assert window.playback.position_ms() < 2_000 and window.playback.duration_ms() == 4_000
    assert window.now_playing_panel.title_label.text() == "Part 2"
    qtbot.waitUntil(lambda: window.player.current is not None and window.player.current.id != part2.id, timeout=WAIT_MS)
    events = EventRepository(window.engine.db).recent(limit=100)
    ours = [(e.kind, e.position_s) for e in reversed(events) if e.track_id == part2.id]
    assert [k for k, _ in ours] == [EventKind.PLAY, EventKind.COMPLETE]  # once: it left Up Next as it started
    # complete once 80 % of its own 4 s were heard (of the image's 12 s that would be 9.6 s)
    assert ours[1][1] == pytest.approx(0.8 * 4.0, abs=0.5)
