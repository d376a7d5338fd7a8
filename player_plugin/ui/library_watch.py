"""The app's side of the library watch: the engine's folder watcher (library/watch.py) bridged to Qt.

The watcher runs on a thread of its own and calls back there; its batches and notices reach the UI
thread as queued signals, where ``LibraryJobs.scan_changes`` scans them on the library worker. The
watch follows the library folders (:meth:`LibraryWatch.follow` after every scan and settings change)
and the "watch for changes" setting; where inotify is missing (not Linux) it stays off and says so once.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Signal

from player_plugin.engine import Engine
from player_plugin.library import inotify
from player_plugin.library.watch import FolderWatcher

log = logging.getLogger(__name__)


class LibraryWatch(QObject):
    changed = Signal(object)  # library.watch.Changes, on the UI thread
    notice = Signal(str)  # for the status bar

    def __init__(self, engine: Engine, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.engine = engine
        self._watcher: FolderWatcher | None = None
        self._roots: list[str] = []
        self._said_unavailable = False

    @property
    def roots(self) -> list[str]:
        """The folders watched now (none when the watch is off)."""
        return list(self._roots)

    def follow(self) -> None:
        """Watch the library folders as they are now, if the setting says so (a no-op when unchanged)."""
        roots = self.engine.roots() if self.engine.watch_folders else []
        if roots == self._roots:
            return
        self.close()
        if not roots:
            return
        if not inotify.available():
            if not self._said_unavailable:
                self._said_unavailable = True
                self.notice.emit("This system cannot watch folders: new music shows after a rescan (F5)")
            return
        watcher = FolderWatcher(roots, self.changed.emit, self.notice.emit)
        try:
            watcher.start()
        except OSError as exc:
            self.notice.emit(f"Cannot watch the music folders ({exc.strerror or exc}): rescan (F5) to see changes")
            return
        self._watcher, self._roots = watcher, roots
        log.info("watching %d music folder(s) for changes", len(roots))

    def close(self) -> None:
        if self._watcher is not None:
            self._watcher.stop()
        self._watcher, self._roots = None, []
