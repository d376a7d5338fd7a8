"""Playlists other players wrote (playlist_files.py), and Up Next continuing one (Engine.continue_playlist)
on the demo library with the real encoder."""

from __future__ import annotations

import json
import os
from urllib.parse import quote

import numpy as np
import pytest

from player_plugin.playlist_files import MAX_PLAYLIST_BYTES, PlaylistError, read_playlist
from tests.test_upnext_engine import db_path, encoder, engine, ids, template  # noqa: F401 - fixtures


def test_every_way_players_write_an_entry(tmp_path):
    music = tmp_path / "Music"
    (music / "林夕雨").mkdir(parents=True)
    for name in ("a.mp3", "b c.flac", "林夕雨/雨.mp3", "d.ogg"):
        (music / name).write_bytes(b"x")
    playlist = music / "lists" / "mine.m3u8"
    playlist.parent.mkdir()
    uri = "file://" + quote((music / "林夕雨" / "雨.mp3").as_posix())  # percent-encoded, as players write it
    lines = ["\ufeff#EXTM3U", "#PLAYLIST:Night drive", "#EXTINF:60,A - a", "../a.mp3", str(music / "b c.flac"), uri]
    lines += ["..\\d.ogg", "http://radio.example/stream", "", "# a comment"]  # Windows' separator; a stream
    playlist.write_text("\n".join(lines) + "\n", encoding="utf-8")
    got = read_playlist(playlist)
    assert got.name == "Night drive" and got.streams == 1
    assert got.paths == [str(music / n) for n in ("a.mp3", "b c.flac", "林夕雨/雨.mp3", "d.ogg")]


@pytest.mark.parametrize("encoding", ["gb18030", "utf-16"])
def test_an_old_m3u_in_another_encoding(tmp_path, encoding):
    (tmp_path / "雨夜.mp3").write_bytes(b"x")
    playlist = tmp_path / "老歌.m3u"
    playlist.write_bytes("#EXTM3U\n雨夜.mp3\n".encode(encoding))
    got = read_playlist(playlist)
    assert got.name == "老歌" and got.paths == [str(tmp_path / "雨夜.mp3")]


def test_what_is_no_playlist_is_refused_in_one_line(tmp_path):
    binary = tmp_path / "cover.m3u"
    binary.write_bytes(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00")
    with pytest.raises(PlaylistError, match="binary data"):
        read_playlist(binary)
    huge = tmp_path / "huge.m3u8"
    with open(huge, "wb") as f:
        f.truncate(MAX_PLAYLIST_BYTES + 1)  # sparse: no disk used
    with pytest.raises(PlaylistError, match="not a playlist"):
        read_playlist(huge)
    with pytest.raises(PlaylistError, match="cannot read the playlist"):
        read_playlist(tmp_path / "gone.m3u8")


def _playlist(tmp_path, engine, titles: list[str], name: str = "Rainy evening"):  # noqa: F811
    by_title = {t.tags.title: t for t in engine.tracks.iter_all()}
    path = tmp_path / "rainy.m3u8"
    lines = ["#EXTM3U", f"#PLAYLIST:{name}", *(by_title[t].path for t in titles), "/nowhere/else.mp3"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path, [by_title[t].id for t in titles]


def test_up_next_continues_a_playlist_and_never_repeats_it(engine, tmp_path):  # noqa: F811
    path, seeds = _playlist(tmp_path, engine, ["Rain on Glass", "Fog Over the Harbour", "雨夜的信"])
    entries, name = engine.continue_playlist(path, 10)
    assert name == "Rainy evening" and len(entries) == 10
    assert not set(ids(entries)) & set(seeds)  # it continues the playlist: none of its own tracks
    assert sum("rainy evening" in e.reason.lower() for e in entries) >= 5  # the reasons say where from
    cat = engine.recommender.catalog()
    centre = cat.matrix[[cat.row_of[t] for t in seeds]].mean(axis=0)

    others = [r for t, r in cat.row_of.items() if t not in seeds]
    first = [cat.row_of[e.track_id] for e in entries[:5]]
    assert np.mean(cat.matrix[first] @ centre) > np.mean(cat.matrix[others] @ centre)  # the playlist's sound leads
    engine.track_started(entries[0].track_id)  # a play ends the mix, as a mix from a track
    engine.refill(10)
    assert engine.recommender.seed is None


def test_a_playlist_of_nothing_in_the_library_says_so(engine, tmp_path):  # noqa: F811
    path = tmp_path / "elsewhere.m3u8"
    path.write_text("/nowhere/a.mp3\nhttp://radio.example/stream\n", encoding="utf-8")
    with pytest.raises(LookupError, match=r"none of the 1 files of “elsewhere” \(1 streams\) is in the library"):
        engine.continue_playlist(path)


def test_the_command_line_continues_a_playlist(engine, tmp_path, capsys):  # noqa: F811
    from player_plugin import cli

    path, seeds = _playlist(tmp_path, engine, ["Lantern Blues", "Smoke and Velvet"], name="Jazz night")
    db = str(engine.db.path)
    engine.close()
    assert cli.main(["--db", db, "up-next", "--seed", str(path), "--json", "--model", "all-minilm-l6-v2"]) == 0
    queue = json.loads(capsys.readouterr().out)["queue"]
    assert queue and not {q["track_id"] for q in queue} & set(seeds)
    assert any("Jazz night" in q["reason"] for q in queue)
    assert cli.main(["--db", db, "up-next", "--seed", os.fspath(tmp_path / "gone.m3u8")]) == 1
    assert "cannot read the playlist" in capsys.readouterr().err
