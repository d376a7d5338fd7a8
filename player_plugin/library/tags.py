"""Read one audio file's tags and stream info with mutagen into a :class:`TrackTags`.

Each file is opened exactly once: we open it ourselves (so permission and missing-file errors
get clean reasons) and hand the file object to ``mutagen.File``, restricted to the formats we
support. Raw frames/keys are mapped per tag system (ID3, Vorbis comments, MP4 atoms) rather than
through mutagen's "easy" wrappers, which lack lyrics, covers and several MusicBrainz keys.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import mutagen
from mutagen.aac import AAC
from mutagen.aiff import AIFF
from mutagen.apev2 import APEv2
from mutagen.asf import ASF
from mutagen.flac import FLAC
from mutagen.id3 import ID3
from mutagen.monkeysaudio import MonkeysAudio
from mutagen.mp3 import MP3
from mutagen.mp4 import MP4
from mutagen.oggflac import OggFLAC
from mutagen.oggopus import OggOpus
from mutagen.oggvorbis import OggVorbis
from mutagen.wave import WAVE
from mutagen.wavpack import WavPack

from player_plugin.library.ape_asf_fields import ape_fields, asf_fields
from player_plugin.library.errors import os_reason as _os_reason
from player_plugin.library.files import NotRegularFileError, open_regular
from player_plugin.library.integrity import truncation_reason
from player_plugin.library.numbers import (
    MAX_BITRATE,
    MAX_CHANNELS,
    MAX_DURATION_S,
    MAX_SAMPLE_RATE,
    MIN_DURATION_S,
    bounded,
    duration,
)
from player_plugin.library.tag_bounds import bound_fields
from player_plugin.library.tag_fields import _id3_fields, _mp4_codec, _mp4_fields, _vorbis_fields
from player_plugin.models import TrackTags

__all__ = ["AUDIO_EXTENSIONS", "TagReadError", "read_tags"]

AUDIO_EXTENSIONS: frozenset[str] = frozenset(
    {".mp3", ".flac", ".ogg", ".oga", ".opus", ".m4a", ".mp4", ".aac", ".wav", ".aif", ".aiff"}
    | {".ape", ".wv", ".wma"}
)

# Only the formats we map; also keeps mutagen from "recognising" junk as some exotic format.
_KINDS: list[type[mutagen.FileType]] = [
    MP3, FLAC, OggVorbis, OggOpus, OggFLAC, MP4, AIFF, WAVE, AAC, MonkeysAudio, WavPack, ASF,
]  # fmt: skip


class TagReadError(Exception):
    """The file could not be read as audio; ``reason`` is a short human-readable explanation."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


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
    "mutagen.monkeysaudio": "Monkey's Audio",
    "mutagen.wavpack": "WavPack",
    "mutagen.asf": "WMA",
    "mutagen.apev2": "APEv2 tag",
}
_FORMAT_BY_EXT = {
    ".mp3": "MP3", ".flac": "FLAC", ".ogg": "Ogg", ".oga": "Ogg", ".opus": "Opus",
    ".m4a": "MP4/M4A", ".mp4": "MP4/M4A", ".aac": "AAC", ".wav": "WAV", ".aif": "AIFF", ".aiff": "AIFF",
    ".ape": "Monkey's Audio", ".wv": "WavPack", ".wma": "WMA",
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


def _stream_fields(audio: mutagen.FileType, size: int) -> dict[str, Any]:
    info = audio.info
    length = duration(getattr(info, "length", 0.0))
    bitrate = getattr(info, "bitrate", None)
    if not bitrate and length > 0:  # WavPack and Monkey's Audio give none: the file's mean
        bitrate = round(size * 8 / length)
    sample_rate = bounded(getattr(info, "sample_rate", None), MAX_SAMPLE_RATE)
    if sample_rate is None and isinstance(audio, OggOpus):
        sample_rate = 48000  # Opus always decodes at 48 kHz; the header's rate is informational
    return {
        "duration_s": length,
        "bitrate": bounded(bitrate, MAX_BITRATE),
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
        return "opus", _vorbis_fields(tags, False, opus=True)
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
    if isinstance(audio, MonkeysAudio | WavPack):
        codec = "ape" if isinstance(audio, MonkeysAudio) else "wavpack"
        return codec, ape_fields(audio.tags if isinstance(audio.tags, APEv2) else None)
    if isinstance(audio, ASF):
        return _asf_codec(getattr(audio.info, "codec_name", "")), asf_fields(audio.tags)
    raise TagReadError(f"unsupported audio format: {type(audio).__name__}")


def _asf_codec(name: str) -> str:
    """ASF names its codec in words ("Windows Media Audio 9.2", "… 9 Lossless", "… Voice")."""
    name = (name or "").casefold()
    if "lossless" in name:
        return "wmalossless"
    return "wmapro" if "professional" in name else "wma"


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
        size = os.fstat(fh.fileno()).st_size
        cut = truncation_reason(audio, fh, size)
        if cut is not None:
            raise TagReadError(cut)
        try:
            codec, fields = _tag_fields(audio, fh)
        except TagReadError:
            raise
        except Exception as exc:  # noqa: BLE001 - one odd file must not abort a library scan
            raise TagReadError(f"unreadable tags: {type(exc).__name__}: {exc}") from exc

    fields.update(_stream_fields(audio, size))
    if fields["duration_s"] < MIN_DURATION_S:
        raise TagReadError(_no_stream_reason(getattr(audio.info, "length", None)))
    fields["codec"] = codec
    fields = bound_fields({key: value for key, value in fields.items() if value is not None})
    if not fields.get("title"):
        fields["title"] = path.stem or path.name
    return TrackTags(**fields)
