"""The app's side of the library watch: the engine's folder watcher (library/watch.py) bridged to Qt.

The watcher runs on a thread of its own and calls back there; its batches and notices reach the UI
thread as queued signals, where ``LibraryJobs.scan_changes`` scans them on the library worker. The
watch follows the library folders (:meth:`LibraryWatch.follow` after every scan and settings change)
and the "watch for changes" setting.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from player_plugin.engine import Engine
from player_plugin.library.watch import Follower


class LibraryWatch(QObject):
    changed = Signal(object)  # library.watch.Changes, on the UI thread
    notice = Signal(str)  # for the status bar

    def __init__(self, engine: Engine, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._follower = Follower(engine.watched_roots, self.changed.emit, self.notice.emit)

    @property
    def roots(self) -> list[str]:
        """The folders watched now (none when the watch is off)."""
        return self._follower.roots

    def follow(self) -> None:
        """Watch the library folders as they are now, if the setting says so (a no-op when unchanged)."""
        self._follower.follow()

    def wait_ready(self, timeout: float | None = None) -> bool:
        """Until every library folder is watched (the watch sets itself up on its own thread)."""
        return self._follower.wait_ready(timeout)

    def close(self) -> None:
        self._follower.close()
