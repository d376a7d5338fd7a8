"""The main window: assembles the panels and controllers, the menus, the shortcuts and the status bar.

- ``player`` (``PlayerController``): playback and the current track, told to the engine;
- ``upnext`` (``UpNextController``): fills, refills, the prompt, the hand-made queue;
- ``jobs`` (``LibraryJobs``): scanning and embedding;
- the panels ``now_playing_panel``, ``library_panel``, ``upnext_panel`` only display and report.

Threading: the UI thread reads single tracks for display; the library table's reads run on the
library panel's own reader (``LibraryReader``); everything that changes the listening state
(events, the queue, the prompt, recommendations) runs in order on one worker (``queue_runner``),
and scanning/embedding on another (``library_runner``). Each worker thread has its own SQLite
connection (``Database`` is per thread); results come back by queued signals.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable

from PySide6.QtCore import QSize, Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QLabel,
    QMainWindow,
    QMenu,
    QProgressBar,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from player_plugin import paths
from player_plugin.engine import Engine
from player_plugin.models import Track
from player_plugin.ui.engine_bridge import EngineSignals
from player_plugin.ui.file_dialogs import ask_music_folder, ask_playlist_to_continue, ask_playlist_to_save
from player_plugin.ui.fonts import chinese_font_families, missing_cjk_font_warning
from player_plugin.ui.library_jobs import LibraryJobs
from player_plugin.ui.library_panel import LibraryPanel
from player_plugin.ui.library_watch import LibraryWatch
from player_plugin.ui.lyrics_window import LyricsWindow
from player_plugin.ui.now_playing_panel import NowPlayingPanel
from player_plugin.ui.playback import Playback
from player_plugin.ui.player_controller import PlayerController
from player_plugin.ui.style import STYLE
from player_plugin.ui.text import window_title
from player_plugin.ui.upnext_controller import UpNextController
from player_plugin.ui.upnext_panel import UpNextPanel
from player_plugin.ui.workers import Job, JobRunner

log = logging.getLogger(__name__)

LINE_EDIT_TEXT_PAD = 36  # a line edit's frame, padding and clear button around its placeholder (px)
PROGRESS_WIDTH = 360  # px, the status bar's progress bar
SPLIT_SIZES = (760, 500)  # px, library and Up Next at the default window size
SPLIT_STRETCH = (3, 2)


class MainWindow(QMainWindow):
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
        self._sticky_status = ""
        self.font_warning: str | None = None
        self.library_runner = JobRunner(
            "library-worker", on_thread_exit=engine.release_thread, parent=self, background=True
        )
        self.queue_runner = JobRunner("queue-worker", on_thread_exit=engine.release_thread, parent=self)
        self.engine_signals = EngineSignals(engine, self)
        self.setWindowTitle(window_title(None))
        self.resize(1280, 780)
        self.setMinimumSize(QSize(900, 560))
        self.playback = Playback(self, silent=silent_audio)

        self.now_playing_panel = NowPlayingPanel(self.playback.volume(), self)
        self.library_panel = LibraryPanel(engine, self)
        self.upnext_panel = UpNextPanel(self)
        track = self.library_panel.track
        self.player = PlayerController(engine, self.playback, self.queue_runner, track, self)
        self.upnext = UpNextController(
            engine, self.queue_runner, self.player, track, lambda: ask_playlist_to_save(self), self
        )
        self.jobs = LibraryJobs(engine, self.library_runner, self.library_panel, self)
        self.watch = LibraryWatch(engine, self)
        self.lyrics: LyricsWindow | None = None
        self._build_ui()
        self._build_actions()
        self._connect()
        self.mpris = None
        if mpris:
            from player_plugin.ui.mpris import start_mpris

            self.mpris = start_mpris(self.player, self.engine_signals, self)
        if self.playback.note:
            self.status_message(self.playback.note, sticky=True)
            self.audio_label.setText("⚠ " + self.playback.note.split(":")[0])
            self.audio_label.setToolTip(self.playback.note)
            self.audio_label.setVisible(True)
        self.check_fonts()

    # -- construction -------------------------------------------------------------------------------

    def _build_ui(self) -> None:
        central = QWidget(self)
        root = QVBoxLayout(central)
        root.setContentsMargins(12, 10, 12, 6)
        root.setSpacing(10)
        root.addWidget(self.now_playing_panel)
        splitter = QSplitter(Qt.Orientation.Horizontal, central)
        splitter.setChildrenCollapsible(False)
        splitter.addWidget(self.library_panel)
        splitter.addWidget(self.upnext_panel)
        for i, stretch in enumerate(SPLIT_STRETCH):
            splitter.setStretchFactor(i, stretch)
        splitter.setSizes(list(SPLIT_SIZES))
        self.splitter = splitter
        root.addWidget(splitter, 1)
        self.setCentralWidget(central)

        sb = self.statusBar()
        self.status_label = QLabel("")
        self.status_label.setObjectName("statusLabel")
        self.progress = QProgressBar()
        self.progress.setObjectName("workProgress")
        self.progress.setFixedWidth(PROGRESS_WIDTH)
        self.progress.setTextVisible(True)
        self.progress.setVisible(False)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("cancelWork")
        self.cancel_button.setVisible(False)
        self.audio_label = QLabel("")
        self.audio_label.setObjectName("audioNote")
        self.audio_label.setVisible(False)
        self.font_label = QLabel("")
        self.font_label.setObjectName("fontNote")
        self.font_label.setVisible(False)
        sb.addWidget(self.status_label, 1)
        for widget in (self.font_label, self.audio_label, self.progress, self.cancel_button):
            sb.addPermanentWidget(widget)
        self.setStyleSheet(STYLE)
        self.now_playing_panel.fix_line_heights()
        for edit in (self.library_panel.search_box, self.upnext_panel.prompt_box):
            edit.ensurePolished()
            edit.setMinimumWidth(edit.fontMetrics().horizontalAdvance(edit.placeholderText()) + LINE_EDIT_TEXT_PAD)

    def _build_actions(self) -> None:
        player, upnext = self.player, self.upnext
        mb = self.menuBar()
        file_menu = mb.addMenu("&File")
        self._add_action(file_menu, "Add music folder…", self.add_folder, QKeySequence("Ctrl+O"))
        self._add_action(file_menu, "Rescan library", lambda: self.jobs.start_scan(), QKeySequence("F5"))
        self._add_action(file_menu, "Save Up Next as playlist…", lambda: upnext.save_playlist(), QKeySequence("Ctrl+S"))
        self._add_action(file_menu, "Continue a playlist…", self.continue_playlist, QKeySequence("Ctrl+Shift+O"))
        file_menu.addSeparator()
        self._add_action(file_menu, "Settings…", self.open_settings, QKeySequence("Ctrl+,"))
        file_menu.addSeparator()
        self._add_action(file_menu, "Quit", self.close, QKeySequence("Ctrl+Q"))
        play_menu = mb.addMenu("&Playback")
        self._add_action(play_menu, "Play / pause", player.toggle_play, None)
        self._add_action(play_menu, "Next", player.next_track, QKeySequence("Ctrl+Right"))
        self._add_action(play_menu, "Previous", player.previous_track, QKeySequence("Ctrl+Left"))
        play_menu.addSeparator()
        self._add_action(play_menu, "Like", lambda: player.like(), QKeySequence("Ctrl+L"))
        self._add_action(play_menu, "Dislike", lambda: player.dislike(), QKeySequence("Ctrl+D"))
        play_menu.addSeparator()
        self._add_action(play_menu, "Refill Up Next", lambda: upnext.refill(), QKeySequence("Ctrl+R"))
        self._add_action(play_menu, "Lyrics", self.show_lyrics, QKeySequence("Ctrl+Shift+L"))
        # Space must still type spaces in the search and prompt boxes: line edits claim it first.
        for key, slot in (
            (Qt.Key.Key_Space, player.toggle_play),
            (Qt.Key.Key_MediaPlay, player.play),
            (Qt.Key.Key_MediaPause, player.pause),
            (Qt.Key.Key_MediaTogglePlayPause, player.toggle_play),
            (Qt.Key.Key_MediaNext, player.next_track),
            (Qt.Key.Key_MediaPrevious, player.previous_track),
        ):
            QShortcut(QKeySequence(key), self).activated.connect(slot)
        QShortcut(QKeySequence("Ctrl+F"), self).activated.connect(lambda: self.library_panel.search_box.setFocus())
        QShortcut(QKeySequence("Ctrl+P"), self).activated.connect(lambda: self.upnext_panel.prompt_box.setFocus())

    def _add_action(self, menu: QMenu, text: str, slot: Callable[[], object], key: QKeySequence | None) -> QAction:
        act = QAction(text, self)
        if key is not None:
            act.setShortcut(key)
        act.triggered.connect(lambda _checked=False: slot())
        menu.addAction(act)
        self.addAction(act)
        return act

    def _connect(self) -> None:
        """Wire panels to controllers: requests one way, what to show the other."""
        player, upnext, jobs, pb = self.player, self.upnext, self.jobs, self.playback
        now, lib, up = self.now_playing_panel, self.library_panel, self.upnext_panel
        now.previous_clicked.connect(player.previous_track)
        now.play_clicked.connect(player.toggle_play)
        now.next_clicked.connect(player.next_track)
        now.like_clicked.connect(lambda: player.like())
        now.dislike_clicked.connect(lambda: player.dislike())
        now.seek_requested.connect(pb.seek)
        now.volume_changed.connect(pb.set_volume)
        pb.position_changed.connect(now.show_position)
        pb.duration_changed.connect(now.show_duration)
        pb.playing_changed.connect(now.show_playing)
        player.liked.connect(now.show_liked)
        player.now_playing_changed.connect(self._show_now_playing)
        player.picked.connect(lambda track_id, source: lib.select_track(track_id) if source == "library" else None)
        player.event_recorded.connect(lambda kind, track_id: lib.add_play(track_id) if kind == "play" else None)

        lib.play_requested.connect(lambda track_id: player.play_track(track_id, source="library"))
        lib.queue_requested.connect(lambda ids, next_: upnext.queue_add(ids, next_=next_))
        lib.mix_requested.connect(upnext.start_mix)
        lib.block_requested.connect(player.block)
        lib.reloaded.connect(lambda _rows: upnext.redraw())

        up.prompt_entered.connect(upnext.set_prompt)
        up.refill_clicked.connect(lambda: upnext.refill())
        up.autofill_toggled.connect(upnext.set_autofill)
        up.remove_requested.connect(upnext.remove_from_queue)
        up.move_requested.connect(upnext.move_in_queue)
        up.play_requested.connect(upnext.play_from_queue)
        up.save_clicked.connect(lambda: upnext.save_playlist())
        upnext.entries_shown.connect(up.show_entries)
        upnext.prompt_shown.connect(lambda text, fill: up.show_prompt(text, fill_box=fill))
        upnext.autofill_shown.connect(up.show_autofill)
        upnext.notice.connect(up.set_notice)
        self.engine_signals.queue_changed.connect(upnext.on_engine_queue)
        self.engine_signals.library_changed.connect(self.library_panel.reload)
        self.library_panel.reloaded.connect(lambda _rows: self.player.refresh_current())  # its tags may be new
        self.engine_signals.model_changed.connect(upnext.on_model_changed)
        self.engine_signals.vectors_added.connect(upnext.on_vectors_added)

        jobs.work_shown.connect(self._show_work)
        jobs.work_hidden.connect(self._hide_work)
        jobs.model_ready.connect(upnext.model_ready)
        jobs.model_failed.connect(upnext.model_failed)
        jobs.idle_message.connect(lambda text: None if self._sticky_status else self.status_message(text))
        self.cancel_button.clicked.connect(jobs.cancel)
        for source in (player, upnext, jobs):
            source.message.connect(self.status_message)
        # the watch follows the library folders a scan leaves (the first one may add the demo library)
        self.watch.changed.connect(jobs.scan_changes)
        self.watch.notice.connect(self.status_message)
        jobs.scan_finished.connect(lambda _report: self.watch.follow())

    # -- start-up and shutdown ----------------------------------------------------------------------

    def start(self) -> None:
        """Show what is stored, then bring the library up to date in the background: once the stored
        rows show, as a rescan started beside the first read would share the interpreter with it and
        hold back the rows (at 100k tracks by seconds)."""
        self.library_panel.reload(full=True)
        self.upnext.start()
        self.library_panel.when_reloaded(self._bring_library_up_to_date)

    def _bring_library_up_to_date(self) -> None:
        self.player.restore()  # the track the app closed on, paused where it was
        self.watch.follow()  # before the scan: what changes while it runs is scanned after it
        roots = self.engine.roots()
        if not roots and self.scan_demo:
            demo = paths.demo_library_dir()
            self.status_message(f"No music folders yet: opening the demo library ({demo})")
            self.jobs.start_scan([str(demo)])
        elif roots:
            self.jobs.start_scan()
        else:
            self.jobs.start_embed()

    def exit_when_idle(self) -> None:
        """Print READY and quit once the window is shown and the event loop idle (bench/startup.py)."""

        def ready() -> None:
            print(f"READY {time.perf_counter():.6f}", flush=True)
            self.close()

        # the rows are read on the library reader's thread: ready once they show
        self.library_panel.when_reloaded(lambda: QTimer.singleShot(0, ready))

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt's name
        self.shutdown()
        super().closeEvent(event)

    def shutdown(self) -> None:
        """Cancel and wait for the workers, stop playback. Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        self.engine_signals.close()  # first: what the workers still announce while they stop reaches no one
        try:
            self.player.save_resume_point()
        except Exception as exc:  # noqa: BLE001 - a full disk or a read-only database must not stop the close
            log.warning("could not remember where playback was: %s", self.engine.error_text(exc))
        self.player.close()
        self.upnext.close()
        self.watch.close()
        self.jobs.close()
        self.library_panel.shutdown()
        self.queue_runner.stop()
        self.library_runner.stop()
        self.playback.shutdown()
        if self.mpris is not None:
            self.mpris.close()

    # -- status bar ---------------------------------------------------------------------------------

    def status_message(self, text: str, sticky: bool = False) -> None:
        self.status_label.setText(text)
        self.status_label.setToolTip(text)
        if sticky:
            self._sticky_status = text

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
        self.progress.setVisible(False)
        self.cancel_button.setVisible(False)

    def show_lyrics(self) -> None:
        self.lyrics = LyricsWindow.opened(self.lyrics, self.player, self)

    def _show_now_playing(self, track: Track | None) -> None:
        self.now_playing_panel.show_track(track)
        self.library_panel.show_playing(track)
        self.setWindowTitle(window_title(track))

    # -- dialogs and the settings host (SettingsHost) -----------------------------------------------

    def add_folder(self) -> None:
        folder = ask_music_folder(self)
        if folder:
            self.engine.add_root(os.path.abspath(folder))
            self.watch.follow()  # before the scan: what changes while it runs is scanned after it
            self.jobs.start_scan()

    def continue_playlist(self) -> None:
        chosen = ask_playlist_to_continue(self)
        if chosen:
            self.upnext.continue_playlist(chosen)

    def open_settings(self) -> None:
        from player_plugin.ui.settings_dialog import SettingsDialog

        SettingsDialog(self.engine, self, parent=self).exec()

    def start_scan(self) -> Job | None:
        return self.jobs.start_scan()

    def follow_folders(self) -> None:
        """The folders or the "watch for changes" setting changed (the settings dialog)."""
        self.watch.follow()

    def levelling_changed(self) -> None:
        """The volume levelling setting may have changed (the settings dialog): the playing track follows."""
        self.player.reload_levelling()

    def refill(self, only_if_auto: bool = False) -> Job | None:
        return self.upnext.refill(only_if_auto=only_if_auto)

    def history_forgotten(self, events: int) -> None:
        """The settings dialog forgot the listening history: no play counts any more."""
        self.library_panel.reset_plays()
        self.status_message(f"Forgot {events} listening events")
