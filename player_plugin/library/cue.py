"""CUE sheets: one audio file that holds a whole album (a CD image), cut into its tracks.

Lossless CD rips often come as one FLAC, Monkey's Audio, WavPack or WAV file of the whole disc and
a ``.cue`` sheet next to it (Exact Audio Copy's "image + CUE"), or with the sheet inside the file's
tags (a ``CUESHEET`` Vorbis comment or APEv2 item, as foobar2000 embeds it). Chinese rips are mostly
like this, their sheets in GBK. Without the sheet the library holds one 60-minute "track".

A sheet is read for the ``FILE`` it names (each file's ``TRACK … AUDIO`` entries with their
``TITLE``, ``PERFORMER``, ``INDEX 01`` start and ReplayGain ``REM`` fields) and for the album
(``TITLE``, ``PERFORMER``, ``REM GENRE``, ``REM DATE``, ``REM DISCNUMBER``, ReplayGain). A track
runs from its ``INDEX 01`` to the next track's ``INDEX 01`` (a pregap plays at the end of the track
before it, as on the disc), the last one to the end of the file.

Each track of a sheet is stored as its own row with a path of its own, ``<sheet>/trackNNNN`` for a
sheet file and ``<audio file>/trackNNNN`` for an embedded one: MPD names the same tracks so.
"""

from __future__ import annotations

import os
import re
import shlex
from dataclasses import dataclass, field, replace
from pathlib import Path

from player_plugin.library.errors import os_reason
from player_plugin.library.files import NotRegularFileError, open_regular
from player_plugin.library.lyrics import SIDECAR_EXTENSIONS, decode_text
from player_plugin.library.numbers import MAX_DISC_NUMBER, MAX_TRACK_NUMBER, bounded, parse_pair, parse_year
from player_plugin.library.replaygain import gain_db, peak
from player_plugin.library.tag_bounds import MAX_CUESHEET_CHARS
from player_plugin.models import TrackTags

__all__ = ["CueError", "CueSheet", "CueTrack", "parse_cue", "segments", "segment_path", "CUE_EXTENSION"]

CUE_EXTENSION = ".cue"
MAX_CUE_BYTES = MAX_CUESHEET_CHARS
FRAMES_PER_SECOND = 75  # CD frames: INDEX times are mm:ss:ff
MIN_TRACK_S = 0.5  # a track shorter than this is a sheet's mistake (two INDEX 01 at one time)

_TIME = re.compile(r"^(\d{1,4}):(\d{1,2}):(\d{1,2})$")


class CueError(Exception):
    """The sheet cannot be used; ``str()`` is the one-line reason."""


@dataclass(frozen=True, slots=True)
class CueTrack:
    number: int
    start_s: float
    title: str | None = None
    performer: str | None = None
    track_gain_db: float | None = None
    track_peak: float | None = None


@dataclass(frozen=True, slots=True)
class CueSheet:
    """The album fields and the tracks of each ``FILE`` the sheet names (file name as written)."""

    title: str | None = None
    performer: str | None = None
    genre: str | None = None
    year: int | None = None
    disc_number: int | None = None
    disc_total: int | None = None
    album_gain_db: float | None = None
    album_peak: float | None = None
    files: dict[str, list[CueTrack]] = field(default_factory=dict)

    def tracks_for(self, audio_name: str) -> list[CueTrack]:
        """The tracks of ``audio_name``: the ``FILE`` named so (case aside), else the only ``FILE``
        with the same stem (a sheet made for the WAV and kept beside the FLAC it was packed into)."""
        folded = audio_name.casefold()
        for name, tracks in self.files.items():
            if os.path.basename(name.replace("\\", "/")).casefold() == folded:
                return tracks
        stem = os.path.splitext(folded)[0]
        same_stem = [t for n, t in self.files.items() if _stem(n) == stem]
        if len(same_stem) == 1:
            return same_stem[0]
        if len(self.files) == 1 and len(next(iter(self.files.values()))) > 1:
            return next(iter(self.files.values()))  # one image named otherwise (renamed after ripping)
        return []


def _stem(name: str) -> str:
    return os.path.splitext(os.path.basename(name.replace("\\", "/")))[0].casefold()


def read_cue_bytes(data: bytes) -> str:
    if len(data) > MAX_CUE_BYTES:
        raise CueError(f"larger than {MAX_CUE_BYTES // 1024} KiB, so not a CUE sheet")
    return decode_text(data).lstrip("\ufeff")


def _words(line: str) -> list[str]:
    try:
        return shlex.split(line, posix=True)
    except ValueError:  # an unbalanced quote: take the rest of the line as written
        head, _, rest = line.partition(" ")
        return [head, rest.strip().strip('"')]


def _seconds(text: str) -> float | None:
    match = _TIME.match(text.strip())
    if not match:
        return None
    minutes, seconds, frames = (int(g) for g in match.groups())
    if seconds >= 60 or frames >= FRAMES_PER_SECOND:
        return None
    return minutes * 60 + seconds + frames / FRAMES_PER_SECOND


def parse_cue(text: str) -> CueSheet:
    """A sheet's album fields and tracks. Raises :class:`CueError` when it names no audio track."""
    album: dict[str, object] = {}
    files: dict[str, list[CueTrack]] = {}
    current_file: str | None = None
    track: dict[str, object] | None = None
    in_track = False  # past a TRACK line: fields are no longer the album's, even of a data track

    def close_track() -> None:
        nonlocal track
        if track is not None and current_file is not None and "start_s" in track:
            files.setdefault(current_file, []).append(CueTrack(**track))  # type: ignore[arg-type]
        track = None

    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        words = _words(line)
        if not words:
            continue
        command = words[0].upper()
        args = words[1:]
        target = track if track is not None else (None if in_track else album)
        if command == "FILE" and args:
            close_track()
            current_file = args[0]
        elif command == "TRACK" and len(args) >= 2:
            close_track()
            in_track = True
            number = bounded(args[0], MAX_TRACK_NUMBER)
            track = {"number": number} if number and args[1].upper() == "AUDIO" else None  # not a data track
        elif command in ("TITLE", "PERFORMER") and args and target is not None:
            value = " ".join(args).strip()
            if value:
                target[command.lower()] = value
        elif command == "INDEX" and len(args) >= 2 and track is not None:
            start = _seconds(args[1])
            if start is not None and bounded(args[0], 99) == 1:
                track["start_s"] = start
        elif command == "REM" and args and (track is not None or not in_track):
            _rem(args[0].upper(), " ".join(args[1:]), track, album)
    close_track()
    if not any(files.values()):
        raise CueError("names no audio track")
    ordered = {name: sorted(tracks, key=lambda t: t.start_s) for name, tracks in files.items() if tracks}
    return CueSheet(**album, files=ordered)  # type: ignore[arg-type]  # album holds CueSheet's own fields


def _rem(key: str, value: str, track: dict[str, object] | None, album: dict[str, object]) -> None:
    value = value.strip()
    if not value:
        return
    if track is not None:
        if key == "REPLAYGAIN_TRACK_GAIN":
            track["track_gain_db"] = gain_db([value])
        elif key == "REPLAYGAIN_TRACK_PEAK":
            track["track_peak"] = peak([value])
        return
    if key == "GENRE":
        album["genre"] = value
    elif key == "DATE":
        album["year"] = parse_year([value])
    elif key == "DISCNUMBER":
        album["disc_number"], total = parse_pair([value], MAX_DISC_NUMBER)
        if total:
            album["disc_total"] = total
    elif key == "TOTALDISCS":
        album["disc_total"] = bounded(value, MAX_DISC_NUMBER)
    elif key == "REPLAYGAIN_ALBUM_GAIN":
        album["album_gain_db"] = gain_db([value])
    elif key == "REPLAYGAIN_ALBUM_PEAK":
        album["album_peak"] = peak([value])


@dataclass(frozen=True, slots=True)
class Segment:
    """One track of an image: where it lies in the file and its tags."""

    path: str  # the track's own path (segment_path)
    start_s: float
    end_s: float | None  # None: to the end of the file
    tags: TrackTags


def segment_path(sheet_or_file: str, number: int) -> str:
    """MPD's name for track ``number`` of a sheet (or of a file whose tags hold the sheet)."""
    return f"{sheet_or_file}{os.sep}track{number:04d}"


def segments(sheet: CueSheet, tracks: list[CueTrack], whole: TrackTags, base: str) -> tuple[list[Segment], list[str]]:
    """The tracks of one image (its tags ``whole``) as segments named after ``base``, and the
    reasons for tracks left out (a start past the end of the file, or on another track's start)."""
    out: list[Segment] = []
    left_out: list[str] = []
    length = whole.duration_s
    usable = [t for t in tracks if t.start_s < length - MIN_TRACK_S]
    for t in tracks:
        if t not in usable:
            left_out.append(f"track {t.number} starts at {t.start_s:.0f} s, past the end of the audio ({length:.0f} s)")
    numbers = [t.number for t in usable]
    for i, t in enumerate(usable):
        end = usable[i + 1].start_s if i + 1 < len(usable) else None
        span = (end if end is not None else length) - t.start_s
        if span < MIN_TRACK_S or numbers.count(t.number) > 1:
            left_out.append(f"track {t.number} is empty or given twice")
            continue
        artists = (t.performer,) if t.performer else ((sheet.performer,) if sheet.performer else whole.artists)
        tags = replace(
            whole,
            title=t.title or f"Track {t.number}",
            artists=artists,
            album=sheet.title or whole.album,
            album_artist=sheet.performer or whole.album_artist,
            genres=(sheet.genre,) if sheet.genre else whole.genres,
            year=sheet.year or whole.year,
            track_number=t.number,
            track_total=max(t.number for t in usable),
            disc_number=sheet.disc_number or whole.disc_number,
            disc_total=sheet.disc_total or whole.disc_total,
            duration_s=span,
            mb_track_id=None,
            mb_recording_id=None,
            mb_artist_id=None,
            embedded_lyrics=None,  # the image's lyrics (if any) are not this track's
            track_gain_db=t.track_gain_db,
            track_peak=t.track_peak,
            album_gain_db=sheet.album_gain_db if sheet.album_gain_db is not None else whole.album_gain_db,
            album_peak=sheet.album_peak if sheet.album_peak is not None else whole.album_peak,
            cuesheet=None,
        )
        out.append(Segment(segment_path(base, t.number), t.start_s, end, tags))
    return out, left_out


def read_cue_file(path: str) -> CueSheet:
    """The sheet in file ``path``. Raises :class:`CueError` (unreadable, too big, no track)."""
    try:
        with open_regular(Path(path)) as fh:
            data = fh.read(MAX_CUE_BYTES + 1)
    except NotRegularFileError as exc:
        raise CueError(exc.reason) from exc
    except OSError as exc:
        raise CueError(os_reason(exc)) from exc
    return parse_cue(read_cue_bytes(data))


class FolderSheets:
    """A folder's ``.cue`` files, for the walk to tell which audio file each cuts. A sheet named like
    the file (``CDImage.cue`` beside ``CDImage.flac``) is taken without reading it, so a rescan reads
    no sheet (the read phase reads it when the file is read, and says why when it cannot be used);
    only a sheet named otherwise is read, once, for the ``FILE`` it names."""

    def __init__(self, paths: list[str]) -> None:
        self.paths = paths
        self._read: dict[str, CueSheet | None] = {}

    def _sheet(self, path: str) -> CueSheet | None:
        if path not in self._read:
            try:
                self._read[path] = read_cue_file(path)
            except CueError:
                self._read[path] = None
        return self._read[path]

    def sheet_for(self, audio_name: str) -> str | None:
        stem = os.path.splitext(audio_name)[0].casefold()
        same_stem = [p for p in self.paths if _stem(p) == stem]
        if same_stem:
            return same_stem[0]
        folded = audio_name.casefold()
        for path in self.paths:
            sheet = self._sheet(path)
            if sheet is None:
                continue
            named = [n for n in sheet.files if os.path.basename(n.replace("\\", "/")).casefold() == folded]
            if named and len(sheet.files[named[0]]) > 1:
                return path
        return None


def lyrics_files_for(tags: TrackTags, paths: tuple[str, ...]) -> list[str]:
    """The lyrics files among ``paths`` (an image's folder's) named after the track ``tags``
    describe, as lyrics tools save them: ``Title``, ``02 Title``, ``02. Title``, ``02 - Title``,
    ``Artist - Title`` (case and spacing aside); ``.lrc`` before ``.txt``."""
    number = tags.track_number or 0
    names = {f"{number:02d} {tags.title}", f"{number:02d}. {tags.title}", f"{number:02d} - {tags.title}"}
    names |= {tags.title, *(f"{a} - {tags.title}" for a in tags.artists)}
    wanted = {_folded(n) for n in names}
    matches = [p for p in paths if _folded(os.path.splitext(os.path.basename(p))[0]) in wanted]
    return sorted(matches, key=lambda p: SIDECAR_EXTENSIONS.index(os.path.splitext(p)[1].lower()))


def _folded(name: str) -> str:
    return " ".join(name.casefold().split())
