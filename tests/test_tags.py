"""read_tags: every supported format tagged with mutagen's native API, then read back."""

from __future__ import annotations

import base64
import random
import shutil
import subprocess
import sys
from pathlib import Path

import mutagen
import pytest
from mutagen.apev2 import APEv2, APEValue
from mutagen.asf import ASF, ASFByteArrayAttribute
from mutagen.flac import Picture
from mutagen.id3 import (
    APIC,
    ID3,
    SYLT,
    TALB,
    TCON,
    TDRC,
    TIT2,
    TPE1,
    TPE2,
    TPOS,
    TRCK,
    TXXX,
    UFID,
    USLT,
    Encoding,
)
from mutagen.mp4 import MP4Cover, MP4FreeForm

from player_plugin.library.tags import AUDIO_EXTENSIONS, TagReadError, read_tags
from player_plugin.models import TrackTags
from tests.mode_bound import reason_of

AUDIO = Path(__file__).parent / "fixtures" / "audio"

# fixture file -> (codec, tag system, sample rate)
FORMATS: dict[str, tuple[str, str, int]] = {
    "tone.mp3": ("mp3", "id3", 22050),
    "tone.flac": ("flac", "vorbis", 8000),
    "tone.ogg": ("vorbis", "vorbis", 22050),
    "tone.opus": ("opus", "vorbis", 48000),
    "tone.m4a": ("aac", "mp4", 22050),
    "tone_alac.m4a": ("alac", "mp4", 8000),
    "tone.wav": ("wav", "id3", 8000),
    "tone.aiff": ("aiff", "id3", 8000),
    "tone.wv": ("wavpack", "ape", 8000),
    "tone.wma": ("wma", "asf", 8000),
}

TITLE = "Test Title"
ARTISTS = ("Simon & Garfunkel", "AC/DC")  # must not be split on "&" or "/"
ALBUM = "Test Album"
ALBUM_ARTIST = "Various Artists"
GENRES = ("Rock", "Jazz")
DATE = "2019-05-01"
REC_ID = "11111111-1111-1111-1111-111111111111"
TRACK_ID = "22222222-2222-2222-2222-222222222222"
ALBUM_ID = "33333333-3333-3333-3333-333333333333"
ARTIST_ID = "44444444-4444-4444-4444-444444444444"
LYRICS = "First line\nSecond line"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
# Vorbis comments and APEv2 items that name them alike
IDS_AND_LYRICS = {
    "MUSICBRAINZ_TRACKID": REC_ID,
    "MUSICBRAINZ_RELEASETRACKID": TRACK_ID,
    "MUSICBRAINZ_ALBUMID": ALBUM_ID,
    "MUSICBRAINZ_ARTISTID": ARTIST_ID,
    "LYRICS": LYRICS,
}


def open_for_tagging(path: Path) -> mutagen.FileType:
    audio = mutagen.File(path)
    if audio.tags is None:
        audio.add_tags()
    return audio


def copy_fixture(tmp_path: Path, name: str, dest: str | None = None) -> Path:
    target = tmp_path / (dest or name)
    shutil.copyfile(AUDIO / name, target)
    return target


# --------------------------------------------------------------------------- taggers


def tag_id3(path: Path, *, version: int = 4, v23_sep: str | None = "/") -> None:
    audio = open_for_tagging(path)
    t = audio.tags
    t.add(TIT2(encoding=Encoding.UTF8, text=[TITLE]))
    t.add(TPE1(encoding=Encoding.UTF8, text=list(ARTISTS)))
    t.add(TALB(encoding=Encoding.UTF8, text=[ALBUM]))
    t.add(TPE2(encoding=Encoding.UTF8, text=[ALBUM_ARTIST]))
    t.add(TCON(encoding=Encoding.UTF8, text=list(GENRES)))
    t.add(TDRC(encoding=Encoding.UTF8, text=[DATE]))
    t.add(TRCK(encoding=Encoding.UTF8, text=["3/12"]))
    t.add(TPOS(encoding=Encoding.UTF8, text=["1/2"]))
    t.add(UFID(owner="http://musicbrainz.org", data=REC_ID.encode()))
    t.add(TXXX(encoding=Encoding.UTF8, desc="MusicBrainz Release Track Id", text=[TRACK_ID]))
    t.add(TXXX(encoding=Encoding.UTF8, desc="MusicBrainz Album Id", text=[ALBUM_ID]))
    t.add(TXXX(encoding=Encoding.UTF8, desc="MusicBrainz Artist Id", text=[ARTIST_ID]))
    t.add(USLT(encoding=Encoding.UTF8, lang="eng", desc="", text=LYRICS))
    t.add(APIC(encoding=Encoding.UTF8, mime="image/png", type=3, desc="Cover", data=PNG))
    audio.save(v2_version=version, v23_sep=v23_sep)


def _picture() -> Picture:
    pic = Picture()
    pic.type = 3
    pic.mime = "image/png"
    pic.data = PNG
    return pic


def tag_vorbis(path: Path) -> None:
    audio = open_for_tagging(path)
    audio["TITLE"] = TITLE
    audio["ARTIST"] = list(ARTISTS)
    audio["ALBUM"] = ALBUM
    audio["ALBUMARTIST"] = ALBUM_ARTIST
    audio["GENRE"] = list(GENRES)
    audio["DATE"] = DATE
    audio["TRACKNUMBER"] = "3"
    audio["TRACKTOTAL"] = "12"
    audio["DISCNUMBER"] = "1"
    audio["DISCTOTAL"] = "2"
    for key, value in IDS_AND_LYRICS.items():
        audio[key] = value
    if path.suffix == ".flac":
        audio.add_picture(_picture())
    else:
        audio["METADATA_BLOCK_PICTURE"] = base64.b64encode(_picture().write()).decode("ascii")
    audio.save()


def tag_mp4(path: Path) -> None:
    ff = "----:com.apple.iTunes:"
    audio = open_for_tagging(path)
    audio["\xa9nam"] = [TITLE]
    audio["\xa9ART"] = list(ARTISTS)
    audio["\xa9alb"] = [ALBUM]
    audio["aART"] = [ALBUM_ARTIST]
    audio["\xa9gen"] = list(GENRES)
    audio["\xa9day"] = [DATE]
    audio["trkn"] = [(3, 12)]
    audio["disk"] = [(1, 2)]
    audio[ff + "MusicBrainz Track Id"] = [MP4FreeForm(REC_ID.encode())]
    audio[ff + "MusicBrainz Release Track Id"] = [MP4FreeForm(TRACK_ID.encode())]
    audio[ff + "MusicBrainz Album Id"] = [MP4FreeForm(ALBUM_ID.encode())]
    audio[ff + "MusicBrainz Artist Id"] = [MP4FreeForm(ARTIST_ID.encode())]
    audio["\xa9lyr"] = [LYRICS]
    audio["covr"] = [MP4Cover(PNG, imageformat=MP4Cover.FORMAT_PNG)]
    audio.save()


def tag_ape(path: Path) -> None:
    """APEv2 as foobar2000 / Mp3tag write it: mixed-case keys, NUL-separated values, a binary cover."""
    tags = APEv2()
    tags["Title"] = TITLE
    tags["Artist"] = "\x00".join(ARTISTS)
    tags["Album"] = ALBUM
    tags["Album Artist"] = ALBUM_ARTIST
    tags["Genre"] = "\x00".join(GENRES)
    tags["Year"] = DATE
    tags["Track"] = "3/12"
    tags["Disc"] = "1/2"
    for key, value in IDS_AND_LYRICS.items():  # Picard's names, as in Vorbis comments
        tags[key] = value
    tags["Cover Art (Front)"] = APEValue(b"cover.png\x00" + PNG, 1)  # 1: binary
    tags.save(path)


def wm_picture(data: bytes, mime: str = "image/png") -> ASFByteArrayAttribute:
    """A ``WM/Picture`` value: type, length, MIME type and description (UTF-16LE), the image."""
    head = bytes([3]) + len(data).to_bytes(4, "little")
    text = mime.encode("utf-16-le") + b"\x00\x00" + "Front".encode("utf-16-le") + b"\x00\x00"
    return ASFByteArrayAttribute(head + text + data)


# ASF attributes with Windows Media Player's and Picard's names
ASF_TAGS = {
    "Title": [TITLE], "Author": list(ARTISTS), "WM/AlbumTitle": [ALBUM], "WM/AlbumArtist": [ALBUM_ARTIST],
    "WM/Genre": list(GENRES), "WM/Year": [DATE], "WM/TrackNumber": ["3/12"], "WM/PartOfSet": ["1/2"],
    "MusicBrainz/Track Id": [REC_ID], "MusicBrainz/Release Track Id": [TRACK_ID],
    "MusicBrainz/Album Id": [ALBUM_ID], "MusicBrainz/Artist Id": [ARTIST_ID], "WM/Lyrics": [LYRICS],
}  # fmt: skip


def tag_asf(path: Path) -> None:
    audio = ASF(path)
    for name, values in ASF_TAGS.items():
        audio[name] = values
    audio["WM/Picture"] = [wm_picture(PNG)]
    audio.save()


TAGGERS = {"id3": tag_id3, "vorbis": tag_vorbis, "mp4": tag_mp4, "ape": tag_ape, "asf": tag_asf}


def set_lyrics(path: Path, text: str) -> None:
    """Replace the lyrics with ``text`` in whichever tag system the file uses."""
    audio = open_for_tagging(path)
    if isinstance(audio.tags, ID3):
        audio.tags.delall("USLT")
        audio.tags.add(USLT(encoding=Encoding.UTF8, lang="eng", desc="", text=text))
    elif path.suffix in (".m4a", ".mp4"):
        audio["\xa9lyr"] = [text]
    elif path.suffix == ".wma":
        audio["WM/Lyrics"] = [text]
    elif path.suffix == ".wv":
        audio["Lyrics"] = text
    else:
        audio["LYRICS"] = text
    audio.save()


def assert_full_tags(tags: TrackTags, codec: str) -> None:
    assert tags.title == TITLE
    assert tags.artists == ARTISTS
    assert tags.artist == "Simon & Garfunkel; AC/DC"
    assert tags.album == ALBUM
    assert tags.album_artist == ALBUM_ARTIST
    assert tags.genres == GENRES
    assert tags.year == 2019
    assert (tags.track_number, tags.track_total) == (3, 12)
    assert (tags.disc_number, tags.disc_total) == (1, 2)
    assert tags.mb_recording_id == REC_ID
    assert tags.mb_track_id == TRACK_ID
    assert tags.mb_album_id == ALBUM_ID
    assert tags.mb_artist_id == ARTIST_ID
    assert tags.embedded_lyrics == LYRICS
    assert tags.has_cover is True
    assert tags.codec == codec


# --------------------------------------------------------------------------- every format


@pytest.mark.parametrize("name", list(FORMATS))
def test_untagged_fixture_stream_info(tmp_path: Path, name: str) -> None:
    codec, _, rate = FORMATS[name]
    path = copy_fixture(tmp_path, name)
    tags = read_tags(path)
    assert tags.title == path.stem
    assert tags.codec == codec
    assert 0.9 <= tags.duration_s <= 1.2
    assert tags.sample_rate == rate
    assert tags.bitrate is not None and 8_000 <= tags.bitrate <= 200_000
    if name != "tone.m4a":  # mutagen reports mono AAC-LC as 2 channels (ambiguous PS signalling)
        assert tags.channels == 1
    assert tags.artists == () and tags.genres == () and tags.album is None
    assert tags.embedded_lyrics is None and tags.has_cover is False


@pytest.mark.parametrize("name", list(FORMATS))
def test_full_tags_roundtrip(tmp_path: Path, name: str) -> None:
    codec, system, _ = FORMATS[name]
    path = copy_fixture(tmp_path, name)
    TAGGERS[system](path)
    tags = read_tags(path)
    assert_full_tags(tags, codec)
    assert 0.9 <= tags.duration_s <= 1.2


def test_committed_fixtures_are_untagged_and_small() -> None:
    total = 0
    for name in FORMATS:
        size = (AUDIO / name).stat().st_size
        assert size < 25_000, name
        total += size
    assert total < 200_000


def test_audio_extensions() -> None:
    assert all(ext.startswith(".") and ext == ext.lower() for ext in AUDIO_EXTENSIONS)
    for name in FORMATS:
        assert Path(name).suffix in AUDIO_EXTENSIONS
    assert {".oga", ".mp4", ".aif", ".aiff", ".wav", ".ape"} <= AUDIO_EXTENSIONS
    assert ".txt" not in AUDIO_EXTENSIONS and ".lrc" not in AUDIO_EXTENSIONS


# --------------------------------------------------------------------------- ID3 specifics


@pytest.mark.parametrize("name", ["tone.mp3", "tone.wav", "tone.aiff"])
def test_id3v23_null_separated_values(tmp_path: Path, name: str) -> None:
    path = copy_fixture(tmp_path, name)
    tag_id3(path, version=3, v23_sep=None)
    assert mutagen.File(path).tags.version[:2] == (2, 3)
    tags = read_tags(path)
    assert_full_tags(tags, FORMATS[name][0])


def test_id3v23_slash_joined_values_are_not_split(tmp_path: Path) -> None:
    path = copy_fixture(tmp_path, "tone.mp3")
    tag_id3(path, version=3)  # mutagen joins multi-values with "/" for v2.3 by default
    assert ID3(path).version == (2, 3, 0)
    tags = read_tags(path)
    assert tags.artists == ("Simon & Garfunkel/AC/DC",)
    assert tags.year == 2019  # written as TYER, read back through mutagen's v2.4 upgrade
    assert (tags.track_number, tags.track_total) == (3, 12)


def _id3v1(title: str, artist: str, album: str, year: str, track: int, genre: int) -> bytes:
    def field(text: str, size: int) -> bytes:
        return text.encode("latin-1")[:size].ljust(size, b"\x00")

    comment = field("", 28) + b"\x00" + bytes([track])  # ID3v1.1 track number
    return b"TAG" + field(title, 30) + field(artist, 30) + field(album, 30) + field(year, 4) + comment + bytes([genre])


def test_id3v1_only_mp3(tmp_path: Path) -> None:
    path = copy_fixture(tmp_path, "tone.mp3", "v1.mp3")
    with open(path, "ab") as fh:
        fh.write(_id3v1("Old Title", "Old Artist", "Old Album", "1987", 5, 17))
    tags = read_tags(path)
    assert tags.title == "Old Title"
    assert tags.artists == ("Old Artist",)
    assert tags.album == "Old Album"
    assert tags.year == 1987
    assert tags.track_number == 5
    assert tags.genres == ("Rock",)
    assert tags.codec == "mp3"


@pytest.mark.parametrize("raw", [["(17)"], ["17"], ["(17)Rock"], ["(9)", "Jazz"]])
def test_numeric_id3_genre_resolved(tmp_path: Path, raw: list[str]) -> None:
    path = copy_fixture(tmp_path, "tone.mp3")
    audio = open_for_tagging(path)
    audio.tags.add(TCON(encoding=Encoding.UTF8, text=raw))
    audio.save()
    genres = read_tags(path).genres
    assert genres == (("Metal", "Jazz") if raw[0] == "(9)" else ("Rock",))


def test_sylt_only_lyrics(tmp_path: Path) -> None:
    path = copy_fixture(tmp_path, "tone.mp3")
    audio = open_for_tagging(path)
    audio.tags.add(
        SYLT(
            encoding=Encoding.UTF8,
            lang="eng",
            format=2,
            type=1,
            desc="",
            text=[("Hello there", 1000), ("General Kenobi", 2500)],
        )
    )
    audio.save()
    assert read_tags(path).embedded_lyrics == "Hello there\nGeneral Kenobi"


def test_several_uslt_frames_joined_and_empty_ignored(tmp_path: Path) -> None:
    path = copy_fixture(tmp_path, "tone.mp3")
    audio = open_for_tagging(path)
    audio.tags.add(USLT(encoding=Encoding.UTF8, lang="eng", desc="empty", text="   "))
    audio.tags.add(USLT(encoding=Encoding.UTF8, lang="eng", desc="", text="English words"))
    audio.tags.add(USLT(encoding=Encoding.UTF8, lang="deu", desc="", text="Deutsche Wörter"))
    audio.save()
    lyrics = read_tags(path).embedded_lyrics
    assert lyrics is not None
    assert "English words" in lyrics and "Deutsche Wörter" in lyrics
    assert not lyrics.startswith("\n")


def test_uslt_preferred_over_sylt(tmp_path: Path) -> None:
    path = copy_fixture(tmp_path, "tone.mp3")
    audio = open_for_tagging(path)
    audio.tags.add(SYLT(encoding=Encoding.UTF8, lang="eng", format=2, type=1, desc="", text=[("synced", 0)]))
    audio.tags.add(USLT(encoding=Encoding.UTF8, lang="eng", desc="", text="unsynced"))
    audio.save()
    assert read_tags(path).embedded_lyrics == "unsynced"


def test_gbk_bytes_in_latin1_id3_frame_are_repaired(tmp_path: Path) -> None:
    """Old Chinese taggers wrote GBK bytes into frames flagged ISO-8859-1."""
    path = copy_fixture(tmp_path, "tone.mp3")
    audio = open_for_tagging(path)
    mojibake = "月亮代表我的心".encode("gbk").decode("latin-1")
    audio.tags.add(TIT2(encoding=Encoding.LATIN1, text=[mojibake]))
    audio.tags.add(TPE1(encoding=Encoding.LATIN1, text=["Björk"]))
    audio.save(v2_version=3)
    tags = read_tags(path)
    assert tags.title == "月亮代表我的心"
    assert tags.artists == ("Björk",)  # genuine Latin-1 stays as it is


# --------------------------------------------------------------------------- shared behaviour


@pytest.mark.parametrize("name", ["tone.mp3", "tone.flac", "tone.opus", "tone.m4a", "tone.wv", "tone.wma"])
def test_lrc_embedded_lyrics_stripped(tmp_path: Path, name: str) -> None:
    path = copy_fixture(tmp_path, name)
    set_lyrics(path, "[ti:Song]\n[ar:Someone]\n[00:01.00]First line\n[00:02.50][00:09.00]Second line\n")
    assert read_tags(path).embedded_lyrics == "First line\nSecond line"


@pytest.mark.parametrize("name", ["tone.mp3", "tone.ogg", "tone_alac.m4a", "tone.wav"])
def test_missing_title_falls_back_to_file_stem(tmp_path: Path, name: str) -> None:
    path = copy_fixture(tmp_path, name, "My Song.v2" + Path(name).suffix)
    audio = open_for_tagging(path)
    if isinstance(audio.tags, ID3):
        audio.tags.add(TIT2(encoding=Encoding.UTF8, text=["   "]))
        audio.tags.add(TALB(encoding=Encoding.UTF8, text=["Album"]))
    elif name.endswith(".m4a"):
        audio["\xa9nam"] = [""]
        audio["\xa9alb"] = ["Album"]
    else:
        audio["TITLE"] = ""
        audio["ALBUM"] = "Album"
    audio.save()
    tags = read_tags(path)
    assert tags.title == "My Song.v2"
    assert tags.album == "Album"


@pytest.mark.parametrize("name", ["tone.mp3", "tone.flac", "tone.ogg", "tone.m4a", "tone.aiff", "tone.wv", "tone.wma"])
def test_chinese_tags_roundtrip(tmp_path: Path, name: str) -> None:
    path = copy_fixture(tmp_path, name)
    title, artists, lyrics = "月亮代表我的心", ("邓丽君", "周杰伦"), "你问我爱你有多深\n我爱你有几分"
    audio = open_for_tagging(path)
    if isinstance(audio.tags, ID3):
        audio.tags.add(TIT2(encoding=Encoding.UTF16, text=[title]))
        audio.tags.add(TPE1(encoding=Encoding.UTF16, text=list(artists)))
        audio.tags.add(USLT(encoding=Encoding.UTF16, lang="chi", desc="", text=lyrics))
        audio.save(v2_version=3, v23_sep=None)
    elif name.endswith(".m4a"):
        audio["\xa9nam"], audio["\xa9ART"], audio["\xa9lyr"] = [title], list(artists), [lyrics]
        audio.save()
    elif name.endswith(".wma"):
        audio["Title"], audio["Author"], audio["WM/Lyrics"] = [title], list(artists), [lyrics]
        audio.save()
    elif name.endswith(".wv"):
        audio["Title"], audio["Artist"], audio["Lyrics"] = title, "\x00".join(artists), lyrics
        audio.save()
    else:
        audio["TITLE"], audio["ARTIST"], audio["LYRICS"] = title, list(artists), lyrics
        audio.save()
    tags = read_tags(path)
    assert (tags.title, tags.artists, tags.embedded_lyrics) == (title, artists, lyrics)


@pytest.mark.parametrize("name", ["tone.wv", "tone.wma", "tone.flac", "tone.mp3"])
def test_embedded_cover_of_every_tag_system(tmp_path: Path, name: str) -> None:
    """The app's cover comes out of APEv2 ``Cover Art (Front)`` and WMA ``WM/Picture`` too."""
    from player_plugin.ui.cover import embedded_cover

    path = copy_fixture(tmp_path, name)
    assert embedded_cover(str(path)) is None
    TAGGERS[FORMATS[name][1]](path)
    assert embedded_cover(str(path)) == PNG


def test_wma_zero_based_track_and_a_picture_that_lies_about_its_length(tmp_path: Path) -> None:
    from player_plugin.ui.cover import embedded_cover

    path = copy_fixture(tmp_path, "tone.wma")
    audio = ASF(path)
    audio["WM/Track"] = ["4"]  # the old zero-based attribute: the fifth track
    picture = wm_picture(PNG).value
    audio["WM/Picture"] = [ASFByteArrayAttribute(picture[:-10])]  # cut: the length says 10 more bytes
    audio.save()
    assert read_tags(path).track_number == 5
    assert embedded_cover(str(path)) is None


@pytest.mark.parametrize("name", ["tone.mp3", "tone.flac", "tone.m4a"])
def test_whitespace_stripped_and_empty_values_dropped(tmp_path: Path, name: str) -> None:
    path = copy_fixture(tmp_path, name)
    audio = open_for_tagging(path)
    if isinstance(audio.tags, ID3):
        audio.tags.add(TIT2(encoding=Encoding.UTF8, text=["  Padded  "]))
        audio.tags.add(TPE1(encoding=Encoding.UTF8, text=[" A ", "", "  ", "B"]))
        audio.tags.add(TALB(encoding=Encoding.UTF8, text=["   "]))
        audio.tags.add(TCON(encoding=Encoding.UTF8, text=[" Pop "]))
    elif name.endswith(".m4a"):
        audio["\xa9nam"], audio["\xa9ART"], audio["\xa9alb"] = ["  Padded  "], [" A ", "", "B"], ["  "]
        audio["\xa9gen"] = [" Pop "]
    else:
        audio["TITLE"], audio["ARTIST"], audio["ALBUM"] = "  Padded  ", [" A ", "", "B"], "  "
        audio["GENRE"] = " Pop "
    audio.save()
    tags = read_tags(path)
    assert tags.title == "Padded"
    assert tags.artists == ("A", "B")
    assert tags.album is None
    assert tags.genres == ("Pop",)


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"TRACKNUMBER": "3/12", "DISCNUMBER": "2/3"}, (3, 12, 2, 3)),
        ({"TRACKNUMBER": "07", "TOTALTRACKS": "09", "DISCNUMBER": "1", "TOTALDISCS": "1"}, (7, 9, 1, 1)),
        ({"TRACKNUMBER": "A1", "DATE": "May 2001"}, (None, None, None, None)),
    ],
)
def test_vorbis_number_forms(tmp_path: Path, fields: dict[str, str], expected: tuple) -> None:
    path = copy_fixture(tmp_path, "tone.flac")
    audio = mutagen.File(path)
    for key, value in fields.items():
        audio[key] = value
    audio.save()
    tags = read_tags(path)
    assert (tags.track_number, tags.track_total, tags.disc_number, tags.disc_total) == expected
    if "DATE" in fields:
        assert tags.year == 2001


def test_opus_cut_after_its_headers_is_refused(tmp_path: Path) -> None:
    """mutagen opens an Opus file cut after its headers but reports a negative length: no audio."""
    path = tmp_path / "cut.opus"
    path.write_bytes((AUDIO / "tone.opus").read_bytes()[:1000])
    with pytest.raises(TagReadError, match="no audio|truncated"):
        read_tags(path)


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="needs ffmpeg")
def test_raw_adts_aac(tmp_path: Path) -> None:
    path = tmp_path / "raw.aac"
    subprocess.run(
        ["ffmpeg", "-nostdin", "-loglevel", "error", "-i", str(AUDIO / "tone.m4a"), "-c", "copy", str(path)],
        check=True,
    )
    tags = read_tags(path)
    assert tags.codec == "aac"
    assert tags.title == "raw"
    assert tags.sample_rate == 22050


# --------------------------------------------------------------------------- bad input


def _reason(path: Path) -> str:
    with pytest.raises(TagReadError) as info:
        read_tags(path)
    assert info.value.reason == str(info.value)
    return info.value.reason


def test_zero_byte_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.mp3"
    path.touch()
    assert _reason(path) == "empty file (0 bytes)"


@pytest.mark.parametrize(("name", "fmt"), [("tone.flac", "FLAC"), ("tone.m4a", "MP4/M4A"), ("tone.ogg", "Ogg")])
def test_truncated_file(tmp_path: Path, name: str, fmt: str) -> None:
    path = tmp_path / ("cut" + Path(name).suffix)
    path.write_bytes((AUDIO / name).read_bytes()[:100])
    reason = _reason(path)
    assert reason.startswith(f"corrupt or truncated {fmt}")


def test_random_bytes_with_mp3_extension(tmp_path: Path) -> None:
    path = tmp_path / "noise.mp3"
    path.write_bytes(random.Random(1234).randbytes(20_000))
    assert _reason(path).startswith("corrupt or truncated MP3")


def test_text_file_renamed_flac(tmp_path: Path) -> None:
    path = tmp_path / "notes.flac"
    path.write_text("these are not the droids you are looking for\n" * 20)
    reason = _reason(path)
    assert reason.startswith("corrupt or truncated FLAC")
    assert "not a valid FLAC file" in reason
    assert str(tmp_path) not in reason  # the reason names the file, not the full path


def test_unrecognised_file(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("plain text\n")
    assert _reason(path) == "not a recognised audio file"


def test_nonexistent_path(tmp_path: Path) -> None:
    assert _reason(tmp_path / "missing.mp3") == "file not found"


def test_directory(tmp_path: Path) -> None:
    folder = tmp_path / "album.flac"
    folder.mkdir()
    assert _reason(folder) == "is a directory"


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX file modes")
def test_unreadable_file(tmp_path: Path) -> None:
    """A file the kernel refuses (mode 000), read by a process the mode binds (as root too)."""
    path = copy_fixture(tmp_path, "tone.mp3")
    path.chmod(0)
    try:
        assert reason_of("player_plugin.library.tags", "read_tags", "TagReadError", path) == "permission denied"
    finally:
        path.chmod(0o644)


def test_permission_error_mapping(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Works as root too: the module's open() is replaced by one that is refused."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied")

    path = copy_fixture(tmp_path, "tone.mp3")
    monkeypatch.setattr("builtins.open", refuse)
    assert _reason(path) == "permission denied"


def test_file_opened_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = copy_fixture(tmp_path, "tone.flac")
    tag_vorbis(path)
    opened: list[object] = []
    real_open = open

    def counting_open(file: object, *args: object, **kwargs: object) -> object:
        opened.append(file)
        return real_open(file, *args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr("builtins.open", counting_open)  # mutagen's own opens would count too
    assert read_tags(path).title == TITLE
    assert opened == [path]


@pytest.mark.parametrize(
    ("date", "year"),
    [
        ("2019-05-01", 2019),
        ("2019", 2019),
        ("20190501", 2019),
        ("1999-12-31T23:59", 1999),
        ("c. 1975", 1975),
        ("0000", None),
        ("unknown", None),
    ],
)
def test_year_forms(tmp_path: Path, date: str, year: int | None) -> None:
    path = copy_fixture(tmp_path, "tone.ogg")
    audio = open_for_tagging(path)
    audio["DATE"] = date
    audio.save()
    assert read_tags(path).year == year


@pytest.mark.parametrize("name", list(FORMATS))
def test_damaged_files_only_ever_raise_tag_read_error(tmp_path: Path, name: str) -> None:
    """Cut and bit-flipped copies of a fully tagged file: a result or a TagReadError, nothing else."""
    path = copy_fixture(tmp_path, name, "tagged" + Path(name).suffix)
    TAGGERS[FORMATS[name][1]](path)
    data = path.read_bytes()
    rng = random.Random(name)
    damaged = tmp_path / ("damaged" + Path(name).suffix)
    for i in range(40):
        if i % 2:
            blob = data[: rng.randrange(1, len(data))]
        else:
            mutable = bytearray(data)
            for _ in range(rng.randint(1, 16)):
                mutable[rng.randrange(len(mutable))] = rng.randrange(256)
            blob = bytes(mutable)
        damaged.write_bytes(blob)
        try:
            tags = read_tags(damaged)
        except TagReadError as exc:
            assert exc.reason and str(tmp_path) not in exc.reason
        else:
            assert isinstance(tags, TrackTags) and tags.duration_s >= 0.0
