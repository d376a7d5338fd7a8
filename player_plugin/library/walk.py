"""The walk of a scan: every audio file under a root with one ``stat`` each, plus its sidecars.

``os.scandir`` depth-first in name order; sidecars are matched from the folder listing (indexed per
folder by case-folded stem, so no extra disk access). A ``.cue`` sheet cuts the audio file of its
name, or one its ``FILE`` names (library/cue.FolderSheets); it then counts among that file's
sidecars, so editing it reads the file again. Symlinked folders are followed once; a link back to an
ancestor is reported as a loop.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from player_plugin.library.cue import CUE_EXTENSION, FolderSheets
from player_plugin.library.errors import ScanFailure
from player_plugin.library.files import describe_kind
from player_plugin.library.lyrics import SIDECAR_EXTENSIONS, sidecar_candidates
from player_plugin.library.tags import AUDIO_EXTENSIONS


@dataclass(frozen=True, slots=True)
class Found:
    """An audio file the walk listed: its identity on disk and its sidecars."""

    path: str
    size: int
    mtime_ns: int
    sidecar_sig: str
    sidecars: tuple[str, ...]
    cue: str | None = None  # the CUE sheet that cuts this file into tracks
    folder_lyrics: tuple[str, ...] = ()  # with a sheet: every lyrics file of the folder (its tracks' own)


def display_path(path: str) -> str:
    """A printable form of a path whose name may hold undecodable bytes."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def valid_name(path: str) -> bool:
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def os_reason(exc: OSError) -> str:
    if isinstance(exc, PermissionError):
        return "permission denied"
    if isinstance(exc, FileNotFoundError):
        return "vanished during the scan"
    if exc.errno is not None and exc.errno == errno.ELOOP:
        return "symlink loop"
    return exc.strerror or str(exc)


def walk(
    root: str, failures: list[ScanFailure], uncertain: list[str], is_cancelled: Callable[[], bool]
) -> Iterator[Found]:
    """Audio files under ``root``, depth-first in name order; what cannot be listed or read goes
    to ``failures``, and folders whose contents are unknown to ``uncertain``."""
    try:
        st = os.stat(root)
    except OSError as exc:
        failures.append(ScanFailure(display_path(root), os_reason(exc)))
        uncertain.append(root)
        return
    visited: set[tuple[int, int]] = {(st.st_dev, st.st_ino)}
    # Each stack entry carries the (dev, inode) chain of its ancestors for loop detection.
    stack: list[tuple[str, tuple[tuple[int, int], ...]]] = [(root, ((st.st_dev, st.st_ino),))]
    while stack:
        if is_cancelled():
            return
        folder, ancestors = stack.pop()
        try:
            with os.scandir(folder) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            failures.append(ScanFailure(display_path(folder), f"cannot list folder: {os_reason(exc)}"))
            uncertain.append(folder)
            continue
        lyric_index = _lyric_index(e.name for e in entries)
        cue_paths = [e.path for e in entries if e.name.lower().endswith(CUE_EXTENSION)]
        sheets = FolderSheets(cue_paths) if cue_paths else None
        subdirs: list[tuple[str, tuple[tuple[int, int], ...]]] = []
        for entry in entries:
            try:
                is_dir = entry.is_dir()
            except OSError:
                is_dir = False
            if is_dir:
                try:
                    dst = entry.stat()
                except OSError as exc:
                    failures.append(ScanFailure(display_path(entry.path), os_reason(exc)))
                    uncertain.append(entry.path)
                    continue
                key = (dst.st_dev, dst.st_ino)
                if key in ancestors:
                    failures.append(ScanFailure(display_path(entry.path), "symlink loop (links to a parent folder)"))
                    continue
                if key in visited:
                    continue  # a second link to a folder already scanned
                visited.add(key)
                subdirs.append((entry.path, (*ancestors, key)))
                continue
            ext = os.path.splitext(entry.name)[1].lower()
            if ext not in AUDIO_EXTENSIONS:
                continue  # not audio: ignored quietly
            if not valid_name(entry.path):
                failures.append(ScanFailure(display_path(entry.path), "file name is not valid UTF-8"))
                continue
            try:
                fst = entry.stat()
            except OSError as exc:
                reason = os_reason(exc)
                if entry.is_symlink() and isinstance(exc, FileNotFoundError):
                    reason = "broken symlink"
                elif entry.is_symlink() and reason == "symlink loop":
                    reason = "symlink loop"
                failures.append(ScanFailure(display_path(entry.path), reason))
                if not isinstance(exc, FileNotFoundError):
                    uncertain.append(entry.path)
                continue
            if not stat.S_ISREG(fst.st_mode):  # a FIFO or a device named like audio: never opened
                failures.append(ScanFailure(display_path(entry.path), describe_kind(fst.st_mode)))
                continue
            stem_key = os.path.splitext(entry.name)[0].casefold()
            near = lyric_index.get(stem_key, []) + lyric_index.get(entry.name.casefold(), [])
            sidecars = tuple(os.path.join(folder, n) for n in sidecar_candidates(entry.name, near)) if near else ()
            cue = sheets.sheet_for(entry.name) if sheets else None
            folder_lyrics = tuple(os.path.join(folder, n) for ns in lyric_index.values() for n in ns) if cue else ()
            signed = (*sidecars, cue, *folder_lyrics) if cue else sidecars
            yield Found(entry.path, fst.st_size, fst.st_mtime_ns, _sidecar_sig(signed), sidecars, cue, folder_lyrics)
        # Depth-first in name order: push in reverse so the first name is scanned first.
        stack.extend(reversed(subdirs))


def _lyric_index(names: Iterable[str]) -> dict[str, list[str]]:
    """Sidecar-looking names of one folder by case-folded stem, so each track's lookup is O(1)."""
    index: dict[str, list[str]] = {}
    for name in names:
        base, ext = os.path.splitext(name)
        if ext.lower() in SIDECAR_EXTENSIONS:
            index.setdefault(base.casefold(), []).append(name)
    return index


def _sidecar_sig(paths: tuple[str, ...]) -> str:
    parts = []
    for p in paths:
        try:
            st = os.stat(p)
        except OSError:
            continue
        parts.append(f"{os.path.basename(p)}:{st.st_size}:{st.st_mtime_ns}")
    return "|".join(parts)
