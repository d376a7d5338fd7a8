"""Library folders and small JSON settings."""

from __future__ import annotations

import json
import time
from typing import Any

from player_plugin.store.db import Database
from player_plugin.store.unreadable import forget_under

PROMPT_KEY = "prompt"  # the free-text wish steering Up Next (text or null)
AUTOFILL_KEY = "ui.autofill"  # whether Up Next tops itself up (the name predates the engine owning it)
MODEL_KEY = "model_id"  # the library's model
LEVELLING_KEY = "playback.levelling"  # volume levelling from ReplayGain (levelling.LevellingConfig, a JSON object)
RESUME_KEY = "playback.resume"  # the app's track and position when it closed: {"track": id, "position_s": s}
WATCH_KEY = "ui.watch_folders"  # whether the app watches the music folders for changes (library/watch.py)
RECOMMEND_KEY = "recommend"  # the queue rules the settings dialog edits (a JSON object)
BLOCKLIST_KEY = "blocklist"  # {"artists": [...], "genres": [...], "folders": [...]}


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

    # -- typed accessors: the keys above, read and written in one place ----------------------------

    def prompt(self) -> str | None:
        return self.get(PROMPT_KEY) or None

    def set_prompt(self, text: str | None) -> None:
        self.set(PROMPT_KEY, text)

    def autofill(self) -> bool:
        return bool(self.get(AUTOFILL_KEY, True))

    def set_autofill(self, on: bool) -> None:
        self.set(AUTOFILL_KEY, bool(on))

    def _object(self, key: str) -> dict:
        """A setting stored as a JSON object (anything else stored there reads as none)."""
        value = self.get(key, {})
        return dict(value) if isinstance(value, dict) else {}

    def levelling(self) -> dict:
        return self._object(LEVELLING_KEY)

    def set_levelling(self, value: dict) -> None:
        self.set(LEVELLING_KEY, dict(value))

    def resume(self) -> dict:
        return self._object(RESUME_KEY)

    def set_resume(self, value: dict) -> None:
        self.set(RESUME_KEY, dict(value))

    def watch_folders(self) -> bool:
        return bool(self.get(WATCH_KEY, True))

    def set_watch_folders(self, on: bool) -> None:
        self.set(WATCH_KEY, bool(on))

    def blocklist(self) -> dict[str, list[str]]:
        return dict(self.get(BLOCKLIST_KEY, {}) or {})

    def set_blocklist(self, block: dict[str, list[str]]) -> None:
        self.set(BLOCKLIST_KEY, block)

    def recommend_settings(self) -> dict[str, Any]:
        return dict(self.get(RECOMMEND_KEY, {}) or {})

    def set_recommend_settings(self, values: dict[str, Any]) -> None:
        self.set(RECOMMEND_KEY, values)
