"""The library table's rows, worked out away from the UI thread (no Qt here).

A reload reads every track; at 100k tracks, sorting them or finding what changed since the table
last showed them is a few hundred milliseconds of Python. :func:`plan_rows` does that on the
library reader's thread, against a :class:`Shown` snapshot the model took when the read began, and
``LibraryModel.apply`` then needs only a few Qt signals: new rows appended as one block, one layout
change that puts every row in its sorted place (vanished rows last), the vanished rows removed as
one block.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from player_plugin.models import Track, TrackId
from player_plugin.ui.text import artist_or_file

COLUMNS = ("Title", "Artist", "Album", "Genre", "Duration", "Plays")
DURATION_COLUMN = COLUMNS.index("Duration")
PLAYS_COLUMN = COLUMNS.index("Plays")
ALBUM_COLUMN = COLUMNS.index("Album")

Plays = Mapping[TrackId, int]
SortSpec = tuple[int, bool]  # column, descending


def format_duration(seconds: float) -> str:
    s = int(round(seconds or 0))
    h, rest = divmod(s, 3600)
    m, sec = divmod(rest, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m}:{sec:02d}"


def display(t: Track, col: int, plays: Plays) -> str:
    """A cell's text."""
    tags = t.tags
    if col == 0:
        return tags.title
    if col == 1:
        return artist_or_file(t)
    if col == ALBUM_COLUMN:
        return tags.album or ""
    if col == 3:
        return "; ".join(tags.genres)
    if col == DURATION_COLUMN:
        return format_duration(tags.duration_s)
    count = plays.get(t.id, 0)
    return str(count) if count else ""


def sort_value(t: Track, col: int, plays: Plays) -> Any:
    """What a column sorts by."""
    if col == DURATION_COLUMN:
        return float(t.tags.duration_s)
    if col == PLAYS_COLUMN:
        return plays.get(t.id, 0)
    if col == ALBUM_COLUMN:  # album order: album, disc, track number
        return f"{(t.tags.album or '').casefold()}\x00{t.tags.disc_number or 0:03d}{t.tags.track_number or 0:04d}"
    return (display(t, col, plays) or "").casefold()


def sort_tracks(tracks: list[Track], spec: SortSpec | None, plays: Plays) -> None:
    """Sort in place, stably (equal keys keep their order, as a click on the header does)."""
    if spec is not None:
        col, descending = spec
        tracks.sort(key=lambda t: sort_value(t, col, plays), reverse=descending)


@dataclass(frozen=True, slots=True)
class Shown:
    """What the model showed when a read began: ``generation`` counts its changes of rows or order."""

    generation: int
    tracks: list[Track]  # a copy of the model's rows, in order
    sort: SortSpec | None
    plays: Plays


@dataclass(frozen=True, slots=True)
class RowsPlan:
    """A read's rows, ready for ``LibraryModel.apply``."""

    generation: int  # of the Shown it was worked out against: apply redoes it when the model changed since
    tracks: list[Track]  # every row, in display order (the model's own objects where nothing changed)
    row_of: dict[TrackId, int]
    plays: Counter[TrackId] | None  # a full read's play counts (the model resets); None: keep the model's
    appended: list[Track] = field(default_factory=list)  # tracks the model lacks: appended first, as one block
    vanished: list[Track] = field(default_factory=list)  # the model's rows no longer read: removed last
    reorder: bool = False  # whether rows move (one layout change; vanished rows go last)
    changed: list[int] = field(default_factory=list)  # rows refreshed in place (only when nothing moves)


def plan_rows(shown: Shown, tracks: list[Track], plays: Plays | None = None) -> RowsPlan:
    """The rows for ``tracks`` (as read), and how to get there from ``shown``; ``plays`` for a full read.

    Tracks equal to shown ones keep the shown object, so the model's rows are not all replaced (and
    freed on the UI thread) by the read's copies."""
    fresh = {t.id: t for t in tracks}
    kept: list[Track] = []
    vanished: list[Track] = []
    changed: list[int] = []
    for row, old in enumerate(shown.tracks):
        new = fresh.get(old.id)
        if new is None:
            vanished.append(old)
        elif new == old:
            kept.append(old)
        else:
            kept.append(new)
            changed.append(row)
    known = {t.id for t in shown.tracks}
    appended = [t for t in tracks if t.id not in known]
    order = kept + appended
    sort_tracks(order, shown.sort, shown.plays if plays is None else plays)
    # Nothing moves when the kept rows stay where they are and the new ones sort after them all.
    reorder = bool(vanished) or any(a is not b for a, b in zip(order, kept, strict=False))
    return RowsPlan(
        generation=shown.generation,
        tracks=order,
        row_of={t.id: i for i, t in enumerate(order)},
        plays=None if plays is None else Counter(plays),
        appended=appended if reorder else order[len(kept) :],
        vanished=vanished,
        reorder=reorder,
        changed=[] if reorder else changed,
    )
