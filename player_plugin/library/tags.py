"""Read one audio file's tags and stream info with mutagen into a :class:`TrackTags`.

Each file is opened exactly once: we open it ourselves (so permission and missing-file errors
get clean reasons) and hand the file object to ``mutagen.File``, restricted to the formats we
support. Raw frames/keys are mapped per tag system (ID3, Vorbis comments, MP4 atoms) rather than
through mutagen's "easy" wrappers, which lack lyrics, covers and several MusicBrainz keys.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import mutagen
from mutagen.aac import AAC
from mutagen.aiff import AIFF
from mutagen.flac import FLAC
from mutagen.id3 import ID3, Encoding
from mutagen.mp3 import MP3
from mutagen.mp4 import MP4, MP4Cover, MP4FreeForm
from mutagen.oggflac import OggFLAC
from mutagen.oggopus import OggOpus
from mutagen.oggvorbis import OggVorbis
from mutagen.wave import WAVE

from player_plugin.library.errors import os_reason as _os_reason
from player_plugin.library.files import NotRegularFileError, open_regular
from player_plugin.library.integrity import truncation_reason
from player_plugin.library.lyrics import decode_text, strip_lrc
from player_plugin.library.numbers import (
    MAX_BITRATE,
    MAX_CHANNELS,
    MAX_DISC_NUMBER,
    MAX_DURATION_S,
    MAX_SAMPLE_RATE,
    MAX_TRACK_NUMBER,
    MIN_DURATION_S,
    bounded,
    duration,
    parse_pair,
    parse_year,
)
from player_plugin.models import TrackTags

__all__ = ["AUDIO_EXTENSIONS", "TagReadError", "read_tags"]

AUDIO_EXTENSIONS: frozenset[str] = frozenset(
    {".mp3", ".flac", ".ogg", ".oga", ".opus", ".m4a", ".mp4", ".aac", ".wav", ".aif", ".aiff"}
)

# Only the formats we map; also keeps mutagen from "recognising" junk as some exotic format.
_KINDS: list[type[mutagen.FileType]] = [MP3, FLAC, OggVorbis, OggOpus, OggFLAC, MP4, AIFF, WAVE, AAC]

_MB_UFID_OWNER = "http://musicbrainz.org"


class TagReadError(Exception):
    """The file could not be read as audio; ``reason`` is a short human-readable explanation."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# --------------------------------------------------------------------------- small parsers


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
    }


# --------------------------------------------------------------------------- Vorbis comments


def _vorbis_fields(comments: Iterable[tuple[str, str]] | None, has_picture: bool) -> dict[str, Any]:
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

_FORMAT_BY_MODULE = {
    "mutagen.mp3": "MP3",
    "mutagen.flac": "FLAC",
    "mutagen.oggvorbis": "Ogg Vorbis",
    "mutagen.oggopus": "Opus",
    "mutagen.oggflac": "Ogg FLAC",
    "mutagen.ogg": "Ogg",
    "mutagen.mp4": "MP4/M4A",
    "mutagen.aiff": "AIFF",
    "mutagen.wave": "WAV",
    "mutagen.aac": "AAC",
}
_FORMAT_BY_EXT = {
    ".mp3": "MP3", ".flac": "FLAC", ".ogg": "Ogg", ".oga": "Ogg", ".opus": "Opus",
    ".m4a": "MP4/M4A", ".mp4": "MP4/M4A", ".aac": "AAC", ".wav": "WAV", ".aif": "AIFF", ".aiff": "AIFF",
}  # fmt: skip


def _mutagen_reason(exc: Exception, path: Path) -> str:
    # mutagen reports short reads as errno-less IOErrors (often wrapped in its own errors):
    # those mean a truncated file; only an OSError with an errno is a real I/O failure.
    for err in (exc, exc.__cause__, exc.__context__):
        if isinstance(err, OSError) and err.errno is not None:
            return _os_reason(err)
    module = type(exc).__module__
    fmt = next((name for prefix, name in _FORMAT_BY_MODULE.items() if module == prefix), None)
    if fmt is None and module.startswith("mutagen.id3"):
        fmt = "ID3 tag"
    fmt = fmt or _FORMAT_BY_EXT.get(path.suffix.lower(), "audio file")
    return f"corrupt or truncated {fmt}: {_detail(exc).replace(str(path), path.name)}"


def _detail(exc: BaseException) -> str:
    """The first informative message in a chain of wrapped errors (mutagen nests them, often
    as ``error(error(OSError()))`` with no text at all for a short read)."""
    seen: set[int] = set()
    pending: list[BaseException] = [exc]
    short_read = False
    while pending:
        err = pending.pop(0)
        if id(err) in seen:
            continue
        seen.add(id(err))
        message = str(err).strip()
        if message and message not in ("error", type(err).__name__) and not message.startswith("error("):
            return message
        short_read = short_read or isinstance(err, OSError | EOFError)
        pending.extend(a for a in err.args if isinstance(a, BaseException))
        pending.extend(e for e in (err.__cause__, err.__context__) if e is not None)
    return "unexpected end of data" if short_read else type(exc).__name__


# --------------------------------------------------------------------------- entry point


def _stream_fields(audio: mutagen.FileType) -> dict[str, Any]:
    info = audio.info
    sample_rate = bounded(getattr(info, "sample_rate", None), MAX_SAMPLE_RATE)
    if sample_rate is None and isinstance(audio, OggOpus):
        sample_rate = 48000  # Opus always decodes at 48 kHz; the header's rate is informational
    return {
        "duration_s": duration(getattr(info, "length", 0.0)),
        "bitrate": bounded(getattr(info, "bitrate", None), MAX_BITRATE),
        "sample_rate": sample_rate,
        "channels": bounded(getattr(info, "channels", None), MAX_CHANNELS),
    }


def _no_stream_reason(length: object) -> str:
    try:
        seconds = float(length)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        return "no audio stream length in the header"
    if seconds > MAX_DURATION_S:
        return f"implausible stream header (claims {seconds:.3g} s of audio)"
    return f"no audio: the stream lasts {max(seconds, 0.0):.3g} s (empty, truncated or a broken header)"


def _tag_fields(audio: mutagen.FileType, fh: Any) -> tuple[str, dict[str, Any]]:
    """(codec, tag fields) for a loaded mutagen file."""
    tags = audio.tags
    if isinstance(audio, MP3):
        return "mp3", _id3_fields(tags) if isinstance(tags, ID3) else {}
    if isinstance(audio, WAVE | AIFF):
        codec = "wav" if isinstance(audio, WAVE) else "aiff"
        return codec, _id3_fields(tags) if isinstance(tags, ID3) else {}
    if isinstance(audio, FLAC):
        return "flac", _vorbis_fields(tags, bool(audio.pictures))
    if isinstance(audio, OggFLAC):
        return "flac", _vorbis_fields(tags, False)
    if isinstance(audio, OggVorbis):
        return "vorbis", _vorbis_fields(tags, False)
    if isinstance(audio, OggOpus):
        return "opus", _vorbis_fields(tags, False)
    if isinstance(audio, MP4):
        return _mp4_codec(getattr(audio.info, "codec", "")), _mp4_fields(tags)
    if isinstance(audio, AAC):
        # mutagen reads no tags from raw ADTS, but a leading ID3v2 block is common; reuse the handle.
        try:
            fh.seek(0)
            if fh.read(3) == b"ID3":
                fh.seek(0)
                return "aac", _id3_fields(ID3(fh))
        except Exception:  # noqa: BLE001 - tags are optional for raw AAC; the stream info is enough
            pass
        return "aac", {}
    raise TagReadError(f"unsupported audio format: {type(audio).__name__}")


def read_tags(path: Path) -> TrackTags:
    """Tags and stream info of one audio file. Raises :class:`TagReadError` with a reason."""
    path = Path(path)
    try:
        fh = open_regular(path)  # closed below; mutagen reads through this handle
    except NotRegularFileError as exc:
        raise TagReadError(exc.reason) from exc
    except OSError as exc:
        raise TagReadError(_os_reason(exc)) from exc
    with fh:
        try:
            if os.fstat(fh.fileno()).st_size == 0:
                raise TagReadError("empty file (0 bytes)")
            audio = mutagen.File(fh, options=_KINDS)
        except TagReadError:
            raise
        except Exception as exc:  # noqa: BLE001 - mutagen leaks struct/Value/Index errors too
            raise TagReadError(_mutagen_reason(exc, path)) from exc
        # NB: a FileType with no tags is falsy (it is a mapping), so compare with None.
        if audio is None:
            raise TagReadError("not a recognised audio file")
        if getattr(audio, "info", None) is None:
            raise TagReadError("no audio stream information")
        cut = truncation_reason(audio, fh, os.fstat(fh.fileno()).st_size)
        if cut is not None:
            raise TagReadError(cut)
        try:
            codec, fields = _tag_fields(audio, fh)
        except TagReadError:
            raise
        except Exception as exc:  # noqa: BLE001 - one odd file must not abort a library scan
            raise TagReadError(f"unreadable tags: {type(exc).__name__}: {exc}") from exc

    fields.update(_stream_fields(audio))
    if fields["duration_s"] < MIN_DURATION_S:
        raise TagReadError(_no_stream_reason(getattr(audio.info, "length", None)))
    fields["codec"] = codec
    fields = {key: value for key, value in fields.items() if value is not None}
    if not fields.get("title"):
        fields["title"] = path.stem or path.name
    return TrackTags(**fields)
