"""Files the last scan could not read (empty, damaged, no permission…), kept until the next scan.

A finished scan of a folder replaces every row under that folder, so the list always says what
the latest scan of each folder skipped; a cancelled scan leaves it as it was.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable
from dataclasses import dataclass

from player_plugin.store.db import Database
from player_plugin.store.tracks import is_under, under_clause


@dataclass(frozen=True, slots=True)
class UnreadableFile:
    path: str
    reason: str
    root: str  # the library folder whose scan reported it
    seen_at: float  # unix seconds of that scan


def forget_under(conn: sqlite3.Connection, folder: str) -> None:
    """Delete the rows of ``folder`` and of every file under it (inside the caller's transaction)."""
    clause, params = under_clause("path", folder)  # exact prefix: LIKE ignores ASCII case
    conn.execute(f"DELETE FROM unreadable_files WHERE {clause}", params)


class UnreadableRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    def replace(
        self,
        roots: Iterable[str],
        failures: Iterable[tuple[str, str]],
        now: float | None = None,
        within: Iterable[str] = (),
    ) -> None:
        """After a finished scan of ``roots``: forget what was recorded under them and store
        ``failures`` ((path, reason) pairs; each lands under the first root that holds it, or the
        first library folder of ``within`` when the scan was of folders inside those)."""
        roots = list(roots)
        labels = [*within, *roots]
        now = time.time() if now is None else now
        with self.db.transaction() as conn:
            for root in roots:
                forget_under(conn, root)
            rows = []
            for path, reason in failures:
                root = next((r for r in labels if is_under(path, r)), path)
                rows.append((path, root, reason, now))
            conn.executemany(
                "INSERT INTO unreadable_files (path, root, reason, seen_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(path) DO UPDATE SET root = excluded.root, reason = excluded.reason, "
                "seen_at = excluded.seen_at",
                rows,
            )

    def all(self) -> list[UnreadableFile]:
        rows = self.db.conn.execute("SELECT path, reason, root, seen_at FROM unreadable_files ORDER BY path")
        return [UnreadableFile(r["path"], r["reason"], r["root"], r["seen_at"]) for r in rows]

    def count(self) -> int:
        return int(self.db.conn.execute("SELECT count(*) FROM unreadable_files").fetchone()[0])
