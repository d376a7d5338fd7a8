"""A CUE sheet's track plays as its stretch of the image: positions, duration and seeks are its own,
it stops at its end, and the next track of the image goes on from there without a reload."""

from __future__ import annotations

import shutil

import pytest

from player_plugin.ui.playback import Playback
from tests.cd_image import make_image
from tests.ui.conftest import SEEK_SLACK_MS

pytestmark = pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="needs ffmpeg to encode the CD image")

TRACK_S = 4.0
WAIT_MS = 20_000


@pytest.fixture(scope="module")
def image(tmp_path_factory):
    return make_image(tmp_path_factory.mktemp("image") / "CDImage.flac", seconds=TRACK_S)


@pytest.mark.real_audio
def test_a_track_of_an_image_plays_its_stretch_and_the_next_goes_on(qtbot, image):
    playback = Playback()
    if playback.backend != "qtmultimedia":
        pytest.skip(f"QtMultimedia is not available here ({playback.note})")
    ended: list[int] = []
    playback.ended.connect(lambda: ended.append(playback.position_ms()))
    try:
        playback.load(str(image), duration_s=TRACK_S, start_s=TRACK_S, end_s=2 * TRACK_S)  # the middle track
        playback.play()
        qtbot.waitUntil(lambda: playback.position_ms() > 0, timeout=WAIT_MS)
        assert playback.position_ms() < 2_000  # its own position: from its start, not the file's
        assert playback.duration_ms() == 4_000
        playback.seek(3_000)  # into the track: 7 s into the file
        qtbot.waitUntil(lambda: playback.position_ms() >= 3_000 - SEEK_SLACK_MS, timeout=WAIT_MS)
        qtbot.waitUntil(lambda: bool(ended), timeout=WAIT_MS)
        assert not playback.is_playing()  # stopped at its end, not on into the next track
        assert ended == [4_000]

        playback.load(str(image), duration_s=TRACK_S, start_s=2 * TRACK_S)  # the last: to the end of the file
        playback.play()
        qtbot.waitUntil(lambda: playback.is_playing(), timeout=WAIT_MS)
        assert playback.position_ms() < 1_000  # went on from where it stopped: the start of the next
        qtbot.waitUntil(lambda: len(ended) == 2, timeout=WAIT_MS)

        playback.load(str(image), duration_s=TRACK_S, start_s=0.0, end_s=TRACK_S)  # the first, after the end
        playback.play()
        qtbot.waitUntil(lambda: playback.is_playing() and playback.position_ms() > 0, timeout=WAIT_MS)
        assert playback.position_ms() < 2_000
    finally:
        playback.shutdown()
