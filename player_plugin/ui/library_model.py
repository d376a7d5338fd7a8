"""The library table: a ``QAbstractTableModel`` over the engine's tracks, plus a search proxy.

The model sorts itself (``sort``: one key per row); the proxy only filters. A reload's rows come
ready-made from the library reader's thread (``library_rows.plan_rows``) and ``apply`` shows them
with a few signals, so the UI thread does no per-row Python work for a 100k-track library.
"""

from __future__ import annotations

from collections import Counter

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QRegularExpression, QSortFilterProxyModel, Qt
from PySide6.QtGui import QFont, QIcon

from player_plugin.models import Track, TrackId
from player_plugin.ui.library_rows import (
    COLUMNS,
    DURATION_COLUMN,
    RowsPlan,
    Shown,
    display,
    format_duration,
    plan_rows,
    sort_tracks,
    sort_value,
)

__all__ = ["COLUMNS", "SEARCH_ROLE", "SORT_ROLE", "TRACK_ID_ROLE", "LibraryFilter", "LibraryModel", "format_duration"]

TRACK_ID_ROLE = Qt.ItemDataRole.UserRole + 1
SORT_ROLE = Qt.ItemDataRole.UserRole + 2
SEARCH_ROLE = Qt.ItemDataRole.UserRole + 3  # title, artist, album and genres, case-folded
RIGHT_ALIGNED_FROM = DURATION_COLUMN  # duration and plays are numbers


class LibraryModel(QAbstractTableModel):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._tracks: list[Track] = []
        self._row_of: dict[TrackId, int] = {}
        self._plays: Counter[TrackId] = Counter()
        self.playing: TrackId | None = None  # the now-playing row is bold, with playing_icon before its title
        self.playing_icon: QIcon | None = None
        self._sort: tuple[int, Qt.SortOrder] | None = None  # (column, order) the view asked for last
        self._generation = 0  # counts changes of rows or their order (see apply)

    # -- filling -------------------------------------------------------------------------------

    def set_tracks(self, tracks: list[Track], plays: Counter[TrackId] | None = None) -> None:
        """Show ``tracks`` anew, sorted here (the reader's ``apply`` does the sorting on its thread)."""
        self.beginResetModel()
        self._tracks = list(tracks)
        if plays is not None:
            self._plays = Counter(plays)
        sort_tracks(self._tracks, self._sort_spec(), self._plays)
        self._row_of = {t.id: i for i, t in enumerate(self._tracks)}
        self._generation += 1
        self.endResetModel()

    def shown(self) -> Shown:
        """A snapshot for ``library_rows.plan_rows`` (safe to hand to another thread)."""
        return Shown(self._generation, list(self._tracks), self._sort_spec(), Counter(self._plays))

    def merge(self, tracks: list[Track]) -> int:
        """Add tracks not shown yet, refresh changed ones, drop vanished ones; returns rows added."""
        plan = plan_rows(self.shown(), tracks)
        self.apply(plan)
        return len(plan.appended)

    def apply(self, plan: RowsPlan) -> None:
        """Show a read's rows. A full read (``plan.plays``) or an empty table resets; otherwise new rows
        are appended as one block, one layout change puts every row in its place (the selection
        follows) and vanished rows, moved last, are removed as one block."""
        if plan.generation != self._generation:  # rows changed since the read began (a sort click)
            plan = plan_rows(self.shown(), plan.tracks, plan.plays)
        if plan.plays is not None or not self._tracks:
            self.beginResetModel()
            self._tracks = plan.tracks
            self._row_of = plan.row_of
            if plan.plays is not None:
                self._plays = plan.plays
            self._generation += 1
            self.endResetModel()
            return
        if plan.appended:
            first = len(self._tracks)
            self.beginInsertRows(QModelIndex(), first, first + len(plan.appended) - 1)
            self._tracks.extend(plan.appended)
            self.endInsertRows()
        if plan.reorder:
            self._move_rows(plan)
        if plan.vanished:
            first = len(plan.tracks)
            self.beginRemoveRows(QModelIndex(), first, len(self._tracks) - 1)
            del self._tracks[first:]
            self.endRemoveRows()
        for row in plan.changed:
            self._tracks[row] = plan.tracks[row]
            self.dataChanged.emit(self.index(row, 0), self.index(row, len(COLUMNS) - 1))
        self._row_of = plan.row_of
        self._generation += 1

    def _move_rows(self, plan: RowsPlan) -> None:
        """One layout change to ``plan.tracks`` then ``plan.vanished``; persistent indexes (the
        selection, the current row) follow their tracks."""
        self.layoutAboutToBeChanged.emit()
        persistent = self.persistentIndexList()
        ids = [self._tracks[i.row()].id for i in persistent]
        self._tracks = plan.tracks + plan.vanished
        tail = {t.id: len(plan.tracks) + i for i, t in enumerate(plan.vanished)}
        rows = [plan.row_of[tid] if tid in plan.row_of else tail[tid] for tid in ids]
        self.changePersistentIndexList(
            persistent, [self.index(row, i.column()) for row, i in zip(rows, persistent, strict=True)]
        )
        self.layoutChanged.emit()

    # -- sorting: here, once per click, with one key per row (the proxy sorting 100k rows called
    # data() 1.76 million times from C++: 6.6 s of a 100k-track library's start) ------------------

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if not 0 <= column < len(COLUMNS):
            return
        self._sort = (column, order)
        self.layoutAboutToBeChanged.emit()
        persistent = self.persistentIndexList()
        ids = [self._tracks[i.row()].id for i in persistent]
        sort_tracks(self._tracks, self._sort_spec(), self._plays)
        self._row_of = {t.id: i for i, t in enumerate(self._tracks)}
        self._generation += 1
        self.changePersistentIndexList(
            persistent, [self.index(self._row_of[tid], i.column()) for tid, i in zip(ids, persistent, strict=True)]
        )
        self.layoutChanged.emit()

    def _sort_spec(self) -> tuple[int, bool] | None:
        if self._sort is None:
            return None
        return self._sort[0], self._sort[1] == Qt.SortOrder.DescendingOrder

    def sort_value(self, t: Track, col: int):
        """What a column sorts by (also the data of SORT_ROLE)."""
        return sort_value(t, col, self._plays)

    def add_play(self, track_id: TrackId) -> None:
        self._plays[track_id] += 1
        row = self._row_of.get(track_id)
        if row is not None:
            idx = self.index(row, COLUMNS.index("Plays"))
            self.dataChanged.emit(idx, idx)

    def set_playing(self, track_id: TrackId | None) -> None:
        """Mark the now-playing row (None: nothing plays)."""
        before, self.playing = self.playing, track_id
        for tid in {before, track_id} - {None}:
            row = self._row_of.get(tid)
            if row is not None:
                self.dataChanged.emit(self.index(row, 0), self.index(row, len(COLUMNS) - 1))

    def reset_plays(self) -> None:
        self.beginResetModel()
        self._plays.clear()
        self.endResetModel()

    # -- lookups -------------------------------------------------------------------------------

    def track(self, track_id: TrackId) -> Track | None:
        row = self._row_of.get(track_id)
        return self._tracks[row] if row is not None else None

    def track_at(self, row: int) -> Track:
        return self._tracks[row]

    def row_of(self, track_id: TrackId) -> int | None:
        return self._row_of.get(track_id)

    def plays(self, track_id: TrackId) -> int:
        return self._plays[track_id]

    def tracks(self) -> list[Track]:
        return list(self._tracks)

    # -- Qt model --------------------------------------------------------------------------------

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: B008 - Qt signature
        return 0 if parent.isValid() else len(self._tracks)

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: B008 - Qt signature
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        if (
            orientation == Qt.Orientation.Horizontal
            and role == Qt.ItemDataRole.TextAlignmentRole
            and section >= RIGHT_ALIGNED_FROM
        ):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        t = self._tracks[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(t, col)
        if role == SORT_ROLE:
            return self.sort_value(t, col)
        if role == SEARCH_ROLE:
            tags = t.tags
            return " ".join(filter(None, (tags.title, tags.artist, tags.album or "", " ".join(tags.genres)))).casefold()
        if role == TRACK_ID_ROLE:
            return t.id
        if role == Qt.ItemDataRole.TextAlignmentRole and col >= RIGHT_ALIGNED_FROM:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole:
            return t.path
        if role == Qt.ItemDataRole.FontRole:
            playing, untagged = t.id == self.playing, col == 1 and not t.tags.artist
            if playing or untagged:
                font = QFont()
                font.setBold(playing)
                font.setItalic(untagged)  # the file name stands in for a missing artist tag
                return font
            return None
        if role == Qt.ItemDataRole.DecorationRole and col == 0 and t.id == self.playing:
            return self.playing_icon
        return None

    def _display(self, t: Track, col: int) -> str:
        return display(t, col, self._plays)


class LibraryFilter(QSortFilterProxyModel):
    """Search: every word must appear in title, artist, album or genre (case-blind).

    The words become one regular expression over SEARCH_ROLE (already case-folded), one lookahead
    per word, so Qt's own ``filterAcceptsRow`` does the filtering: a Python override was called for
    every row on each reset or layout change (about 50 ms at 100k rows, even with no search)."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setSortRole(SORT_ROLE)
        self.setSortCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.setFilterRole(SEARCH_ROLE)

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """The source model sorts (LibraryModel.sort); the proxy keeps its order and only filters."""
        self.sourceModel().sort(column, order)

    def set_query(self, text: str) -> None:
        self.setFilterRegularExpression(search_pattern(text))


def search_pattern(text: str) -> QRegularExpression:
    """Matches a case-folded text that holds every word of ``text`` (an empty pattern: everything)."""
    words = [QRegularExpression.escape(w.casefold()) for w in text.split()]
    if not words:
        return QRegularExpression()
    lookaheads = "".join(f"(?=.*{w})" for w in words)
    return QRegularExpression(f"^{lookaheads}", QRegularExpression.PatternOption.DotMatchesEverythingOption)
