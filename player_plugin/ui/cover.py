"""Cover art straight from the audio file (mutagen), or a neighbour's / the folder's image."""

from __future__ import annotations

import base64
import contextlib
import os
from pathlib import Path

import mutagen

from player_plugin.library.cover_items import ape_cover, asf_cover

_FOLDER_IMAGES = ("cover", "folder", "front", "album")
_IMAGE_EXT = (".jpg", ".jpeg", ".png", ".webp")


def embedded_cover(path: str) -> bytes | None:
    """The first embedded picture's bytes (ID3 APIC, FLAC picture, MP4 covr, Vorbis/Opus picture,
    APEv2 ``Cover Art``, WMA ``WM/Picture``)."""
    try:
        audio = mutagen.File(path)
    except Exception:  # noqa: BLE001 - unreadable files simply have no cover
        return None
    if audio is None:
        return None
    pictures = getattr(audio, "pictures", None)  # FLAC
    if pictures:
        return bytes(pictures[0].data)
    tags = audio.tags
    if tags is None:
        return None
    if hasattr(tags, "getall"):  # ID3 (MP3, WAV, AIFF)
        apic = tags.getall("APIC")
        if apic:
            return bytes(apic[0].data)
    with contextlib.suppress(Exception):
        covr = tags.get("covr")  # MP4
        if covr:
            return bytes(covr[0])
    with contextlib.suppress(Exception):
        blocks = tags.get("metadata_block_picture")  # Ogg Vorbis / Opus
        if blocks:
            from mutagen.flac import Picture

            return bytes(Picture(base64.b64decode(blocks[0])).data)
    with contextlib.suppress(Exception):
        return ape_cover(tags) or asf_cover(tags)
    return None


def find_cover(path: str, max_siblings: int = 8) -> bytes | None:
    """The file's own cover, else a cover image in its folder, else a sibling track's cover."""
    data = embedded_cover(path)
    if data:
        return data
    folder = Path(path).parent
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError:
        return None
    for entry in entries:
        stem, ext = os.path.splitext(entry.name.lower())
        if ext in _IMAGE_EXT and stem in _FOLDER_IMAGES:
            with contextlib.suppress(OSError):
                return Path(entry.path).read_bytes()
    checked = 0
    for entry in entries:
        if entry.path == path or os.path.splitext(entry.name)[1].lower() in _IMAGE_EXT + (".lrc", ".txt"):
            continue
        if not entry.is_file():
            continue
        data = embedded_cover(entry.path)
        if data:
            return data
        checked += 1
        if checked >= max_siblings:
            break
    return None
