"""M3U8 playlists (UTF-8 extended M3U) that any other player can open."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from player_plugin.models import Track


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


def write_m3u8(path: Path, tracks: Iterable[Track], title: str | None = None) -> int:
    """Write ``tracks`` to ``path``; returns how many were written."""
    path = Path(path)
    lines = ["#EXTM3U"]
    if title:
        lines.append(f"#PLAYLIST:{title}")
    n = 0
    for track in tracks:
        t = track.tags
        label = f"{t.artist} - {t.title}" if t.artist else t.title
        lines.append(f"#EXTINF:{round(t.duration_s) if t.duration_s else -1},{label}")
        lines.append(playlist_path_for(track.path, path))
        n += 1
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return n
