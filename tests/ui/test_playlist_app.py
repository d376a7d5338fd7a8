"""File ▸ Continue a playlist… in the app: an M3U8 another player wrote becomes a fresh Up Next that
continues it (the real app on the prepared demo copy)."""

from __future__ import annotations

from tests.ui.conftest import WAIT_MS


def test_up_next_continues_a_playlist_file(ready_window, qtbot, tmp_path):
    window = ready_window
    by_title = {t.tags.title: t for t in window.engine.all_tracks()}
    seeds = [by_title["Lantern Blues"], by_title["Smoke and Velvet"]]
    path = tmp_path / "jazz.m3u8"
    path.write_text("#EXTM3U\n#PLAYLIST:Jazz night\n" + "".join(f"{t.path}\n" for t in seeds), encoding="utf-8")
    said = []
    window.upnext.message.connect(said.append)
    window.upnext.continue_playlist(str(path))
    qtbot.waitUntil(lambda: any(s.startswith("Continuing “Jazz night”") for s in said), timeout=WAIT_MS)
    entries = window.upnext.entries()
    assert entries and not {e.track_id for e in entries} & {t.id for t in seeds}
    assert any("Jazz night" in e.reason for e in entries)
