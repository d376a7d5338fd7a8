"""The library panel: the track table (every column sorts), the search box and the track count.

It shows the engine's tracks, read by a ``LibraryReader`` on its own worker thread (``reload``:
``engine.all_tracks()`` and ``engine.play_counts()`` take seconds at 100k tracks), looks single
tracks up (``engine.track()``), and reports what the listener asks for as signals: play, queue,
start a mix, never play.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QItemSelectionModel, QModelIndex, QPoint, Qt, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QStyle,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from player_plugin.engine import Engine
from player_plugin.models import Track, TrackId
from player_plugin.ui.library_model import COLUMNS, TRACK_ID_ROLE, LibraryFilter, LibraryModel
from player_plugin.ui.library_reader import LibraryReader

RELOAD_INTERVAL_S = 0.5  # at most this often the table reloads while a scan adds tracks
SEARCH_PLACEHOLDER = "Search title, artist, album, genre  (Ctrl+F)"
COLUMN_WIDTHS = (220, 150, 170, 110, 70, 56)  # px, in COLUMNS order
ROW_HEIGHT = 26  # px


class LibraryPanel(QWidget):
    play_requested = Signal(int)  # track id
    queue_requested = Signal(list, bool)  # track ids, next (else at the end)
    mix_requested = Signal(int)  # seed track id
    block_requested = Signal(list)  # track ids
    reloaded = Signal(int)  # rows, once a reload's rows show

    def __init__(self, engine: Engine, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._engine = engine
        self.last_reload = 0.0
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(6)
        head = QHBoxLayout()
        title = QLabel("Library")
        title.setObjectName("sectionTitle")
        self.library_count_label = QLabel("")
        self.library_count_label.setObjectName("dim")
        self.search_box = QLineEdit()
        self.search_box.setObjectName("searchBox")
        self.search_box.setPlaceholderText(SEARCH_PLACEHOLDER)
        self.search_box.setClearButtonEnabled(True)
        head.addWidget(title)
        head.addWidget(self.library_count_label)
        head.addStretch(1)
        head.addWidget(self.search_box, 2)
        lay.addLayout(head)

        self.library_model = LibraryModel(self)
        self.library_model.playing_icon = self.style().standardIcon(QStyle.StandardPixmap.SP_MediaPlay)
        self.library_proxy = LibraryFilter(self)
        self.library_proxy.setSourceModel(self.library_model)
        self.library_table = self._build_table()
        lay.addWidget(self.library_table, 1)
        self.search_box.textChanged.connect(self._on_search)
        self._reader = LibraryReader(engine, self.library_model, self._shown)

    def _build_table(self) -> QTableView:
        table = QTableView()
        table.setObjectName("libraryTable")
        table.setModel(self.library_proxy)
        table.setSortingEnabled(True)
        table.sortByColumn(1, Qt.SortOrder.AscendingOrder)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setAlternatingRowColors(True)
        table.setShowGrid(False)
        table.setWordWrap(False)
        table.verticalHeader().setVisible(False)
        table.verticalHeader().setDefaultSectionSize(ROW_HEIGHT)
        header = table.horizontalHeader()
        header.setHighlightSections(False)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        for col, width in enumerate(COLUMN_WIDTHS):
            table.setColumnWidth(col, width)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(COLUMNS.index("Duration"), QHeaderView.ResizeMode.Fixed)
        header.setSectionResizeMode(COLUMNS.index("Plays"), QHeaderView.ResizeMode.Fixed)
        table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        table.customContextMenuRequested.connect(self._menu)
        table.doubleClicked.connect(self._on_double_click)
        return table

    # -- what is shown ------------------------------------------------------------------------------

    def reload(self, full: bool = False) -> None:
        """Show the engine's tracks: all anew (with play counts) when ``full``, else merge new rows.

        Returns at once: the read runs on the reader's thread, ``reloaded`` says when the rows show.
        A request while a read runs makes one more read after it (full if any request was)."""
        self.last_reload = time.monotonic()
        self._reader.request(full)

    def reload_throttled(self) -> None:
        """Merge new rows, at most every RELOAD_INTERVAL_S (a scan reports every file)."""
        if time.monotonic() - self.last_reload >= RELOAD_INTERVAL_S:
            self.reload()

    @property
    def reloading(self) -> bool:
        """A reload's read runs or is asked for."""
        return self._reader.busy

    def when_reloaded(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` once the rows show the last reload asked for (at once when none is);
        never after ``shutdown``."""
        self._reader.when_idle(callback)

    def shutdown(self) -> None:
        """Read and show nothing more (the window is closing). Returns at once; safe twice."""
        self._reader.shutdown()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt's name
        self.shutdown()
        super().closeEvent(event)

    def _shown(self, rows: int) -> None:
        self._update_count()
        self.reloaded.emit(rows)

    def row_count(self) -> int:
        return self.library_model.rowCount()

    def track(self, track_id: TrackId) -> Track | None:
        return self.library_model.track(track_id) or self._engine.track(track_id)

    def show_playing(self, track: Track | None) -> None:
        self.library_model.set_playing(track.id if track is not None else None)

    def add_play(self, track_id: TrackId) -> None:
        self.library_model.add_play(track_id)

    def reset_plays(self) -> None:
        self.library_model.reset_plays()

    def _on_search(self, text: str) -> None:
        self.library_proxy.set_query(text)
        self._update_count()

    def _update_count(self) -> None:
        """Shows “N tracks”, or “n of N tracks” while a search shows a subset."""
        total = self.library_model.rowCount()
        noun = "track" if total == 1 else "tracks"
        if self.search_box.text().strip():
            self.library_count_label.setText(f"{self.library_proxy.rowCount()} of {total} {noun}")
        else:
            self.library_count_label.setText(f"{total} {noun}")

    # -- selection and requests ---------------------------------------------------------------------

    def selected_track_ids(self) -> list[TrackId]:
        rows = sorted({i.row() for i in self.library_table.selectionModel().selectedRows()})
        return [self.library_proxy.index(r, 0).data(TRACK_ID_ROLE) for r in rows]

    def select_track(self, track_id: TrackId) -> None:
        row = self.library_model.row_of(track_id)
        if row is None:
            return
        idx = self.library_proxy.mapFromSource(self.library_model.index(row, 0))
        self.library_table.selectionModel().select(
            idx, QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows
        )
        self.library_table.scrollTo(idx)

    def _on_double_click(self, index: QModelIndex) -> None:
        track_id = index.siblingAtColumn(0).data(TRACK_ID_ROLE)
        if track_id is not None:
            self.play_requested.emit(int(track_id))

    def _menu(self, pos: QPoint) -> None:
        ids = self.selected_track_ids()
        if not ids:
            return
        first = ids[0]
        menu = QMenu(self)
        menu.addAction("Play now", lambda: self.play_requested.emit(first))
        menu.addAction("Play next", lambda: self.queue_requested.emit(ids, True))
        menu.addAction("Add to Up Next", lambda: self.queue_requested.emit(ids, False))
        menu.addSeparator()
        menu.addAction("Start a mix from this track", lambda: self.mix_requested.emit(first))
        menu.addSeparator()
        menu.addAction("Never play this", lambda: self.block_requested.emit(ids))
        menu.exec(self.library_table.viewport().mapToGlobal(pos))
