"""Every format the scanner accepts plays in the app (QtMultimedia's FFmpeg backend decodes it)."""

from __future__ import annotations

import pytest

from player_plugin.ui.playback import Playback
from tests.conftest import FIXTURES

PLAYED_MS = 300  # the fixtures last one second
PLAY_WAIT_MS = 15_000


@pytest.mark.real_audio
@pytest.mark.parametrize("name", ["tone.wv", "tone.wma", "tone.flac"])
def test_each_format_plays(qtbot, name):
    playback = Playback()
    if playback.backend != "qtmultimedia":
        pytest.skip(f"QtMultimedia is not available here ({playback.note})")
    errors: list[str] = []
    playback.error.connect(errors.append)
    try:
        playback.load(str(FIXTURES / name), duration_s=1.0)
        playback.play()
        qtbot.waitUntil(lambda: playback.position_ms() >= PLAYED_MS or bool(errors), timeout=PLAY_WAIT_MS)
        assert errors == []
        assert playback.duration_ms() == pytest.approx(1000, abs=100)
    finally:
        playback.shutdown()
