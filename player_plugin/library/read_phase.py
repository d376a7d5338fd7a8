"""The read phase of a scan: one file's tags and lyrics, run in the scanner or in worker processes.

A file a CUE sheet cuts (a sheet beside it, or one in its tags: library/cue.py) reads as the
sheet's tracks, each a row of its own; a sheet that cannot be used leaves the file one track and
says why in a warning.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from player_plugin.library.cue import CueError, lyrics_files_for, parse_cue, read_cue_file, segments
from player_plugin.library.errors import ScanFailure
from player_plugin.library.lyrics import LyricsReadError, read_sidecar
from player_plugin.library.tags import TagReadError, read_tags
from player_plugin.library.walk import Found, display_path, os_reason
from player_plugin.models import TrackTags
from player_plugin.store.tracks import ScannedFile

# (the file's rows: one, or one per track of its CUE sheet; failures; warnings)
_ReadResult = tuple[list[ScannedFile], list[ScanFailure], list[ScanFailure]]


def read_file(item: Found) -> _ReadResult:
    """Tags + lyrics of one file: (scanned rows, failures, warnings). Runs in workers too."""
    shown = display_path(item.path)
    if item.size == 0:
        return [], [ScanFailure(shown, "empty file (0 bytes)")], []
    try:
        tags = read_tags(Path(item.path))
    except TagReadError as exc:
        return [], [ScanFailure(shown, str(exc))], []
    except OSError as exc:  # read_tags maps these; stay safe regardless
        return [], [ScanFailure(shown, os_reason(exc))], []
    warnings: list[ScanFailure] = []
    cut = _cut_by_sheet(item, tags, warnings)
    if cut:
        return cut, [], warnings
    lyrics, source = tags.embedded_lyrics, "embedded" if tags.embedded_lyrics else None
    if not lyrics:
        lyrics, source = _first_sidecar(item.sidecars, warnings)
    whole = ScannedFile(item.path, item.size, item.mtime_ns, item.sidecar_sig, tags, lyrics, source)
    return [whole], [], warnings


def _cut_by_sheet(item: Found, tags: TrackTags, warnings: list[ScanFailure]) -> list[ScannedFile]:
    """The rows of the tracks ``item``'s CUE sheet cuts it into; [] when it has none to use."""
    if item.cue is None and not tags.cuesheet:
        return []
    where = display_path(item.cue) if item.cue else f"{display_path(item.path)} (its embedded CUE sheet)"
    try:
        if item.cue is not None:
            sheet = read_cue_file(item.cue)
            tracks = sheet.tracks_for(os.path.basename(item.path))
        else:
            sheet = parse_cue(tags.cuesheet or "")
            # An embedded sheet names the file it was made for (often the WAV before packing): its own.
            tracks = max(sheet.files.values(), key=len)
    except CueError as exc:
        warnings.append(ScanFailure(where, f"CUE sheet not used: {exc}"))
        return []
    if len(tracks) < 2:
        return []  # a sheet of one track (or of other files): the file is one track, as it is
    found, left_out = segments(sheet, tracks, tags, item.cue or item.path)
    warnings.extend(ScanFailure(where, f"CUE sheet: {reason}") for reason in left_out)
    if len(found) < 2:
        warnings.append(ScanFailure(where, "CUE sheet not used: fewer than two of its tracks lie in the audio"))
        return []
    same = (item.size, item.mtime_ns, item.sidecar_sig)  # the image's, for the diff of each of its rows
    return [
        ScannedFile(
            s.path, *same, s.tags, *_track_lyrics(s.tags, item.folder_lyrics, warnings), item.path, s.start_s, s.end_s
        )
        for s in found
    ]


def _track_lyrics(
    tags: TrackTags, folder_lyrics: tuple[str, ...], warnings: list[ScanFailure]
) -> tuple[str | None, str | None]:
    """(lyrics, source) of a sheet's track: a lyrics file of the image's folder named after it."""
    return _first_sidecar(lyrics_files_for(tags, folder_lyrics), warnings)


def _first_sidecar(paths: Iterable[str], warnings: list[ScanFailure]) -> tuple[str | None, str | None]:
    """(lyrics, file name) of the first of ``paths`` that reads as lyrics; the others that cannot be
    read are warnings."""
    for path in paths:
        try:
            text = read_sidecar(Path(path))
        except LyricsReadError as exc:
            warnings.append(ScanFailure(display_path(path), f"lyrics not read: {exc}"))
            continue
        if text:
            return text, os.path.basename(path)
    return None, None


def read_files(items: list[Found]) -> list[_ReadResult]:
    return [read_file(item) for item in items]
