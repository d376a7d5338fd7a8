"""The app when the disk under its database fills up during the first embed: the status bar says the
disk is full (not that the music model is unavailable), Up Next is not switched off,
and the next embed, with room again, finishes the library."""

from __future__ import annotations

import sys

import pytest

from tests import small_disk as disk
from tests.ui.conftest import TEST_MODEL, WAIT_MS

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="a tmpfs mount")


def test_disk_full_during_the_apps_embed(qtbot, tmp_path, demo_music):
    from player_plugin.shared_encoder import make_engine
    from player_plugin.ui.main_window import MainWindow

    with disk.small_disk(tmp_path / "small") as mount:
        engine = make_engine(mount / "library.db", model_id=TEST_MODEL)
        engine.scan([demo_music])
        window = MainWindow(engine, scan_demo=False, silent_audio=True)
        qtbot.addWidget(window)
        said: list[str] = []
        window.jobs.message.connect(said.append)
        try:
            window.show()
            with qtbot.waitSignal(window.jobs.embed_finished, timeout=WAIT_MS) as embed:
                window.jobs.start_embed()
            assert isinstance(embed.args[0], Exception)
            failed = [m for m in said if m.startswith("Could not save what the model understood")]
            assert failed and "no room to write" in failed[0], said
            assert not any("Music model unavailable" in m for m in said), said
            assert window.upnext.recommend_error is None  # the model is fine: Up Next is not switched off
            assert "can't recommend" not in window.upnext_panel.queue_notice.text()

            disk.grow(mount)
            with qtbot.waitSignal(window.jobs.embed_finished, timeout=WAIT_MS) as again:
                window.jobs.start_embed()
            assert not isinstance(again.args[0], Exception), again.args[0]
            count = engine.db.conn.execute("SELECT COUNT(DISTINCT track_id) FROM track_vectors").fetchone()[0]
            assert count == 32
            qtbot.waitUntil(lambda: len(window.upnext.entries()) >= 5, timeout=WAIT_MS)
        finally:
            window.close()
            window.shutdown()
            engine.close()
