"""Library folders and small JSON settings."""

from __future__ import annotations

import json
import time
from typing import Any

from player_plugin.store.db import Database
from player_plugin.store.unreadable import forget_under


class SettingsRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    def roots(self) -> list[str]:
        return [r[0] for r in self.db.conn.execute("SELECT path FROM roots ORDER BY added_at, path")]

    def add_root(self, path: str) -> bool:
        with self.db.transaction() as conn:
            return (
                conn.execute("INSERT OR IGNORE INTO roots (path, added_at) VALUES (?, ?)", (path, time.time())).rowcount
                == 1
            )

    def remove_root(self, path: str) -> bool:
        with self.db.transaction() as conn:
            forget_under(conn, path)  # what its scans could not read goes with it
            return conn.execute("DELETE FROM roots WHERE path = ?", (path,)).rowcount == 1

    def get(self, key: str, default: Any = None) -> Any:
        row = self.db.conn.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        return default if row is None else json.loads(row[0])

    def set(self, key: str, value: Any) -> None:
        with self.db.transaction() as conn:
            conn.execute(
                "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, json.dumps(value, ensure_ascii=False)),
            )
