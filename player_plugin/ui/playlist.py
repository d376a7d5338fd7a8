"""M3U8 playlists (UTF-8 extended M3U) that any other player can open.

A playlist is one entry per line, so nothing we write may break a line: control characters (and
the Unicode line and paragraph separators) in a title become spaces, and a track whose path holds
a line break cannot be written as an M3U line at all: it is left out and counted
(``PlaylistWritten.skipped``); a path that starts with ``#`` is written as ``./#…`` so it is not
read as a directive. The file is written with ``private_files.write_private`` (a 0600 temporary
file renamed into place): never half-written, never readable by other users.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import NamedTuple

from player_plugin.models import Track
from player_plugin.private_files import write_private

# Everything str.splitlines() (and so many a player) breaks a line at, plus the other C0/C1 controls.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_LINE_BREAK = re.compile("[\n\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")


class PlaylistWritten(NamedTuple):
    written: int  # tracks in the playlist
    skipped: int  # tracks left out: their path holds a line break


def playlist_path_for(track_path: str, playlist: Path) -> str:
    """Relative to the playlist's folder when both share a folder below the filesystem root."""
    base = os.path.abspath(playlist.parent)
    target = os.path.abspath(track_path)
    try:
        common = os.path.commonpath([base, target])
    except ValueError:  # different drives on Windows
        return target
    if common in ("", os.path.abspath(os.sep)) or os.path.dirname(common) == common:
        return target
    return os.path.relpath(target, base).replace(os.sep, "/")


def one_line(text: str) -> str:
    """``text`` with every control character (line breaks included) turned into a space."""
    return " ".join(_CONTROL.sub(" ", text).split())


def write_m3u8(path: Path, tracks: Iterable[Track], title: str | None = None) -> PlaylistWritten:
    """Write ``tracks`` to ``path`` (mode 0600, replacing it whole)."""
    path = Path(path)
    lines = ["#EXTM3U"]
    if title and one_line(title):
        lines.append(f"#PLAYLIST:{one_line(title)}")
    written = skipped = 0
    for track in tracks:
        entry = playlist_path_for(track.path, path)
        if _LINE_BREAK.search(entry):
            skipped += 1
            continue
        if entry.startswith("#"):
            entry = "./" + entry
        t = track.tags
        label = one_line(f"{t.artist} - {t.title}" if t.artist else t.title)
        lines.append(f"#EXTINF:{round(t.duration_s) if t.duration_s else -1},{label}")
        lines.append(entry)
        written += 1
    write_private(path, ("\n".join(lines) + "\n").encode("utf-8"))
    return PlaylistWritten(written, skipped)
