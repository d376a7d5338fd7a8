"""M3U8 export: no title or file name can add a line to the playlist; the file is private."""

from __future__ import annotations

import stat

from player_plugin.library.scanner import Scanner
from player_plugin.store import Database, TrackRepository
from player_plugin.ui.playlist import write_m3u8
from tests.conftest import make_track

INJECTED = "http://evil.example/x.mp3"


def _tracks(tmp_path):
    music = tmp_path / "Music"
    make_track(music, "plain", "mp3", title=f"Evil\n{INJECTED}\r#EXTINF:1,x", artist="A\u2028B")
    make_track(music, "bad\nhttp:evil", "mp3", title="Named badly", artist="C")  # "/" cannot be in a name
    make_track(music, "#hash", "mp3", title="Hash", artist="D")
    db = Database(tmp_path / "lib.db")
    report = Scanner(db).scan([music])
    assert report.added == 3, report.failures
    return sorted(TrackRepository(db).iter_all(), key=lambda t: t.path)


def test_titles_and_names_cannot_inject_playlist_lines(tmp_path):
    tracks = _tracks(tmp_path)
    out = tmp_path / "Music" / "mix.m3u8"
    done = write_m3u8(out, tracks, title="Up Next\nhttp://evil.example/title.mp3")
    text = out.read_text(encoding="utf-8")
    lines = text.splitlines()
    assert lines[0] == "#EXTM3U" and lines[1] == "#PLAYLIST:Up Next http://evil.example/title.mp3"
    assert not any(line.startswith("http") for line in lines)  # nothing another player would fetch
    assert [line for line in lines if not line.startswith("#")] == ["./#hash.mp3", "plain.mp3"]
    extinf = [line for line in lines if line.startswith("#EXTINF:")]
    assert len(extinf) == 2 and any(f"Evil {INJECTED} #EXTINF:1,x" in line for line in extinf)
    assert "\r" not in text and "\u2028" not in text and text.count("\n") == len(lines)
    assert (done.written, done.skipped) == (2, 1)  # the file whose name holds a newline is left out


def test_playlist_is_private_and_replaced_whole(tmp_path):
    tracks = _tracks(tmp_path)
    out = tmp_path / "mix.m3u8"
    out.write_text("old\n", encoding="utf-8")
    out.chmod(0o644)
    write_m3u8(out, tracks)
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert out.read_text(encoding="utf-8").startswith("#EXTM3U\n")
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".mix")] == []  # no temporary left
    fresh = tmp_path / "new.m3u8"
    write_m3u8(fresh, tracks[:1])
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o600


def test_a_saved_up_next_reads_back_as_the_same_tracks(tmp_path):
    """What "Save as playlist" writes, "Continue a playlist" reads (playlist_files.py): the same files
    in the same order, whether a path is written relative (`./#hash.mp3`) or absolute."""
    from player_plugin.playlist_files import read_playlist

    tracks = [t for t in _tracks(tmp_path) if "\n" not in t.path]
    for out in (tmp_path / "Music" / "mix.m3u8", tmp_path / "elsewhere" / "mix.m3u8"):
        out.parent.mkdir(exist_ok=True)
        write_m3u8(out, tracks, title="Up Next — rainy night")
        got = read_playlist(out)
        assert got.paths == [t.path for t in tracks] and got.name == "Up Next — rainy night"
