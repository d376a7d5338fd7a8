"""The committed demo library (resources/demo_library) keeps the promises made for it.

Uses plain mutagen only, so it does not depend on the rest of player_plugin.
Regenerate the library with ``python resources/make_demo_library.py``.
"""

from __future__ import annotations

import codecs
import re
from pathlib import Path

import mutagen
import pytest
from mutagen.flac import FLAC
from mutagen.id3 import ID3
from mutagen.mp4 import MP4

ROOT = Path(__file__).resolve().parents[1]
LIBRARY = ROOT / "resources" / "demo_library"
AUDIO_EXTS = {".mp3", ".flac", ".ogg", ".opus", ".m4a"}
SIDECAR_EXTS = {".lrc", ".txt"}
CJK = re.compile(r"[\u4e00-\u9fff]")
ENGLISH_LINE = re.compile(r"^[A-Za-z][A-Za-z' ,.!?-]*( [A-Za-z',.!?-]+){2,}$")


def audio_files() -> list[Path]:
    return sorted(p for p in LIBRARY.rglob("*") if p.suffix.lower() in AUDIO_EXTS)


def sidecars() -> list[Path]:
    return sorted(p for p in LIBRARY.rglob("*") if p.suffix.lower() in SIDECAR_EXTS)


def decode_sidecar(data: bytes) -> str:
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8) :].decode("utf-8")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("gb18030")


def embedded_lyrics(path: Path) -> str | None:
    ext = path.suffix.lower()
    if ext == ".mp3":
        frames = ID3(path).getall("USLT")
        return frames[0].text if frames else None
    if ext == ".m4a":
        tags = MP4(path).tags or {}
        values = tags.get("\xa9lyr")
        return values[0] if values else None
    tags = mutagen.File(path).tags
    values = tags.get("lyrics") if tags is not None else None
    return values[0] if values else None


def all_lyrics() -> dict[Path, str]:
    """Lyrics per audio file, from embedded tags or sidecars."""
    found: dict[Path, str] = {}
    for path in audio_files():
        text = embedded_lyrics(path)
        if text:
            found[path] = text
    for side in sidecars():
        audio = [p for p in audio_files() if p.parent == side.parent and p.stem == side.stem]
        if audio:
            found[audio[0]] = decode_sidecar(side.read_bytes())
    return found


@pytest.fixture(scope="module", autouse=True)
def _library_present() -> None:
    assert LIBRARY.is_dir(), "resources/demo_library is missing; run resources/make_demo_library.py"


def test_track_count_and_formats() -> None:
    files = audio_files()
    assert 24 <= len(files) <= 40
    exts = {p.suffix.lower() for p in files}
    assert {".mp3", ".flac", ".ogg", ".m4a"} <= exts


def test_total_size_is_small() -> None:
    total = sum(p.stat().st_size for p in LIBRARY.rglob("*") if p.is_file())
    assert total < 6.5 * 1024 * 1024


def test_folder_layout() -> None:
    for path in audio_files():
        rel = path.relative_to(LIBRARY)
        assert len(rel.parts) == 3, rel  # Artist/Album/NN Title.ext
        assert re.match(r"^\d{2} \S", rel.name), rel


@pytest.mark.parametrize("path", audio_files(), ids=lambda p: p.relative_to(LIBRARY).as_posix())
def test_every_file_opens_with_basic_tags(path: Path) -> None:
    audio = mutagen.File(path, easy=True)
    assert audio is not None, path
    assert 59.5 <= audio.info.length <= 69.0  # a minute or more: long enough to use the app
    for key in ("title", "artist", "album", "genre"):
        values = audio.get(key)
        assert values and all(v.strip() for v in values), (path, key)
    assert path.stem.split(" ", 1)[1] == audio["title"][0]


def test_both_id3_versions_present() -> None:
    versions = {ID3(p).version[:2] for p in audio_files() if p.suffix.lower() == ".mp3"}
    assert {(2, 3), (2, 4)} <= versions


def test_multi_valued_artist_and_genre() -> None:
    artists = [mutagen.File(p, easy=True)["artist"] for p in audio_files()]
    genres = [mutagen.File(p, easy=True)["genre"] for p in audio_files()]
    assert any(len(a) >= 2 for a in artists)
    assert any(len(g) >= 2 for g in genres)
    distinct_genres = {g for gs in genres for g in gs}
    assert len(distinct_genres) >= 8
    assert len({a for artist_list in artists for a in artist_list}) >= 8


def test_cover_art_embedded_somewhere() -> None:
    kinds = set()
    for path in audio_files():
        ext = path.suffix.lower()
        if ext == ".mp3" and ID3(path).getall("APIC"):
            kinds.add("apic")
        elif ext == ".flac" and FLAC(path).pictures:
            kinds.add("flac")
        elif ext == ".m4a" and (MP4(path).tags or {}).get("covr"):
            kinds.add("covr")
        elif ext in (".ogg", ".opus") and mutagen.File(path).tags.get("metadata_block_picture"):
            kinds.add("vorbis")
    assert {"apic", "flac", "covr"} <= kinds


def test_musicbrainz_ids_on_some_tracks() -> None:
    with_ids = 0
    for path in audio_files():
        tags = mutagen.File(path).tags
        names = tags.keys()  # not `for k in tags`: Vorbis comments iterate as (key, value) pairs
        keys = [str(k).lower() for k in names]
        if any("musicbrainz" in k for k in keys):
            with_ids += 1
    assert with_ids >= 3


def test_sidecars_belong_to_tracks() -> None:
    stems = {(p.parent, p.stem) for p in audio_files()}
    sides = sidecars()
    assert sides
    for side in sides:
        assert (side.parent, side.stem) in stems, side
    assert any(p.suffix == ".txt" for p in sides)


def test_sidecar_encodings() -> None:
    lrcs = [p.read_bytes() for p in sidecars() if p.suffix == ".lrc"]
    gbk = []
    for data in lrcs:
        if data.startswith((codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            continue
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            gbk.append(data.decode("gb18030"))
    assert gbk, "expected at least one GBK-encoded .lrc"
    assert any(CJK.search(text) for text in gbk)
    assert any(d.startswith(codecs.BOM_UTF8) for d in lrcs)
    assert any(d.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) for d in lrcs)
    for data in lrcs:
        text = decode_sidecar(data)
        assert re.search(r"^\[ti:.+\]", text, re.M)
        assert re.search(r"^\[ar:.+\]", text, re.M)
        assert re.search(r"^\[\d{2}:\d{2}\.\d{2}\]", text, re.M)


def test_lyrics_in_chinese_and_english() -> None:
    lyrics = all_lyrics()
    assert len(lyrics) >= 20
    assert any(CJK.search(text) for text in lyrics.values())
    assert any(ENGLISH_LINE.match(line.strip()) for text in lyrics.values() for line in text.splitlines())
    # embedded lyrics exist in each tag flavour
    embedded_exts = {p.suffix.lower() for p in audio_files() if embedded_lyrics(p)}
    assert {".mp3", ".m4a", ".flac", ".ogg"} <= embedded_exts


def test_credits_lists_every_track() -> None:
    credits = (LIBRARY / "CREDITS.md").read_text(encoding="utf-8")
    assert "MIT" in credits
    for path in audio_files():
        assert path.relative_to(LIBRARY).as_posix() in credits
