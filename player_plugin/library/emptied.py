"""A library folder that is there but suddenly holds nothing: keep its tracks.

An unmounted drive often leaves its mount point behind as an empty folder, so "listed, and no audio
under it" is not proof that the music is gone. The rule (``EMPTIED_RULE``): when a root, or a folder
directly inside a root, exists and the walk found no audio file (and no unreadable one) under it,
while the library has at least ``MIN_TRACKS_KEPT`` tracks there, and none of those tracks turned up
elsewhere (no move claimed one, no other track has the same recording), the folder counts as
*missing*: its tracks are kept and the scan warns about it. A folder emptied by moving its files
elsewhere in the library (sorting an inbox) is pruned as usual. To really drop the tracks of an
emptied folder, delete the folder itself or remove the root from the library.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable

from player_plugin.library.errors import ScanFailure
from player_plugin.store.tracks import is_under

EMPTIED_RULE = "a root or a top folder of a root that is present but holds no audio, while the library has tracks there"
MIN_TRACKS_KEPT = 1  # library tracks under such a folder that make its emptiness suspicious


def _group(path: str, root: str) -> str:
    """The root itself for a file directly in it, else the root's child folder holding ``path``."""
    rest = path[len(root.rstrip(os.sep)) + 1 :]
    head = rest.split(os.sep, 1)
    return root if len(head) == 1 else os.path.join(root, head[0])


def emptied_folders(
    roots: Iterable[str],
    known: Iterable[str],
    seen: Iterable[str],
    display: Callable[[str], str],
    library_roots: Iterable[str] = (),
) -> tuple[list[str], list[ScanFailure]]:
    """(candidate folders, a warning for each if it is kept) for listed ``roots``, the library's
    ``known`` paths under them and the paths the walk ``seen`` (found or failed). When ``roots`` are
    folders inside ``library_roots`` (a watcher's scan), the rule's folders are those of the library
    folders, and only the ones inside a listed root are candidates."""
    listed = list(roots)
    roots = [r for r in library_roots if any(is_under(p, r) for p in listed)] or listed
    counts: dict[str, int] = {}
    for path in known:
        root = next((r for r in roots if path.startswith(r.rstrip(os.sep) + os.sep)), None)
        if root is not None:
            for group in {root, _group(path, root)}:
                counts[group] = counts.get(group, 0) + 1
    occupied: set[str] = set()
    for path in seen:
        root = next((r for r in roots if path.startswith(r.rstrip(os.sep) + os.sep)), None)
        if root is not None:
            occupied.update((root, _group(path, root)))
    folders: list[str] = []
    warnings: list[ScanFailure] = []
    for group in sorted(counts):
        if group in occupied or counts[group] < MIN_TRACKS_KEPT or not os.path.isdir(group):
            continue
        if any(group.startswith(f.rstrip(os.sep) + os.sep) for f in folders):
            continue  # inside a folder already kept whole
        if not any(is_under(group, r) for r in listed):
            continue  # a library folder around a watched folder: most of it was not looked at
        folders.append(group)
        warnings.append(
            ScanFailure(
                display(group),
                f"holds no audio now, but the library has {counts[group]} tracks there: kept them "
                "(an empty mount point?); delete the folder or remove it from the library to drop them",
            )
        )
    return folders, warnings
