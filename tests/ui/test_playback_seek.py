"""A seek asked for right after a track is loaded is not lost (the backend cannot seek yet then)."""

from __future__ import annotations

import pytest

from player_plugin import paths
from player_plugin.ui.playback import Playback
from tests.ui.conftest import SEEK_SLACK_MS

TARGET_MS = 50_000  # well into a demo track (each lasts a minute)
# Far less than playing there would take, and ample for a seek on a loaded machine: a dropped seek
# (the track playing on from 0) cannot pass.
SEEK_WAIT_MS = 15_000


@pytest.mark.real_audio
def test_a_seek_straight_after_load_lands_where_asked(qtbot):
    playback = Playback()
    if playback.backend != "qtmultimedia":
        pytest.skip(f"QtMultimedia is not available here ({playback.note})")
    track = next(p for p in sorted(paths.demo_library_dir().rglob("*.opus")))
    try:
        playback.load(str(track), duration_s=60.0)
        playback.seek(TARGET_MS)  # at once: the media is not seekable yet
        playback.play()
        qtbot.waitUntil(lambda: playback.position_ms() >= TARGET_MS - SEEK_SLACK_MS, timeout=SEEK_WAIT_MS)
        assert playback.position_ms() < TARGET_MS + SEEK_WAIT_MS
    finally:
        playback.shutdown()
