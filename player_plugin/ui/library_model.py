"""The library table: a ``QAbstractTableModel`` over the engine's tracks, plus a search proxy."""

from __future__ import annotations

from collections import Counter

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QSortFilterProxyModel, Qt
from PySide6.QtGui import QFont, QIcon

from player_plugin.models import Track, TrackId
from player_plugin.ui.text import artist_or_file

COLUMNS = ("Title", "Artist", "Album", "Genre", "Duration", "Plays")
TRACK_ID_ROLE = Qt.ItemDataRole.UserRole + 1
SORT_ROLE = Qt.ItemDataRole.UserRole + 2
SEARCH_ROLE = Qt.ItemDataRole.UserRole + 3


def format_duration(seconds: float) -> str:
    s = int(round(seconds or 0))
    h, rest = divmod(s, 3600)
    m, sec = divmod(rest, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m}:{sec:02d}"


class LibraryModel(QAbstractTableModel):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._tracks: list[Track] = []
        self._row_of: dict[TrackId, int] = {}
        self._plays: Counter[TrackId] = Counter()
        self.playing: TrackId | None = None  # the now-playing row is bold, with playing_icon before its title
        self.playing_icon: QIcon | None = None
        self._sort: tuple[int, Qt.SortOrder] | None = None  # (column, order) the view asked for last

    # -- filling -------------------------------------------------------------------------------

    def set_tracks(self, tracks: list[Track], plays: Counter[TrackId] | None = None) -> None:
        self.beginResetModel()
        self._tracks = list(tracks)
        if plays is not None:
            self._plays = Counter(plays)
        if self._sort is not None:
            self._tracks.sort(key=self._key(self._sort[0]), reverse=self._sort[1] == Qt.SortOrder.DescendingOrder)
        self._row_of = {t.id: i for i, t in enumerate(self._tracks)}
        self.endResetModel()

    # -- sorting: here, once per click, with one key per row (the proxy sorting 100k rows called
    # data() 1.76 million times from C++: 6.6 s of a 100k-track library's start) ------------------

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if not 0 <= column < len(COLUMNS):
            return
        self._sort = (column, order)
        self.layoutAboutToBeChanged.emit()
        persistent = self.persistentIndexList()
        ids = [self._tracks[i.row()].id for i in persistent]
        self._tracks.sort(key=self._key(column), reverse=order == Qt.SortOrder.DescendingOrder)
        self._row_of = {t.id: i for i, t in enumerate(self._tracks)}
        self.changePersistentIndexList(
            persistent, [self.index(self._row_of[tid], i.column()) for tid, i in zip(ids, persistent, strict=True)]
        )
        self.layoutChanged.emit()

    def _key(self, col: int):
        return lambda t: self.sort_value(t, col)

    def sort_value(self, t: Track, col: int):
        """What a column sorts by (also the data of SORT_ROLE)."""
        if col == 4:
            return float(t.tags.duration_s)
        if col == 5:
            return self._plays[t.id]
        if col == 2:  # album order: album, disc, track number
            return f"{(t.tags.album or '').casefold()}\x00{t.tags.disc_number or 0:03d}{t.tags.track_number or 0:04d}"
        return (self._display(t, col) or "").casefold()

    def merge(self, tracks: list[Track]) -> int:
        """Add tracks not shown yet, refresh changed ones, drop vanished ones; returns rows added."""
        fresh = {t.id: t for t in tracks}
        gone = [i for i, t in enumerate(self._tracks) if t.id not in fresh]
        for row in reversed(gone):
            self.beginRemoveRows(QModelIndex(), row, row)
            del self._tracks[row]
            self.endRemoveRows()
        if gone:
            self._row_of = {t.id: i for i, t in enumerate(self._tracks)}
        for row, old in enumerate(self._tracks):
            new = fresh[old.id]
            if new != old:
                self._tracks[row] = new
                self.dataChanged.emit(self.index(row, 0), self.index(row, len(COLUMNS) - 1))
        added = [t for t in tracks if t.id not in self._row_of]
        if added:
            first = len(self._tracks)
            self.beginInsertRows(QModelIndex(), first, first + len(added) - 1)
            for t in added:
                self._row_of[t.id] = len(self._tracks)
                self._tracks.append(t)
            self.endInsertRows()
            if self._sort is not None:
                self.sort(*self._sort)  # new rows in their place
        return len(added)

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
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.TextAlignmentRole and section >= 4:
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
            return " ".join(filter(None, (tags.title, tags.artist, tags.album or "", " ".join(tags.genres))))
        if role == TRACK_ID_ROLE:
            return t.id
        if role == Qt.ItemDataRole.TextAlignmentRole and col >= 4:
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
        tags = t.tags
        if col == 0:
            return tags.title
        if col == 1:
            return artist_or_file(t)
        if col == 2:
            return tags.album or ""
        if col == 3:
            return "; ".join(tags.genres)
        if col == 4:
            return format_duration(tags.duration_s)
        return str(self._plays[t.id]) if self._plays[t.id] else ""


class LibraryFilter(QSortFilterProxyModel):
    """Search: every word must appear in title, artist, album or genre (case-blind)."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._words: list[str] = []
        self.setSortRole(SORT_ROLE)
        self.setSortCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """The source model sorts (LibraryModel.sort); the proxy keeps its order and only filters."""
        self.sourceModel().sort(column, order)

    def set_query(self, text: str) -> None:
        words = [w.casefold() for w in text.split()]
        if hasattr(self, "endFilterChange"):  # Qt >= 6.9
            self.beginFilterChange()
            self._words = words
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)
        else:  # pragma: no cover - older Qt
            self._words = words
            self.invalidateFilter()

    def filterAcceptsRow(self, source_row: int, source_parent) -> bool:
        if not self._words:
            return True
        hay = self.sourceModel().index(source_row, 0, source_parent).data(SEARCH_ROLE) or ""
        hay = hay.casefold()
        return all(w in hay for w in self._words)
