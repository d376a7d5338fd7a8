"""The times of LRC lyrics, for the lyrics window: stamp forms, and lyrics embedded in each tag system."""

from __future__ import annotations

import shutil

import mutagen
import pytest
from mutagen.apev2 import APEv2
from mutagen.id3 import ID3, SYLT, USLT, Encoding

from player_plugin.library.lrc_timing import read_embedded_timed_lyrics, read_timed_lyrics, timed_lines
from tests.conftest import FIXTURES

LRC = "[ti:雨]\n[00:01.00]第一句\n[00:02.50]second line\n"
TIMED = [(1000, "第一句"), (2500, "second line")]


def test_the_times_of_lrc_lines():
    text = "[ti:x]\n[offset:+500]\n[00:01.5]one\n[00:03:05][01:00.125]chorus <00:03.20>word\n[00:02]two\nplain\n"
    assert timed_lines(text) == [(1000, "one"), (1500, "two"), (2550, "chorus word"), (59625, "chorus word")]
    assert timed_lines("just words\nno stamps\n") == []


def test_a_sidecar_in_gbk_and_one_that_is_gone(tmp_path):
    (tmp_path / "a.lrc").write_bytes(LRC.encode("gbk"))
    assert read_timed_lyrics(tmp_path / "a.lrc") == TIMED
    assert read_timed_lyrics(tmp_path / "gone.lrc") == []


def _copy(tmp_path, name):
    path = tmp_path / name
    shutil.copyfile(FIXTURES / name, path)
    return path


@pytest.mark.parametrize(("name", "key"), [
    ("tone.flac", "LYRICS"), ("tone.ogg", "UNSYNCEDLYRICS"), ("tone.m4a", "\xa9lyr"), ("tone.wma", "WM/Lyrics"),
])  # fmt: skip
def test_lrc_text_in_the_tags(tmp_path, name, key):
    path = _copy(tmp_path, name)
    audio = mutagen.File(path)
    if audio.tags is None:
        audio.add_tags()
    audio[key] = [LRC]
    audio.save()
    assert read_embedded_timed_lyrics(path) == TIMED


def test_lrc_text_in_an_apev2_tag(tmp_path):
    path = _copy(tmp_path, "tone.wv")
    tags = APEv2()
    tags["Lyrics"] = LRC
    tags.save(path)
    assert read_embedded_timed_lyrics(path) == TIMED


def test_id3_uslt_with_stamps_then_a_sylt_in_milliseconds(tmp_path):
    path = _copy(tmp_path, "tone.mp3")
    tags = ID3()
    tags.add(
        SYLT(encoding=Encoding.UTF8, lang="chi", format=2, type=1, desc="", text=[("第一句", 1000), ("two", 2500)])
    )
    tags.save(path)
    assert read_embedded_timed_lyrics(path) == [(1000, "第一句"), (2500, "two")]
    tags.add(USLT(encoding=Encoding.UTF8, lang="chi", desc="", text=LRC))
    tags.save(path)
    assert read_embedded_timed_lyrics(path) == TIMED  # LRC text first


def test_plain_lyrics_and_no_file_have_no_times(tmp_path):
    path = _copy(tmp_path, "tone.flac")
    audio = mutagen.File(path)
    audio["LYRICS"] = "words with no times"
    audio.save()
    assert read_embedded_timed_lyrics(path) == []
    assert read_embedded_timed_lyrics(tmp_path / "gone.flac") == []
