"""The main window: library, now playing, Up Next with its prompt, background scan/embed.

Threading: the UI thread reads tracks for display; everything that changes the listening state
(events, the queue, the prompt, recommendations) runs in order on one worker (``queue_runner``),
and scanning/embedding on another (``library_runner``). Each worker thread has its own SQLite
connection (``Database`` is per thread); results come back by queued signals.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QItemSelectionModel, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QColor, QFont, QKeySequence, QPainter, QPixmap, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMenu,
    QProgressBar,
    QPushButton,
    QSlider,
    QSplitter,
    QStyle,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from player_plugin import paths
from player_plugin.engine import Engine
from player_plugin.models import EventKind, QueueEntry, Track, TrackId
from player_plugin.ui.cover import find_cover
from player_plugin.ui.engine_bridge import EngineSignals
from player_plugin.ui.fonts import chinese_font_families, missing_cjk_font_warning
from player_plugin.ui.library_model import COLUMNS, TRACK_ID_ROLE, LibraryFilter, LibraryModel, format_duration
from player_plugin.ui.playback import Playback
from player_plugin.ui.playlist import write_m3u8
from player_plugin.ui.queue_view import QueueView
from player_plugin.ui.style import STYLE
from player_plugin.ui.text import artist_or_file, friendly_provider, window_title
from player_plugin.ui.workers import Job, JobRunner

log = logging.getLogger(__name__)

RELOAD_INTERVAL_S = 0.5  # at most this often the library table reloads during a scan
# Text the now-playing labels are sized for once, so a CJK title (drawn with a taller fallback font)
# does not make the header jump.
HEIGHT_SAMPLE = "Ág 雨夜的信 Ág"
LINE_EDIT_TEXT_PAD = 36  # a line edit's frame, padding and clear button around its placeholder (px)
SEARCH_PLACEHOLDER = "Search title, artist, album, genre  (Ctrl+F)"
PROMPT_PLACEHOLDER = "Describe a mood: “rainy night, no vocals”"


class MainWindow(QMainWindow):
    # Emitted after the engine stored an event (kind, track id): tests and MPRIS listen.
    event_recorded = Signal(str, int)
    queue_changed = Signal(list)  # list[QueueEntry]
    now_playing_changed = Signal(object)  # Track | None
    scan_finished = Signal(object)  # ScanReport
    embed_finished = Signal(object)  # EmbedReport | Exception
    library_reloaded = Signal(int)  # rows

    def __init__(
        self,
        engine: Engine,
        *,
        scan_demo: bool = True,
        silent_audio: bool = False,
        mpris: bool = True,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.engine = engine
        self.scan_demo = scan_demo
        self._closed = False
        self._exit_when_idle = False
        self.current: Track | None = None  # the track loaded in the player (the engine knows what plays)
        self._complete_sent = False  # the engine was told the current track got far enough
        self._queue: list[QueueEntry] = []
        self._fill_pending = False
        self._advance_pending = False
        self.recommend_error: str | None = None
        self._last_reload = 0.0
        self._scan_job: Job | None = None
        self._embed_job: Job | None = None
        self._slider_held = False
        self._sticky_status = ""
        self.cover_bytes: bytes | None = None

        self.library_runner = JobRunner("library-worker", on_thread_exit=engine.release_thread, parent=self)
        self.queue_runner = JobRunner("queue-worker", on_thread_exit=engine.release_thread, parent=self)
        self.engine_signals = EngineSignals(engine, self)
        self.engine_signals.queue_changed.connect(self._on_engine_queue)

        self._pending_play_source: str | None = None  # loaded paused: PLAY is recorded when it starts
        self.font_warning: str | None = None
        self.setWindowTitle(window_title(None))
        self.resize(1280, 780)
        self.setMinimumSize(QSize(900, 560))
        self.playback = Playback(self, silent=silent_audio)
        self._build_ui()
        self._build_actions()
        self._connect_playback()
        self.mpris = None
        if mpris:
            from player_plugin.ui.mpris import start_mpris

            self.mpris = start_mpris(self, self.engine_signals)
        if self.playback.note:
            self.status_message(self.playback.note, sticky=True)
            self.audio_label.setText("⚠ " + self.playback.note.split(":")[0])
            self.audio_label.setToolTip(self.playback.note)
            self.audio_label.setVisible(True)
        self.check_fonts()

    # ============================================================================================
    # construction
    # ============================================================================================

    def _build_ui(self) -> None:
        central = QWidget(self)
        root = QVBoxLayout(central)
        root.setContentsMargins(12, 10, 12, 6)
        root.setSpacing(10)
        root.addWidget(self._build_now_playing())

        splitter = QSplitter(Qt.Orientation.Horizontal, central)
        splitter.setChildrenCollapsible(False)
        splitter.addWidget(self._build_library())
        splitter.addWidget(self._build_up_next())
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        splitter.setSizes([760, 500])
        self.splitter = splitter
        root.addWidget(splitter, 1)
        self.setCentralWidget(central)

        sb = self.statusBar()
        self.status_label = QLabel("")
        self.status_label.setObjectName("statusLabel")
        self.progress = QProgressBar()
        self.progress.setObjectName("workProgress")
        self.progress.setFixedWidth(360)
        self.progress.setTextVisible(True)
        self.progress.setVisible(False)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("cancelWork")
        self.cancel_button.setVisible(False)
        self.cancel_button.clicked.connect(self.cancel_library_work)
        self.audio_label = QLabel("")
        self.audio_label.setObjectName("audioNote")
        self.audio_label.setVisible(False)
        sb.addWidget(self.status_label, 1)
        self.font_label = QLabel("")
        self.font_label.setObjectName("fontNote")
        self.font_label.setVisible(False)
        sb.addPermanentWidget(self.font_label)
        sb.addPermanentWidget(self.audio_label)
        sb.addPermanentWidget(self.progress)
        sb.addPermanentWidget(self.cancel_button)
        self.setStyleSheet(STYLE)
        self._fix_now_playing_height()
        self._fit_placeholders()

    def _fix_now_playing_height(self) -> None:
        """Each now-playing line gets the height a mixed Latin/CJK line needs, measured once."""
        for label in (self.title_label, self.artist_label, self.album_label):
            label.ensurePolished()
            text = label.text()
            label.setText(HEIGHT_SAMPLE)
            height = label.sizeHint().height()
            label.setText(text)
            label.setFixedHeight(height)

    def _fit_placeholders(self) -> None:
        for edit in (self.search_box, self.prompt_box):
            edit.ensurePolished()
            edit.setMinimumWidth(edit.fontMetrics().horizontalAdvance(edit.placeholderText()) + LINE_EDIT_TEXT_PAD)

    def check_fonts(self, chinese_families: list[str] | None = None) -> str | None:
        """Warn once (status bar and log) when no font can draw Chinese; returns the warning."""
        if self.font_warning is not None:
            return self.font_warning
        families = chinese_font_families() if chinese_families is None else chinese_families
        warning = missing_cjk_font_warning(families)
        if warning is not None:
            self.font_warning = warning
            log.warning(warning)
            self.status_message(warning, sticky=True)
            self.font_label.setText("⚠ No Chinese font")
            self.font_label.setToolTip(warning)
            self.font_label.setVisible(True)
        return warning

    def _build_now_playing(self) -> QWidget:
        frame = QFrame(self)
        frame.setObjectName("nowPlaying")
        self.now_playing_frame = frame
        lay = QHBoxLayout(frame)
        lay.setContentsMargins(12, 10, 14, 10)
        lay.setSpacing(14)

        self.cover_label = QLabel()
        self.cover_label.setObjectName("cover")
        self.cover_label.setFixedSize(96, 96)
        self.cover_label.setPixmap(_placeholder_cover("", 96))
        lay.addWidget(self.cover_label)

        info = QVBoxLayout()
        info.setSpacing(2)
        self.title_label = QLabel("Nothing playing")
        self.title_label.setObjectName("npTitle")
        self.artist_label = QLabel("Double-click a track, or press Space to start Up Next")
        self.artist_label.setObjectName("npArtist")
        self.album_label = QLabel("")
        self.album_label.setObjectName("npAlbum")
        for lbl in (self.title_label, self.artist_label, self.album_label):
            lbl.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            lbl.setMinimumWidth(80)
        info.addStretch(1)
        info.addWidget(self.title_label)
        info.addWidget(self.artist_label)
        info.addWidget(self.album_label)

        controls = QHBoxLayout()
        controls.setSpacing(6)
        st = self.style()
        self.prev_button = self._tool(
            st.standardIcon(QStyle.StandardPixmap.SP_MediaSkipBackward), "Previous (Ctrl+Left)"
        )
        self.play_button = self._tool(st.standardIcon(QStyle.StandardPixmap.SP_MediaPlay), "Play/Pause (Space)")
        self.play_button.setObjectName("playButton")
        self.play_button.setIconSize(QSize(26, 26))
        self.next_button = self._tool(st.standardIcon(QStyle.StandardPixmap.SP_MediaSkipForward), "Next (Ctrl+Right)")
        self.elapsed_label = QLabel("0:00")
        self.elapsed_label.setObjectName("timeLabel")
        self.position_slider = QSlider(Qt.Orientation.Horizontal)
        self.position_slider.setObjectName("positionSlider")
        self.position_slider.setRange(0, 0)
        self.total_label = QLabel("0:00")
        self.total_label.setObjectName("timeLabel")
        for w in (self.prev_button, self.play_button, self.next_button):
            controls.addWidget(w)
        controls.addSpacing(8)
        controls.addWidget(self.elapsed_label)
        controls.addWidget(self.position_slider, 1)
        controls.addWidget(self.total_label)
        info.addSpacing(6)
        info.addLayout(controls)
        info.addStretch(1)
        lay.addLayout(info, 1)

        side = QVBoxLayout()
        side.setSpacing(6)
        feedback = QHBoxLayout()
        self.like_button = QPushButton("♥  Like")
        self.like_button.setObjectName("likeButton")
        self.like_button.setToolTip("Like this track (Ctrl+L): more like it in Up Next")
        self.like_button.setCheckable(True)
        self.dislike_button = QPushButton("✕  Not for me")
        self.dislike_button.setObjectName("dislikeButton")
        self.dislike_button.setToolTip("Dislike (Ctrl+D): skips it and steers Up Next away")
        feedback.addWidget(self.like_button)
        feedback.addWidget(self.dislike_button)
        side.addStretch(1)
        side.addLayout(feedback)
        vol = QHBoxLayout()
        vol_icon = QLabel()
        vol_icon.setPixmap(st.standardIcon(QStyle.StandardPixmap.SP_MediaVolume).pixmap(18, 18))
        self.volume_slider = QSlider(Qt.Orientation.Horizontal)
        self.volume_slider.setObjectName("volumeSlider")
        self.volume_slider.setRange(0, 100)
        self.volume_slider.setValue(int(self.playback.volume() * 100))
        self.volume_slider.setFixedWidth(150)
        self.volume_slider.setToolTip("Volume")
        vol.addStretch(1)
        vol.addWidget(vol_icon)
        vol.addWidget(self.volume_slider)
        side.addLayout(vol)
        side.addStretch(1)
        lay.addLayout(side)

        self.prev_button.clicked.connect(self.previous_track)
        self.play_button.clicked.connect(self.toggle_play)
        self.next_button.clicked.connect(self.next_track)
        self.like_button.clicked.connect(lambda: self.like())
        self.dislike_button.clicked.connect(lambda: self.dislike())
        self.volume_slider.valueChanged.connect(lambda v: self.playback.set_volume(v / 100))
        self.position_slider.sliderPressed.connect(lambda: setattr(self, "_slider_held", True))
        self.position_slider.sliderReleased.connect(self._on_slider_released)
        return frame

    def _tool(self, icon, tip: str) -> QToolButton:
        b = QToolButton()
        b.setIcon(icon)
        b.setIconSize(QSize(20, 20))
        b.setToolTip(tip)
        b.setAutoRaise(True)
        return b

    def _build_library(self) -> QWidget:
        box = QWidget(self)
        lay = QVBoxLayout(box)
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
        table.verticalHeader().setDefaultSectionSize(26)
        header = table.horizontalHeader()
        header.setHighlightSections(False)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        for col, width in enumerate((220, 150, 170, 110, 70, 56)):
            table.setColumnWidth(col, width)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(COLUMNS.index("Duration"), QHeaderView.ResizeMode.Fixed)
        header.setSectionResizeMode(COLUMNS.index("Plays"), QHeaderView.ResizeMode.Fixed)
        table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        table.customContextMenuRequested.connect(self._library_menu)
        table.doubleClicked.connect(self._on_library_double_click)
        self.library_table = table
        lay.addWidget(table, 1)
        self.search_box.textChanged.connect(self._on_search)
        return box

    def _build_up_next(self) -> QWidget:
        box = QFrame(self)
        box.setObjectName("upNextPanel")
        lay = QVBoxLayout(box)
        lay.setContentsMargins(10, 8, 10, 10)
        lay.setSpacing(8)

        head = QHBoxLayout()
        title = QLabel("Up Next")
        title.setObjectName("sectionTitle")
        self.queue_count_label = QLabel("")
        self.queue_count_label.setObjectName("dim")
        self.autofill_check = QCheckBox("Auto-fill")
        self.autofill_check.setObjectName("autofillSwitch")
        self.autofill_check.setToolTip("Keep Up Next topped up with recommendations")
        self.autofill_check.setChecked(True)
        self.refill_button = QPushButton("Refill")
        self.refill_button.setObjectName("refillButton")
        self.refill_button.setToolTip("Replace the recommended entries with fresh ones (your own additions stay)")
        head.addWidget(title)
        head.addWidget(self.queue_count_label)
        head.addStretch(1)
        head.addWidget(self.autofill_check)
        head.addWidget(self.refill_button)
        lay.addLayout(head)

        prompt_row = QHBoxLayout()
        self.prompt_box = QLineEdit()
        self.prompt_box.setObjectName("promptBox")
        self.prompt_box.setPlaceholderText(PROMPT_PLACEHOLDER)
        self.prompt_box.setToolTip(
            "Describe a mood in any language, press Enter to steer Up Next; Clear to go back to your taste (Ctrl+P)"
        )
        self.prompt_clear = QPushButton("Clear")
        self.prompt_clear.setObjectName("promptClear")
        self.prompt_clear.setEnabled(False)
        prompt_row.addWidget(self.prompt_box, 1)
        prompt_row.addWidget(self.prompt_clear)
        lay.addLayout(prompt_row)
        self.prompt_label = QLabel("")
        self.prompt_label.setObjectName("promptLabel")
        self.prompt_label.setWordWrap(True)
        self.prompt_label.setVisible(False)
        lay.addWidget(self.prompt_label)

        self.queue_view = QueueView(box)
        lay.addWidget(self.queue_view, 1)
        self.queue_notice = QLabel("")
        self.queue_notice.setObjectName("queueNotice")
        self.queue_notice.setWordWrap(True)
        self.queue_notice.setVisible(False)
        lay.addWidget(self.queue_notice)

        foot = QHBoxLayout()
        self.remove_button = QPushButton("Remove")
        self.remove_button.setObjectName("removeButton")
        self.remove_button.setToolTip("Remove the selected entry (Delete); counts as “not now” feedback")
        self.save_button = QPushButton("Save as playlist…")
        self.save_button.setObjectName("savePlaylist")
        foot.addWidget(self.remove_button)
        foot.addStretch(1)
        foot.addWidget(self.save_button)
        lay.addLayout(foot)

        self.prompt_box.returnPressed.connect(lambda: self.set_prompt(self.prompt_box.text()))
        self.prompt_clear.clicked.connect(lambda: self.set_prompt(None))
        self.refill_button.clicked.connect(lambda: self.refill())
        self.autofill_check.toggled.connect(self._on_autofill_toggled)
        self.remove_button.clicked.connect(lambda: self.remove_from_queue(self.queue_view.currentRow()))
        self.save_button.clicked.connect(lambda: self.save_playlist())
        self.queue_view.moved.connect(self.move_in_queue)
        self.queue_view.remove_requested.connect(self.remove_from_queue)
        self.queue_view.activated_index.connect(self.play_from_queue)
        play_now = QAction("Play now", self.queue_view)
        play_now.triggered.connect(lambda: self.play_from_queue(self.queue_view.currentRow()))
        remove = QAction("Remove from Up Next", self.queue_view)
        remove.triggered.connect(lambda: self.remove_from_queue(self.queue_view.currentRow()))
        self.queue_view.addActions([play_now, remove])
        return box

    def _build_actions(self) -> None:
        mb = self.menuBar()
        file_menu = mb.addMenu("&File")
        self._add_action(file_menu, "Add music folder…", self.add_folder, QKeySequence("Ctrl+O"))
        self._add_action(file_menu, "Rescan library", lambda: self.start_scan(), QKeySequence("F5"))
        self._add_action(file_menu, "Save Up Next as playlist…", lambda: self.save_playlist(), QKeySequence("Ctrl+S"))
        file_menu.addSeparator()
        self._add_action(file_menu, "Settings…", self.open_settings, QKeySequence("Ctrl+,"))
        file_menu.addSeparator()
        self._add_action(file_menu, "Quit", self.close, QKeySequence("Ctrl+Q"))
        play_menu = mb.addMenu("&Playback")
        self._add_action(play_menu, "Play / pause", self.toggle_play, None)
        self._add_action(play_menu, "Next", self.next_track, QKeySequence("Ctrl+Right"))
        self._add_action(play_menu, "Previous", self.previous_track, QKeySequence("Ctrl+Left"))
        play_menu.addSeparator()
        self._add_action(play_menu, "Like", lambda: self.like(), QKeySequence("Ctrl+L"))
        self._add_action(play_menu, "Dislike", lambda: self.dislike(), QKeySequence("Ctrl+D"))
        play_menu.addSeparator()
        self._add_action(play_menu, "Refill Up Next", lambda: self.refill(), QKeySequence("Ctrl+R"))
        # Space must still type spaces in the search and prompt boxes: line edits claim it first.
        space = QShortcut(QKeySequence(Qt.Key.Key_Space), self)
        space.activated.connect(self.toggle_play)
        for key, slot in (
            (Qt.Key.Key_MediaPlay, self.play),
            (Qt.Key.Key_MediaPause, self.playback.pause),
            (Qt.Key.Key_MediaTogglePlayPause, self.toggle_play),
            (Qt.Key.Key_MediaNext, self.next_track),
            (Qt.Key.Key_MediaPrevious, self.previous_track),
        ):
            QShortcut(QKeySequence(key), self).activated.connect(slot)
        QShortcut(QKeySequence("Ctrl+F"), self).activated.connect(lambda: self.search_box.setFocus())
        QShortcut(QKeySequence("Ctrl+P"), self).activated.connect(lambda: self.prompt_box.setFocus())

    def _add_action(self, menu: QMenu, text: str, slot: Callable, key: QKeySequence | None) -> QAction:
        act = QAction(text, self)
        if key is not None:
            act.setShortcut(key)
        act.triggered.connect(lambda _checked=False: slot())
        menu.addAction(act)
        self.addAction(act)
        return act

    def _connect_playback(self) -> None:
        pb = self.playback
        pb.position_changed.connect(self._on_position)
        pb.duration_changed.connect(self._on_duration)
        pb.playing_changed.connect(self._on_playing_changed)
        pb.ended.connect(self._on_ended)
        pb.error.connect(lambda msg: self.status_message(f"Playback: {msg}"))

    # ============================================================================================
    # start-up and shutdown
    # ============================================================================================

    def start(self) -> None:
        """Show what is stored, then bring the library up to date in the background."""
        self.autofill_check.blockSignals(True)
        self.autofill_check.setChecked(self.engine.autofill)
        self.autofill_check.blockSignals(False)
        self.reload_library(full=True)
        prompt = self.engine.prompt
        if prompt:
            self.prompt_box.setText(prompt)
            self._show_prompt(prompt)
        self._queue_job("load queue", lambda: None)
        roots = self.engine.roots()
        if not roots and self.scan_demo:
            demo = paths.demo_library_dir()
            self.status_message(f"No music folders yet: opening the demo library ({demo})")
            self.start_scan([str(demo)])
        elif roots:
            self.start_scan()
        else:
            self.start_embed()

    def exit_when_idle(self) -> None:
        """Quit as soon as the window has been shown and the event loop is idle (start-up benchmark)."""
        self._exit_when_idle = True

        def ready() -> None:
            print(f"READY {time.perf_counter():.6f}", flush=True)
            self.close()

        QTimer.singleShot(0, ready)

    def closeEvent(self, event) -> None:
        self.shutdown()
        super().closeEvent(event)

    def shutdown(self) -> None:
        """Cancel and wait for the workers, stop playback. Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        self.library_runner.cancel_all()
        self.queue_runner.stop()
        self.library_runner.stop()
        self.playback.shutdown()
        self.engine_signals.close()
        if self.mpris is not None:
            self.mpris.close()

    # ============================================================================================
    # status bar
    # ============================================================================================

    def status_message(self, text: str, sticky: bool = False) -> None:
        self.status_label.setText(text)
        self.status_label.setToolTip(text)
        if sticky:
            self._sticky_status = text

    def _show_work(self, text: str, done: int | None, total: int | None) -> None:
        self.progress.setVisible(True)
        self.cancel_button.setVisible(True)
        if total is None or total <= 0:
            self.progress.setRange(0, 0)
        else:
            self.progress.setRange(0, total)
            self.progress.setValue(min(done or 0, total))
        self.progress.setFormat(f"%v / %m  {text}" if total else text)
        self.progress.setToolTip(text)

    def _hide_work(self) -> None:
        if self.library_runner.busy and self._scan_job is not None and not self._scan_job.finished:
            return
        self.progress.setVisible(False)
        self.cancel_button.setVisible(False)

    def cancel_library_work(self) -> None:
        self.library_runner.cancel_all()
        self.status_message("Cancelling…")

    # ============================================================================================
    # library: scan, embed, table
    # ============================================================================================

    def start_scan(self, roots: list[str] | None = None) -> Job | None:
        if self._closed:
            return None
        if self._scan_job is not None and not self._scan_job.finished:
            self.status_message("A scan is already running")
            return None
        engine = self.engine

        def work(job: Job):
            return engine.scan(roots, progress=job.progress, cancel=job.cancel)

        self._show_work("Looking for music…", 0, None)
        self._scan_job = self.library_runner.submit(
            work, "scan", on_done=self._on_scan_done, on_error=self._on_scan_error, on_progress=self._on_scan_progress
        )
        return self._scan_job

    def _on_scan_progress(self, p) -> None:
        name = os.path.basename(p.current) if p.current else ""
        if p.phase == "walk":
            self._show_work(f"Looking for music… {p.seen} files  {name}", 0, None)
        elif p.phase in ("read", "prune", "done"):
            label = {"read": "Scanning", "prune": "Tidying", "done": "Scanned"}[p.phase]
            self._show_work(f"{label}  {name}".rstrip(), p.done, p.total or p.seen)
        now = time.monotonic()
        if (p.added or p.updated) and now - self._last_reload >= RELOAD_INTERVAL_S:
            self.reload_library()

    def _on_scan_done(self, report) -> None:
        self.reload_library()
        parts = [f"{report.added} new", f"{report.updated} updated"]
        if report.removed:
            parts.append(f"{report.removed} removed")
        if report.failed:
            parts.append(f"{report.failed} unreadable")
        verb = "Scan cancelled" if report.cancelled else "Library scanned"
        self.status_message(f"{verb}: {', '.join(parts)} ({self.library_model.rowCount()} tracks)")
        self.scan_finished.emit(report)
        if not report.cancelled and not self._closed:
            self.start_embed()
        else:
            self._hide_work()

    def _on_scan_error(self, exc: BaseException) -> None:
        self._hide_work()
        self.status_message(f"Scan failed: {exc}")
        self.scan_finished.emit(exc)

    def start_embed(self) -> Job | None:
        if self._closed:
            return None
        engine = self.engine

        def work(job: Job):
            return engine.embed(progress=job.progress, cancel=job.cancel)

        self._embed_job = self.library_runner.submit(
            work,
            "embed",
            on_done=self._on_embed_done,
            on_error=self._on_embed_error,
            on_progress=self._on_embed_progress,
        )
        return self._embed_job

    def _on_embed_progress(self, p) -> None:
        if p.total:
            self._show_work(f"Understanding tracks  {p.current}".rstrip(), p.done, p.total)

    def _on_embed_done(self, report) -> None:
        self.progress.setVisible(False)
        self.cancel_button.setVisible(False)
        self.recommend_error = None
        if report.embedded:
            self.status_message(
                f"Ready: {report.embedded} tracks understood with {report.model_id} "
                f"on the {friendly_provider(report.provider)}"
            )
        elif not self._sticky_status:
            self.status_message(f"Ready: {self.library_model.rowCount()} tracks")
        self.embed_finished.emit(report)
        if not report.cancelled and not self._queue and self.autofill_check.isChecked():
            self.fill_queue()

    def _on_embed_error(self, exc: BaseException) -> None:
        self.progress.setVisible(False)
        self.cancel_button.setVisible(False)
        self.recommend_error = f"the music model could not be loaded ({exc})"
        self._set_notice(
            "Up Next can't recommend: " + self.recommend_error + ". Library and playback still work; "
            "add tracks by hand (right-click a track)."
        )
        self.status_message("Music model unavailable: recommendations are off")
        self.embed_finished.emit(exc)

    def reload_library(self, full: bool = False) -> None:
        self._last_reload = time.monotonic()
        tracks = self.engine.all_tracks()
        if full or self.library_model.rowCount() == 0:
            self.library_model.set_tracks(tracks, self._play_counts())
        else:
            self.library_model.merge(tracks)
        counts = len(tracks)
        self._update_library_count()
        self.library_reloaded.emit(counts)
        self._refresh_queue_view()

    def _on_search(self, text: str) -> None:
        self.library_proxy.set_query(text)
        self._update_library_count()

    def _update_library_count(self) -> None:
        """Shows “N tracks”, or “n of N tracks” while a search shows a subset."""
        total = self.library_model.rowCount()
        noun = "track" if total == 1 else "tracks"
        if self.search_box.text().strip():
            self.library_count_label.setText(f"{self.library_proxy.rowCount()} of {total} {noun}")
        else:
            self.library_count_label.setText(f"{total} {noun}")

    def _play_counts(self) -> dict[TrackId, int]:
        return self.engine.play_counts()

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

    def _on_library_double_click(self, index) -> None:
        track_id = index.siblingAtColumn(0).data(TRACK_ID_ROLE)
        if track_id is not None:
            self.play_track(int(track_id), source="library")

    def _library_menu(self, pos) -> None:
        ids = self.selected_track_ids()
        if not ids:
            return
        first = ids[0]
        menu = QMenu(self)
        menu.addAction("Play now", lambda: self.play_track(first, source="library"))
        menu.addAction("Play next", lambda: self.queue_add(ids, next_=True))
        menu.addAction("Add to Up Next", lambda: self.queue_add(ids))
        menu.addSeparator()
        menu.addAction("Start a mix from this track", lambda: self.start_mix(first))
        menu.addSeparator()
        menu.addAction("Never play this", lambda: self.block(ids))
        menu.exec(self.library_table.viewport().mapToGlobal(pos))

    def add_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Add music folder", str(Path.home()))
        if folder:
            self.engine.add_root(os.path.abspath(folder))
            self.start_scan()

    def track(self, track_id: TrackId) -> Track | None:
        return self.library_model.track(track_id) or self.engine.track(track_id)

    # ============================================================================================
    # events
    # ============================================================================================

    def record(self, track_id: TrackId, kind: EventKind, position_s: float | None = None, **context: Any) -> Job:
        """Tell the engine what the listener did (like, dislike, block); it adds the prompt while one is set."""
        engine = self.engine
        return self._listening_job(
            f"record {kind}",
            lambda: engine.record(track_id, kind, position_s=position_s, context=context or None) or kind,
            track_id,
        )

    def _listening_job(self, name: str, call: Callable[[], EventKind | None], track_id: TrackId) -> Job:
        """Run an engine listening call on the queue worker; announce the event it stored, if any."""

        def done(kind: EventKind | None) -> None:
            if kind is None:
                return
            if kind == EventKind.PLAY:
                self.library_model.add_play(track_id)
            self.event_recorded.emit(str(kind), track_id)

        return self.queue_runner.submit(
            lambda _job: call(),
            name,
            on_done=done,
            on_error=lambda e: self.status_message(f"Could not record ({name}): {e}"),
        )

    def _started(self, track_id: TrackId, via: str) -> Job:
        engine = self.engine

        def call() -> EventKind:
            engine.track_started(track_id, via=via)
            return EventKind.PLAY

        return self._listening_job("track started", call, track_id)

    # ============================================================================================
    # playback
    # ============================================================================================

    def play_track(self, track_id: TrackId, source: str = "library", autoplay: bool = True) -> bool:
        """Load and play a track; ``autoplay=False`` loads it paused (its PLAY counts when it starts)."""
        track = self.track(track_id)
        if track is None:
            self.status_message(f"Track {track_id} is no longer in the library")
            return False
        self._leave_current(via=source)
        if not os.path.exists(track.path):
            self.status_message(f"File missing: {track.path}")
            return False
        self.current = track
        self._complete_sent = False
        self.playback.load(track.path, track.tags.duration_s)
        self._show_now_playing(track)
        self.library_model.set_playing(track_id)
        self._pending_play_source = None
        if autoplay:
            self.playback.play()
            self._started(track_id, source)
        else:
            self._pending_play_source = source
        self.now_playing_changed.emit(track)
        self.select_track(track_id) if source == "library" else None
        return True

    def _leave_current(self, via: str) -> None:
        """Tell the engine the current track stops being current (it decides complete or skip)."""
        if self.current is None:
            return
        if self._pending_play_source is not None:  # loaded paused and never started: nothing happened
            self._pending_play_source = None
            return
        track_id, engine = self.current.id, self.engine
        pos_s = self.playback.position_ms() / 1000
        dur_s = (self.playback.duration_ms() / 1000) or self.current.tags.duration_s
        self._listening_job("track ended", lambda: engine.track_ended(track_id, pos_s, dur_s, reason=via), track_id)

    def play(self) -> None:
        if self.current is None:
            self.advance()
        else:
            self.playback.play()

    def toggle_play(self) -> None:
        if self.current is None:
            self.advance()
        else:
            self.playback.toggle()

    def next_track(self) -> None:
        self._leave_current(via="next")
        self.advance()

    def previous_track(self) -> None:
        """The engine decides: restart the current track, or go back to the one before."""
        position_s = self.playback.position_ms() / 1000 if self.current is not None else None
        engine = self.engine

        def done(prev: TrackId | None) -> None:
            if prev is not None:
                self.play_track(prev, source="previous")
            elif self.current is not None:
                self.playback.seek(0)

        self.queue_runner.submit(lambda _job: engine.previous(position_s), "previous", on_done=done)

    def advance(self, autoplay: bool = True) -> None:
        """Play the head of Up Next (taken from the engine's queue); ``autoplay=False`` loads it paused."""
        if self._advance_pending or self._closed:
            return
        self._advance_pending = True
        engine = self.engine
        autofill = self.autofill_check.isChecked() and self.recommend_error is None

        def work(_job: Job):
            return engine.advance(autofill), engine.queue()

        def done(result) -> None:
            self._advance_pending = False
            head, entries = result
            self._show_queue(entries)
            if head is not None:
                self.play_track(head.track_id, source="queue", autoplay=autoplay)
            else:
                self._stop_playing()
                self.status_message("Up Next is empty")

        def failed(exc: BaseException) -> None:
            self._advance_pending = False
            self._recommend_failed(exc)

        self.queue_runner.submit(work, "advance", on_done=done, on_error=failed)

    def play_from_queue(self, index: int) -> None:
        """Play a queue entry now (the entries before it stay)."""
        if not 0 <= index < len(self._queue):
            return
        entry = self._queue[index]
        engine = self.engine

        def work(_job: Job):
            return engine.queue_pop(index), engine.queue()

        def done(result) -> None:
            head, entries = result
            self._show_queue(entries)
            self.play_track(head.track_id if head else entry.track_id, source="queue")

        self.queue_runner.submit(work, "play from queue", on_done=done, on_error=self._recommend_failed)

    def _stop_playing(self) -> None:
        self.playback.stop()
        self.current = None
        self._pending_play_source = None
        self.library_model.set_playing(None)
        self._show_now_playing(None)
        self.now_playing_changed.emit(None)

    def _on_position(self, ms: int) -> None:
        if not self._slider_held:
            self.position_slider.blockSignals(True)
            self.position_slider.setValue(ms)
            self.position_slider.blockSignals(False)
        self.elapsed_label.setText(format_duration(ms / 1000))
        if self.current is None or self._complete_sent or self._pending_play_source is not None:
            return
        pos_s, dur_s = ms / 1000, self.playback.duration_ms() / 1000
        if self.engine.is_complete(pos_s, dur_s):  # tell the engine once; it records the complete
            self._complete_sent = True
            track_id, engine = self.current.id, self.engine
            self._listening_job("position", lambda: engine.track_position(track_id, pos_s, dur_s), track_id)

    def _on_duration(self, ms: int) -> None:
        self.position_slider.setRange(0, max(0, ms))
        self.total_label.setText(format_duration(ms / 1000))

    def _on_playing_changed(self, playing: bool) -> None:
        if playing and self._pending_play_source is not None and self.current is not None:
            source, self._pending_play_source = self._pending_play_source, None
            self._started(self.current.id, source)
        icon = QStyle.StandardPixmap.SP_MediaPause if playing else QStyle.StandardPixmap.SP_MediaPlay
        self.play_button.setIcon(self.style().standardIcon(icon))

    def _on_ended(self) -> None:
        if self.current is not None and self._pending_play_source is None:
            track_id, engine, dur_s = self.current.id, self.engine, self.playback.duration_ms() / 1000
            self._listening_job("track ended", lambda: engine.track_ended(track_id, dur_s, dur_s), track_id)
        self.advance()

    def _on_slider_released(self) -> None:
        self._slider_held = False
        self.playback.seek(self.position_slider.value())

    def _show_now_playing(self, track: Track | None) -> None:
        self.like_button.setChecked(False)
        if track is None:
            self.title_label.setText("Nothing playing")
            self.artist_label.setText("Double-click a track, or press Space to start Up Next")
            self.album_label.setText("")
            self.cover_label.setPixmap(_placeholder_cover("", 96))
            self.setWindowTitle(window_title(None))
            return
        t = track.tags
        self.title_label.setText(t.title)
        self.artist_label.setText(artist_or_file(track))
        album = t.album or ""
        if album and t.year:
            album = f"{album} ({t.year})"
        self.album_label.setText(album)
        self.setWindowTitle(window_title(track))
        pix = QPixmap()
        data = find_cover(track.path)
        if data and pix.loadFromData(data):
            pix = pix.scaled(
                96, 96, Qt.AspectRatioMode.KeepAspectRatioByExpanding, Qt.TransformationMode.SmoothTransformation
            )
            self.cover_label.setPixmap(pix)
            self.cover_bytes = data
        else:
            self.cover_label.setPixmap(_placeholder_cover(album or t.title, 96))
            self.cover_bytes = None

    # ============================================================================================
    # feedback
    # ============================================================================================

    def like(self, track_id: TrackId | None = None) -> None:
        track_id = track_id if track_id is not None else (self.current.id if self.current else None)
        if track_id is None:
            return
        self.like_button.setChecked(True)
        self.record(track_id, EventKind.LIKE, self._position_s(track_id))
        self.status_message("Liked: more like this in Up Next")
        self.refill(only_if_auto=True)

    def dislike(self, track_id: TrackId | None = None) -> None:
        """Dislike the current (or given) track; the current one is left at once (no separate skip)."""
        track_id = track_id if track_id is not None else (self.current.id if self.current else None)
        if track_id is None:
            return
        self.record(track_id, EventKind.DISLIKE, self._position_s(track_id))
        self.status_message("Noted: less like this")
        self.refill(only_if_auto=True)
        if self.current is not None and self.current.id == track_id:  # the engine ends its play: no skip
            self.advance(autoplay=self.playback.is_playing())  # a paused player stays paused

    def block(self, track_ids: list[TrackId]) -> None:
        for tid in track_ids:
            self.record(tid, EventKind.BLOCK)
        self.status_message(f"Never playing {len(track_ids)} track(s) again")
        self.refill(only_if_auto=True)
        if self.current is not None and self.current.id in track_ids:
            self.advance(autoplay=self.playback.is_playing())

    def _position_s(self, track_id: TrackId) -> float | None:
        if self.current is not None and self.current.id == track_id:
            return round(self.playback.position_ms() / 1000, 3)
        return None

    # ============================================================================================
    # Up Next
    # ============================================================================================

    def _queue_job(self, name: str, fn: Callable[[], Any], on_done: Callable[[list], None] | None = None) -> Job:
        """Run ``fn`` on the queue worker, then show the engine's queue."""
        engine = self.engine

        def work(_job: Job):
            result = fn()
            return result if isinstance(result, list) else engine.queue()

        def done(entries: list) -> None:
            self._show_queue(entries)
            if on_done is not None:
                on_done(entries)

        return self.queue_runner.submit(work, name, on_done=done, on_error=self._recommend_failed)

    def queue_entries(self) -> list[QueueEntry]:
        return list(self._queue)

    def fill_queue(self) -> Job | None:
        """Top Up Next up to the engine's queue target."""
        if self._fill_pending:
            return None
        self._fill_pending = True
        engine = self.engine

        def finished(_entries) -> None:
            self._fill_pending = False

        job = self._queue_job("fill", engine.up_next, on_done=finished)
        prev_error = job.on_error

        def failed(exc: BaseException) -> None:
            self._fill_pending = False
            prev_error(exc)

        job.on_error = failed
        return job

    def refill(self, only_if_auto: bool = False) -> Job | None:
        """Replace the recommended entries (manual ones stay)."""
        if only_if_auto and not self.autofill_check.isChecked():
            return None
        return self._queue_job("refill", self.engine.refill)

    def set_prompt(self, text: str | None) -> Job | None:
        text = (text or "").strip() or None
        if text is None:
            self.prompt_box.clear()
        self._show_prompt(text)
        engine = self.engine

        def work():
            engine.set_prompt(text)
            return engine.refill()

        self.status_message(f"Up Next now follows “{text}”" if text else "Prompt cleared: Up Next follows your taste")
        return self._queue_job("prompt", work)

    def _show_prompt(self, text: str | None) -> None:
        self.prompt_clear.setEnabled(bool(text))
        self.prompt_label.setVisible(bool(text))
        self.prompt_label.setText(f"Following your prompt: “{text}”" if text else "")

    def queue_add(self, track_ids: list[TrackId], next_: bool = False) -> Job:
        engine = self.engine

        def work():
            for tid in reversed(track_ids) if next_ else track_ids:
                engine.queue_add(tid, next=next_)

        n = len(track_ids)
        self.status_message(f"{n} track(s) " + ("will play next" if next_ else "added to Up Next"))
        return self._queue_job("queue add", work)

    def remove_from_queue(self, index: int) -> Job | None:
        if not 0 <= index < len(self._queue):
            return None
        engine = self.engine
        optimistic = self._queue[:index] + self._queue[index + 1 :]
        self._show_queue(optimistic)

        return self._queue_job("queue remove", lambda: engine.queue_remove(index))

    def move_in_queue(self, src: int, dst: int) -> Job | None:
        n = len(self._queue)
        if not (0 <= src < n and 0 <= dst < n) or src == dst:
            return None
        engine = self.engine
        optimistic = list(self._queue)
        optimistic.insert(dst, optimistic.pop(src))
        self._show_queue(optimistic)
        return self._queue_job("queue move", lambda: engine.queue_move(src, dst))

    def start_mix(self, track_id: TrackId) -> Job | None:
        engine = self.engine

        def work():
            return engine.start_mix(track_id)  # the seed is not queued: it plays now

        title = self.track(track_id).tags.title if self.track(track_id) else str(track_id)
        self.status_message(f"Mix started from “{title}”")
        job = self._queue_job("mix", work)
        self.play_track(track_id, source="mix")
        return job

    def save_playlist(self, path: str | os.PathLike[str] | None = None) -> Path | None:
        if not self._queue:
            self.status_message("Up Next is empty: nothing to save")
            return None
        if path is None:
            start = str(Path.home() / "Up Next.m3u8")
            chosen, _ = QFileDialog.getSaveFileName(self, "Save Up Next as playlist", start, "Playlists (*.m3u8)")
            if not chosen:
                return None
            path = chosen if chosen.lower().endswith((".m3u8", ".m3u")) else chosen + ".m3u8"
        tracks = [t for t in (self.track(e.track_id) for e in self._queue) if t is not None]
        title = f"Up Next — {self.prompt_box.text().strip()}" if self.prompt_label.isVisible() else "Up Next"
        done = write_m3u8(Path(path), tracks, title=title)
        left_out = f" ({done.skipped} left out: a line break in the file name)" if done.skipped else ""
        self.status_message(f"Saved {done.written} tracks to {path}{left_out}")
        return Path(path)

    def _on_autofill_toggled(self, on: bool) -> None:
        self.engine.set_autofill(on)  # switching it on announces the queue, "refill due" when it is short

    def _on_engine_queue(self, entries: list[QueueEntry], refill_due: bool) -> None:
        """The engine changed Up Next (on the worker); it says when a top-up is due. ``queue_changed`` stays
        the signal of the window's own jobs (their last state), so an intermediate state is only drawn."""
        self._show_queue(entries, announce=False)
        if refill_due and self.recommend_error is None and not self._closed:
            self.fill_queue()

    def _recommend_failed(self, exc: BaseException) -> None:
        log.warning("Up Next: %s", exc, exc_info=exc)
        self._set_notice(f"Up Next can't recommend right now: {exc}")

    def _set_notice(self, text: str) -> None:
        self.queue_notice.setText(text)
        self.queue_notice.setVisible(bool(text))

    def _show_queue(self, entries: list[QueueEntry], announce: bool = True) -> None:
        self._queue = list(entries)
        if entries and self.recommend_error is None:
            self._set_notice("")
        self._refresh_queue_view()
        if announce:
            self.queue_changed.emit(list(entries))

    def _refresh_queue_view(self) -> None:
        tracks = {e.track_id: self.track(e.track_id) for e in self._queue}
        self.queue_view.set_entries(self._queue, tracks)
        total = sum((t.tags.duration_s for t in tracks.values() if t is not None), 0.0)
        n = len(self._queue)
        self.queue_count_label.setText(f"{n} tracks · {format_duration(total)}" if n else "empty")

    # ============================================================================================
    # settings
    # ============================================================================================

    def history_forgotten(self, events: int) -> None:
        """The settings dialog forgot the listening history: no play counts any more."""
        self.library_model.reset_plays()
        self.status_message(f"Forgot {events} listening events")

    def open_settings(self) -> None:
        from player_plugin.ui.settings_dialog import SettingsDialog

        dialog = SettingsDialog(self.engine, self, parent=self)
        dialog.exec()


def _placeholder_cover(seed: str, size: int) -> QPixmap:
    """A soft two-tone square with the album's initial, coloured by its name."""
    digest = hashlib.sha1(seed.encode("utf-8")).digest()
    hue = digest[0] * 360 // 256
    pix = QPixmap(size, size)
    pix.fill(Qt.GlobalColor.transparent)
    p = QPainter(pix)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    from PySide6.QtGui import QLinearGradient

    grad = QLinearGradient(0, 0, size, size)
    grad.setColorAt(0, QColor.fromHsv(hue, 90, 170))
    grad.setColorAt(1, QColor.fromHsv((hue + 40) % 360, 120, 110))
    p.setBrush(grad)
    p.setPen(Qt.PenStyle.NoPen)
    p.drawRoundedRect(0, 0, size, size, 8, 8)
    font = QFont()
    font.setPixelSize(size // 2 - 4)
    font.setBold(True)
    p.setFont(font)
    p.setPen(QColor(255, 255, 255, 210))
    initial = seed.strip()[:1].upper() if seed.strip() else "♪"
    p.drawText(pix.rect(), Qt.AlignmentFlag.AlignCenter, initial)
    p.end()
    return pix
