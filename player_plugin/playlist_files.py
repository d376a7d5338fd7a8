"""Reading M3U / M3U8 playlists that other players (or this one, "Save as playlist") wrote.

A playlist is a text file with one entry per line: a path (absolute, or relative to the playlist's
folder, with ``/`` or Windows' ``\\``), or a ``file://`` URI (percent-encoded); lines starting with
``#`` are comments (``#EXTM3U``, ``#EXTINF``), except ``#PLAYLIST:``, the playlist's name. ``.m3u8``
is UTF-8; a plain ``.m3u`` may be in any encoding an old player chose (read as lyrics are:
library/lyrics.decode_text). Streams (``http://`` …) are no files here and are counted apart. A file
that is no playlist (binary, or far too big) is refused in one line.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlparse

from player_plugin.library.files import open_regular
from player_plugin.library.lyrics import decode_text

MAX_PLAYLIST_BYTES = 16 * 2**20  # a playlist of 100,000 long paths is under this
PLAYLIST_SUFFIXES = (".m3u", ".m3u8")


class PlaylistError(ValueError):
    """The file cannot be read as a playlist (one line for the user)."""


@dataclass
class PlaylistFile:
    name: str  # ``#PLAYLIST:``, or the file's name without its suffix
    paths: list[str] = field(default_factory=list)  # the entries, absolute and normalised, in order
    streams: int = 0  # entries that are URLs of streams, not files


def is_playlist(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` names a playlist file (by its suffix: whether it can be read is read_playlist's)."""
    return os.fspath(path).lower().endswith(PLAYLIST_SUFFIXES)


def read_playlist(path: str | os.PathLike[str]) -> PlaylistFile:
    path = Path(path)
    try:
        with open_regular(path) as fh:
            raw = fh.read(MAX_PLAYLIST_BYTES + 1)
    except OSError as exc:
        raise PlaylistError(f"cannot read the playlist {path}: {exc.strerror or exc}") from None
    if len(raw) > MAX_PLAYLIST_BYTES:
        raise PlaylistError(f"{path} is not a playlist: over {MAX_PLAYLIST_BYTES // 2**20} MB")
    text = raw.decode("utf-8-sig", errors="replace") if path.suffix.lower() == ".m3u8" else decode_text(raw)
    if "\0" in text:  # after decoding: a UTF-16 playlist (some Windows players) is text
        raise PlaylistError(f"{path} is not a playlist: it holds binary data")
    out = PlaylistFile(path.stem)
    folder = path.parent.resolve()
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        if line.startswith("#"):
            if line.upper().startswith("#PLAYLIST:") and line[10:].strip():
                out.name = line[10:].strip()
            continue
        entry = _entry_path(line, folder)
        if entry is None:
            out.streams += 1
        else:
            out.paths.append(entry)
    return out


def _entry_path(line: str, folder: Path) -> str | None:
    """The absolute path an entry names, or None for a stream's URL."""
    if "://" in line:
        url = urlparse(line)
        if url.scheme != "file":
            return None
        line = unquote(url.path)
    candidate = line if os.path.isabs(line) else os.path.join(folder, line)
    if not os.path.exists(candidate) and "\\" in line:  # written on Windows: C:\Music\a.mp3 or Music\a.mp3
        relative = line.replace("\\", "/")
        candidate = relative if os.path.isabs(relative) else os.path.join(folder, relative)
    return os.path.normpath(candidate)
