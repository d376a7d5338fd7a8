"""The Up Next queue as stored: an ordered list of entries, manual or recommended.

The queue is short (tens of entries), so every change rewrites it in one transaction: simple,
and a crash can never leave two entries at one position.
"""

from __future__ import annotations

import time

from player_plugin.models import QueueEntry
from player_plugin.store.db import Database


class QueueRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    def entries(self) -> list[QueueEntry]:
        rows = self.db.conn.execute("SELECT track_id, reason, manual FROM queue ORDER BY position")
        return [QueueEntry(r["track_id"], r["reason"], bool(r["manual"])) for r in rows]

    def replace(self, entries: list[QueueEntry], now: float | None = None) -> None:
        now = time.time() if now is None else now
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM queue")
            conn.executemany(
                "INSERT INTO queue (position, track_id, reason, manual, added_at) VALUES (?, ?, ?, ?, ?)",
                [(i, e.track_id, e.reason, int(e.manual), now) for i, e in enumerate(entries)],
            )
