"""The read phase of a scan: one file's tags and lyrics, run in the scanner or in worker processes."""

from __future__ import annotations

import os
from pathlib import Path

from player_plugin.library.errors import ScanFailure
from player_plugin.library.lyrics import LyricsReadError, read_sidecar
from player_plugin.library.tags import TagReadError, read_tags
from player_plugin.library.walk import Found, display_path, os_reason
from player_plugin.store.tracks import ScannedFile

_ReadResult = tuple[ScannedFile | None, list[ScanFailure], list[ScanFailure]]


def read_file(item: Found) -> _ReadResult:
    """Tags + lyrics of one file: (scanned or None, failures, warnings). Runs in workers too."""
    shown = display_path(item.path)
    if item.size == 0:
        return None, [ScanFailure(shown, "empty file (0 bytes)")], []
    try:
        tags = read_tags(Path(item.path))
    except TagReadError as exc:
        return None, [ScanFailure(shown, str(exc))], []
    except OSError as exc:  # read_tags maps these; stay safe regardless
        return None, [ScanFailure(shown, os_reason(exc))], []
    warnings: list[ScanFailure] = []
    lyrics, source = tags.embedded_lyrics, "embedded" if tags.embedded_lyrics else None
    if not lyrics:
        for sidecar in item.sidecars:
            try:
                text = read_sidecar(Path(sidecar))
            except LyricsReadError as exc:
                warnings.append(ScanFailure(display_path(sidecar), f"lyrics not read: {exc}"))
                continue
            if text:
                lyrics, source = text, os.path.basename(sidecar)
                break
    return ScannedFile(item.path, item.size, item.mtime_ns, item.sidecar_sig, tags, lyrics, source), [], warnings


def read_files(items: list[Found]) -> list[_ReadResult]:
    return [read_file(item) for item in items]
