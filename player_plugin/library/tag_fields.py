"""Tag frames → ``TrackTags`` fields, one mapper per tag family (ID3, Vorbis comments, MP4 atoms).

Every quirk of a format's tags lives here; ``tags.read_tags`` opens the file, picks the mapper and
bounds the numbers.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from mutagen.id3 import ID3, Encoding
from mutagen.mp4 import MP4Cover, MP4FreeForm

from player_plugin.library.lyrics import decode_text, strip_lrc
from player_plugin.library.numbers import (
    MAX_DISC_NUMBER,
    MAX_TRACK_NUMBER,
    bounded,
    parse_pair,
    parse_year,
)
from player_plugin.library.ratings import popm_rating, rating_text, unit_rating
from player_plugin.library.replaygain import gain_fields

_MB_UFID_OWNER = "http://musicbrainz.org"


def _clean(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).replace("\x00", "").strip()
    return text or None


def _clean_list(values: Iterable[object]) -> tuple[str, ...]:
    """Stripped, non-empty, first occurrence kept, file order."""
    seen: dict[str, None] = {}
    for value in values:
        text = _clean(value)
        if text is not None:
            seen.setdefault(text, None)
    return tuple(seen)


def _first(values: Iterable[object]) -> str | None:
    """Single-valued field: the non-empty values joined (normally there is exactly one)."""
    cleaned = _clean_list(values)
    return "; ".join(cleaned) if cleaned else None


def _first_value(values: Iterable[object]) -> str | None:
    """Multi-valued field of which we keep one (e.g. the first of several artist ids)."""
    return next(iter(_clean_list(values)), None)


def _lyrics_text(text: str | None) -> str | None:
    # strip_lrc removes timing only from text that looks like LRC; other text is just trimmed.
    return None if text is None else _clean(strip_lrc(text))


def _join_lyrics(texts: Iterable[str]) -> str | None:
    """Several lyrics frames (languages, descriptions): keep the distinct non-empty ones."""
    parts = _clean_list(_lyrics_text(t) for t in texts)
    return "\n\n".join(parts) if parts else None


# --------------------------------------------------------------------------- ID3


def _repair_latin1(text: str, encoding: int) -> str:
    """ID3 frames flagged Latin-1 often hold GBK/UTF-8 bytes (old Chinese taggers): re-guess."""
    if encoding != Encoding.LATIN1 or text.isascii():
        return text
    try:
        raw = text.encode("latin-1")
    except UnicodeEncodeError:
        return text
    return decode_text(raw)


def _id3_texts(tags: ID3, frame_id: str) -> list[str]:
    out: list[str] = []
    for frame in tags.getall(frame_id):
        encoding = getattr(frame, "encoding", Encoding.UTF8)
        out.extend(_repair_latin1(str(text), encoding) for text in frame.text)
    return out


def _id3_fields(tags: ID3) -> dict[str, Any]:
    txxx: dict[str, list[str]] = {}
    for frame in tags.getall("TXXX"):
        values = [_repair_latin1(str(t), frame.encoding) for t in frame.text]
        txxx.setdefault(frame.desc.strip().casefold(), []).extend(values)

    genres: list[str] = []
    for frame in tags.getall("TCON"):
        genres.extend(_repair_latin1(g, frame.encoding) for g in frame.genres)

    artists = _clean_list(_id3_texts(tags, "TPE1")) or _clean_list(txxx.get("artists", ()))
    track = parse_pair(_id3_texts(tags, "TRCK"), MAX_TRACK_NUMBER)
    disc = parse_pair(_id3_texts(tags, "TPOS"), MAX_DISC_NUMBER)

    recording_id = None
    for frame in tags.getall("UFID"):
        if frame.owner == _MB_UFID_OWNER:
            recording_id = _clean(bytes(frame.data).decode("ascii", errors="replace"))
            break
    recording_id = recording_id or _first(txxx.get("musicbrainz recording id", ()))

    lyrics = _join_lyrics(_repair_latin1(frame.text, frame.encoding) for frame in tags.getall("USLT"))
    if lyrics is None:
        for frame in tags.getall("SYLT"):
            chunks = [_repair_latin1(str(text), frame.encoding) for text, _time in frame.text]
            # Entries that carry their own newlines are syllables of a line; else one per line.
            joined = "".join(chunks) if any("\n" in c for c in chunks) else "\n".join(chunks)
            lyrics = _lyrics_text(joined)
            if lyrics:
                break

    return {
        "title": _first(_id3_texts(tags, "TIT2")),
        "artists": artists,
        "album": _first(_id3_texts(tags, "TALB")),
        "album_artist": _first(_id3_texts(tags, "TPE2"))
        or _first(txxx.get("albumartist", ()) or txxx.get("album artist", ())),
        "genres": _clean_list(genres),
        "year": parse_year(
            _id3_texts(tags, "TDRC")
            + _id3_texts(tags, "TYER")
            + _id3_texts(tags, "TDRL")
            + _id3_texts(tags, "TDOR")
            + _id3_texts(tags, "TORY")
        ),
        "track_number": track[0],
        "track_total": track[1],
        "disc_number": disc[0],
        "disc_total": disc[1],
        "mb_track_id": _first(txxx.get("musicbrainz release track id", ())),
        "mb_recording_id": recording_id,
        "mb_album_id": _first(txxx.get("musicbrainz album id", ())),
        "mb_artist_id": _first_value(txxx.get("musicbrainz artist id", ())),
        "embedded_lyrics": lyrics,
        "has_cover": bool(tags.getall("APIC")),
        "rating": unit_rating(txxx.get("fmps_rating", ())) or popm_rating(f.rating for f in tags.getall("POPM")),
        **gain_fields(lambda name: txxx.get(name, ())),
    }


# --------------------------------------------------------------------------- Vorbis comments


def _vorbis_fields(comments: Iterable[tuple[str, str]] | None, has_picture: bool, opus: bool = False) -> dict[str, Any]:
    d: dict[str, list[str]] = {}
    for key, value in comments or ():
        d.setdefault(key.lower(), []).append(value)

    def get(*keys: str) -> list[str]:
        for key in keys:
            if key in d:
                return d[key]
        return []

    track_number, track_total = parse_pair(get("tracknumber"), MAX_TRACK_NUMBER)
    disc_number, disc_total = parse_pair(get("discnumber"), MAX_DISC_NUMBER)
    return {
        "title": _first(get("title")),
        "artists": _clean_list(get("artist")) or _clean_list(get("artists")),
        "album": _first(get("album")),
        "album_artist": _first(get("albumartist", "album artist", "album_artist")),
        "genres": _clean_list(get("genre")),
        "year": parse_year(get("date", "year") + get("originaldate", "originalyear")),
        "track_number": track_number,
        "track_total": track_total or bounded(_first(get("tracktotal", "totaltracks")), MAX_TRACK_NUMBER),
        "disc_number": disc_number,
        "disc_total": disc_total or bounded(_first(get("disctotal", "totaldiscs")), MAX_DISC_NUMBER),
        "mb_track_id": _first(get("musicbrainz_releasetrackid")),
        "mb_recording_id": _first(get("musicbrainz_trackid")),
        "mb_album_id": _first(get("musicbrainz_albumid")),
        "mb_artist_id": _first_value(get("musicbrainz_artistid")),
        "embedded_lyrics": _join_lyrics(get("lyrics") or get("unsyncedlyrics")),
        "has_cover": has_picture or "metadata_block_picture" in d or "coverart" in d,
        "cuesheet": _first(get("cuesheet")),
        "rating": unit_rating(get("fmps_rating") + [v for k, vs in d.items() if k.startswith("rating:") for v in vs])
        or rating_text(get("rating")),
        **gain_fields(lambda name: d.get(name, []), r128=opus),
    }


# --------------------------------------------------------------------------- MP4


def _mp4_text(value: object) -> str:
    if isinstance(value, MP4FreeForm | bytes):
        return bytes(value).decode("utf-8", errors="replace")
    return str(value)


def _mp4_fields(tags: dict[str, list[Any]] | None) -> dict[str, Any]:
    tags = tags or {}
    lower_ff: dict[str, list[Any]] = {key.casefold(): values for key, values in tags.items() if key.startswith("----:")}

    def texts(key: str) -> list[str]:
        values = tags.get(key) if not key.startswith("----:") else lower_ff.get(key.casefold())
        return [_mp4_text(v) for v in values or ()]

    def pair(key: str, maximum: int) -> tuple[int | None, int | None]:
        for value in tags.get(key) or ():
            if isinstance(value, tuple) and value:
                number = bounded(value[0], maximum)
                total = bounded(value[1], maximum) if len(value) > 1 else None
                return number, total
        return None, None

    genres = texts("\xa9gen")  # mutagen already turns iTunes' numeric "gnre" atom into ©gen

    ff = "----:com.apple.iTunes:"
    track_number, track_total = pair("trkn", MAX_TRACK_NUMBER)
    disc_number, disc_total = pair("disk", MAX_DISC_NUMBER)
    return {
        "title": _first(texts("\xa9nam")),
        "artists": _clean_list(texts("\xa9ART")) or _clean_list(texts(ff + "ARTISTS")),
        "album": _first(texts("\xa9alb")),
        "album_artist": _first(texts("aART")),
        "genres": _clean_list(genres),
        "year": parse_year(texts("\xa9day") + texts(ff + "originaldate")),
        "track_number": track_number,
        "track_total": track_total,
        "disc_number": disc_number,
        "disc_total": disc_total,
        "mb_track_id": _first(texts(ff + "MusicBrainz Release Track Id")),
        "mb_recording_id": _first(texts(ff + "MusicBrainz Track Id")),
        "mb_album_id": _first(texts(ff + "MusicBrainz Album Id")),
        "mb_artist_id": _first_value(texts(ff + "MusicBrainz Artist Id")),
        "embedded_lyrics": _join_lyrics(texts("\xa9lyr")),
        "has_cover": any(isinstance(c, MP4Cover | bytes) for c in tags.get("covr") or ()),
        "rating": unit_rating(texts(ff + "FMPS_Rating")) or rating_text(texts(ff + "RATING")),
        **gain_fields(lambda name: texts(ff + name)),
    }


def _mp4_codec(codec: str) -> str:
    codec = (codec or "").lower()
    if codec == "alac":
        return "alac"
    if codec in ("mp4a.69", "mp4a.6b"):  # MPEG-1/2 audio in an MP4 container
        return "mp3"
    if codec.startswith("mp4a") or not codec:
        return "aac"
    return {"flac": "flac", "opus": "opus"}.get(codec, codec)


# --------------------------------------------------------------------------- errors
