"""Lyrics helpers: encoding detection, LRC stripping, sidecar discovery and reading."""

from __future__ import annotations

import random
import sys
from pathlib import Path

import pytest

from player_plugin.library.lyrics import (
    MAX_SIDECAR_BYTES,
    LyricsReadError,
    decode_text,
    looks_like_lrc,
    read_sidecar,
    sidecar_candidates,
    sidecar_paths,
    strip_lrc,
)
from player_plugin.library.tag_bounds import MAX_LYRICS_CHARS
from tests.mode_bound import reason_of

CHINESE = "月亮代表我的心\n你问我爱你有多深"
TRADITIONAL = "月亮代表我的心\n你問我愛你有多深\n我愛你有幾分"

# --------------------------------------------------------------------------- strip_lrc

LRC = """[ti:Song Title]
[ar:Some Artist]
[al:Some Album]
[by:someone]
[offset:+250]
[length: 03:25]
[re:LRC Editor]
[ve:1.0]
[au:Writer]
[xx:unknown header]

[00:12.34]First line
[00:15.00]Second line
[00:17.50]
[00:18.00]
[00:20:10]Third line, other stamp style
[1:02.345]Fourth line


[00:30.00]
"""


def test_strip_lrc_headers_stamps_and_blank_lines() -> None:
    assert strip_lrc(LRC) == ("First line\nSecond line\n\nThird line, other stamp style\nFourth line")


def test_strip_lrc_multiple_stamps_on_one_line_appear_once_in_order() -> None:
    text = "[00:05.00]Verse\n[00:12.00][01:30.00]Chorus\n[00:20.00] [01:40.00] Bridge\n[01:00.00]Verse 2"
    assert strip_lrc(text) == "Verse\nChorus\nBridge\nVerse 2"


def test_strip_lrc_enhanced_word_stamps() -> None:
    text = "[00:12.00]<00:12.00>Hello <00:12.50>bright <00:13.10>world\n[00:14.00]<00:14.00> Next<00:15.00>"
    assert strip_lrc(text) == "Hello bright world\nNext"


def test_strip_lrc_crlf_and_bom() -> None:
    assert strip_lrc("\ufeff[ar:X]\r\n[00:01.00]One\r\n[00:02.00]Two\r\n") == "One\nTwo"


def test_strip_lrc_keeps_unstamped_lines_inside_lrc() -> None:
    assert strip_lrc("[00:01.00]One\nloose line\n[00:02.00]Two") == "One\nloose line\nTwo"


def test_strip_lrc_leaves_plain_text_alone() -> None:
    plain = "\n\n  [Chorus: Someone]\nWords here: 12:30 is late\r\n\n\nMore words  \n\n"
    assert strip_lrc(plain) == "[Chorus: Someone]\nWords here: 12:30 is late\n\n\nMore words"


def test_looks_like_lrc() -> None:
    assert looks_like_lrc("[00:01.00]One")
    assert looks_like_lrc("intro text\n[01:02]line")
    assert looks_like_lrc("[ti:Song]\n[ar:Artist]\nplain line")
    assert not looks_like_lrc("Just some words\nand more")
    assert not looks_like_lrc("[Chorus: Someone]\nla la")
    assert not looks_like_lrc("It is 12:30 [really]")
    assert not looks_like_lrc("")


def test_strip_lrc_of_header_only_lrc_is_empty() -> None:
    assert strip_lrc("[ti:Song]\n[ar:Artist]\n") == ""


# --------------------------------------------------------------------------- decode_text


def test_decode_utf8_and_newlines() -> None:
    assert decode_text("héllo\r\nwörld\r中文\n".encode()) == "héllo\nwörld\n中文\n"


def test_decode_utf8_bom() -> None:
    assert decode_text(b"\xef\xbb\xbf" + CHINESE.encode()) == CHINESE


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"])
def test_decode_with_bom(codec: str) -> None:
    data = "\ufeff".encode(codec) + (CHINESE + "\r\nabc").encode(codec)
    assert decode_text(data) == CHINESE + "\nabc"


def test_decode_python_utf16_default() -> None:
    assert decode_text("[00:01.00]Hi\r\n".encode("utf-16")) == "[00:01.00]Hi\n"


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_decode_utf16_without_bom(codec: str) -> None:
    text = "[00:01.00]Hello there\n[00:02.00]Café au lait\n[00:03.00]月亮"
    assert decode_text(text.encode(codec)) == text


@pytest.mark.parametrize("codec", ["gb18030", "gbk", "gb2312"])
def test_decode_simplified_chinese(codec: str) -> None:
    assert decode_text(CHINESE.encode(codec)) == CHINESE


def test_decode_chinese_lrc_with_ascii_stamps() -> None:
    text = "[ti:月亮代表我的心]\n[00:01.00]你问我爱你有多深\n[00:05.00]我爱你有几分"
    assert decode_text(text.encode("gbk")) == text


def test_decode_big5() -> None:
    assert decode_text(TRADITIONAL.encode("big5")) == TRADITIONAL


def test_decode_traditional_chinese_in_gbk() -> None:
    assert decode_text(TRADITIONAL.encode("gbk")) == TRADITIONAL


@pytest.mark.parametrize(
    "text",
    [
        "café déjà vu",
        "Sigur Rós",
        "Canção do Mar",
        "Mötley Crüe – Björk",
        "Les Misérables — À la volonté du peuple",
        "naïve façade “quoted” €5",
    ],
)
def test_decode_cp1252_is_not_mistaken_for_chinese(text: str) -> None:
    assert decode_text(text.encode("cp1252")) == text


def test_decode_mostly_utf8_with_a_broken_byte() -> None:
    text = "Grüße aus Köln, schöne Größe, Übermaß " * 3
    data = text.encode() + b"\xff"
    decoded = decode_text(data)
    assert decoded.startswith(text)


def test_decode_empty() -> None:
    assert decode_text(b"") == ""


def test_decode_garbage_never_raises() -> None:
    rng = random.Random(42)
    for _ in range(500):
        data = rng.randbytes(rng.randint(1, 400))
        assert isinstance(decode_text(data), str)
    for data in (b"\x00", b"\xff\xfe\x00", b"\xfe\xff\xd8", b"\xef\xbb", b"\x00\x00\xfe\xff\x00", b"\x81\x30"):
        assert isinstance(decode_text(data), str)


# --------------------------------------------------------------------------- sidecars


def test_sidecar_candidates_matching_and_order() -> None:
    entries = [
        "Song.mp3",
        "Song.txt",
        "Song 2.lrc",
        "Song.LRC",
        "song.lrc",
        "Song.mp3.lrc",
        "Song.jpg",
        "Other.lrc",
        "Song.lrc.bak",
        "Song",
    ]
    assert sidecar_candidates("Song.mp3", entries) == ["Song.LRC", "song.lrc", "Song.mp3.lrc", "Song.txt"]


def test_sidecar_candidates_do_not_match_prefixes() -> None:
    assert sidecar_candidates("Song.mp3", ["Song 2.lrc", "Song (live).txt", "Son.lrc"]) == []
    assert sidecar_candidates("Song 2.flac", ["Song.lrc", "Song 2.txt"]) == ["Song 2.txt"]


def test_sidecar_candidates_dotted_stem_and_path_input() -> None:
    entries = ["01. Intro.lrc", "01.lrc", "01. Intro.TXT"]
    assert sidecar_candidates("01. Intro.ogg", entries) == ["01. Intro.lrc", "01. Intro.TXT"]
    assert sidecar_candidates("/music/a/01. Intro.ogg", entries) == ["01. Intro.lrc", "01. Intro.TXT"]


def test_sidecar_candidates_own_txt_track_is_not_a_sidecar() -> None:
    assert sidecar_candidates("notes.txt", ["notes.txt"]) == []


def test_sidecar_paths(tmp_path: Path) -> None:
    audio = tmp_path / "Song.mp3"
    audio.write_bytes(b"x")
    (tmp_path / "Song.txt").write_text("plain")
    (tmp_path / "Song.Lrc").write_text("[00:01.00]x")
    (tmp_path / "Song 2.lrc").write_text("no")
    (tmp_path / "song.lrc").mkdir()  # a directory is not a sidecar
    assert sidecar_paths(audio) == [tmp_path / "Song.Lrc", tmp_path / "Song.txt"]


def test_sidecar_paths_missing_folder(tmp_path: Path) -> None:
    assert sidecar_paths(tmp_path / "nope" / "Song.mp3") == []


def test_read_sidecar_lrc_gbk(tmp_path: Path) -> None:
    path = tmp_path / "Song.lrc"
    path.write_bytes("[ar:邓丽君]\r\n[00:01.00]月亮代表我的心\r\n[00:05.00]你问我爱你有多深\r\n".encode("gbk"))
    assert read_sidecar(path) == CHINESE


def test_read_sidecar_txt_that_is_really_lrc(tmp_path: Path) -> None:
    path = tmp_path / "Song.txt"
    path.write_text("[00:01.00]One\n[00:02.00]Two\n", encoding="utf-16")
    assert read_sidecar(path) == "One\nTwo"


def test_read_sidecar_plain_txt_trimmed(tmp_path: Path) -> None:
    path = tmp_path / "Song.txt"
    path.write_bytes(b"\xef\xbb\xbf\n  Verse one\r\n\r\nVerse two  \n\n")
    assert read_sidecar(path) == "Verse one\n\nVerse two"


@pytest.mark.parametrize("content", [b"", b"  \n\r\n", b"[ti:x]\n[00:01.00]\n"])
def test_read_sidecar_empty_is_none(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "Song.lrc"
    path.write_bytes(content)
    assert read_sidecar(path) is None


def test_read_sidecar_oversized_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "Song.txt"
    path.write_bytes(b"la " * (MAX_SIDECAR_BYTES // 3 + 10))
    assert path.stat().st_size > MAX_SIDECAR_BYTES
    with pytest.raises(LyricsReadError, match="larger than 1 MiB"):
        read_sidecar(path)


def test_read_sidecar_exactly_at_cap_is_read_and_bounded(tmp_path: Path) -> None:
    path = tmp_path / "Song.txt"
    path.write_bytes(("la la la\n" * (MAX_SIDECAR_BYTES // 9)).encode())
    text = read_sidecar(path)
    assert text is not None and len(text) <= MAX_LYRICS_CHARS and text.endswith("la la la")


def test_read_sidecar_missing(tmp_path: Path) -> None:
    with pytest.raises(LyricsReadError) as info:
        read_sidecar(tmp_path / "gone.lrc")
    assert info.value.reason == "file not found"


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX file modes")
def test_read_sidecar_unreadable(tmp_path: Path) -> None:
    """A sidecar the kernel refuses (mode 000), read by a process the mode binds (as root too)."""
    path = tmp_path / "Song.lrc"
    path.write_text("[00:01.00]x")
    path.chmod(0)
    try:
        assert reason_of("player_plugin.library.lyrics", "read_sidecar", "LyricsReadError", path) == "permission denied"
    finally:
        path.chmod(0o644)


def test_read_sidecar_permission_mapping(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied")

    (tmp_path / "Song.lrc").write_text("[00:01.00]la")
    monkeypatch.setattr("builtins.open", refuse)
    with pytest.raises(LyricsReadError) as info:
        read_sidecar(tmp_path / "Song.lrc")
    assert str(info.value) == info.value.reason == "permission denied"


# --------------------------------------------------------------------------- not text


@pytest.mark.parametrize(
    "data",
    [
        random.Random(11).randbytes(4096),  # noise: decodes only through the latin-1 fallback
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + random.Random(12).randbytes(2000),  # an image renamed .txt
        b"ELF lyrics\x00\x00\x00\x01\x02\x03 and more words " * 40,  # text with binary between
    ],
)
def test_binary_sidecar_is_refused(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "Song.txt"
    path.write_bytes(data)
    with pytest.raises(LyricsReadError, match="not text"):
        read_sidecar(path)


def test_text_with_a_stray_control_character_is_still_text(tmp_path: Path) -> None:
    path = tmp_path / "Song.lrc"
    path.write_bytes("[00:01.00]第一行\n[00:02.00]second line\x1a\n".encode("gb18030") + b"\x00\x00")
    text = read_sidecar(path)
    assert text is not None and text.startswith("第一行\nsecond line")
