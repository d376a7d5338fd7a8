"""The one object a host (CLI, Qt app, another player) holds.

It wires the library scanner and the store together; later layers (encoder, user model, Up Next)
hang off it the same way. Dependencies come in through the constructor; there is no global state.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable
from pathlib import Path

from player_plugin.library.scanner import CancelFn, ProgressFn, Scanner, ScanReport
from player_plugin.store import Database, SettingsRepository, TrackRepository
from player_plugin.store.tracks import LibraryCounts


class Engine:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.tracks = TrackRepository(db)
        self.settings = SettingsRepository(db)

    @classmethod
    def open(cls, db_path: str | os.PathLike[str]) -> Engine:
        return cls(Database(db_path))

    def close(self) -> None:
        self.db.close()

    # -- library -------------------------------------------------------------------------------

    def scan(
        self,
        paths: Iterable[str | os.PathLike[str]] | None = None,
        progress: ProgressFn | None = None,
        cancel: CancelFn | threading.Event | None = None,
        remember: bool = True,
    ) -> ScanReport:
        """Scan ``paths`` (default: the configured library folders); new folders are remembered."""
        roots = [os.path.abspath(os.fspath(p)) for p in paths] if paths is not None else self.settings.roots()
        if remember:
            for root in roots:
                if Path(root).is_dir():
                    self.settings.add_root(root)
        return Scanner(self.db).scan(roots, progress=progress, cancel=cancel)

    def library_counts(self) -> LibraryCounts:
        return self.tracks.counts()

    def roots(self) -> list[str]:
        return self.settings.roots()
