"""Imported listens written a batch at a time: one short transaction each, duplicates skipped in SQL.

A listen is a duplicate when its track already has an event of the same kind (``complete`` or
``skip``) within half a millisecond of its time (an earlier import of the same file, or the same
listen twice in one file). The test runs inside the insert, so a batch needs no memory of earlier
batches; a dry run keeps what it would have written in a TEMP table (the connection's own, never in
the file).
"""

from __future__ import annotations

from collections.abc import Sequence

from player_plugin.store.db import Database

TS_TOLERANCE_S = 0.0005  # listens within this of each other are the same listen (ms resolution)
IMPORTED_KINDS = ("complete", "skip")  # what an imported listen becomes

# "+track_id", "+kind": let the events_ts index find the few events at that second, rather than
# events_track walking every play of a much-played track.
_NO_SUCH_EVENT = "NOT EXISTS (SELECT 1 FROM events e WHERE +e.track_id = ? AND +e.kind = ? AND e.ts BETWEEN ? AND ?)"
_INSERT = (
    "INSERT INTO events (track_id, fingerprint, kind, position_s, ts, context) "
    f"SELECT id, fingerprint, ?, ?, ?, ? FROM tracks WHERE id = ? AND {_NO_SUCH_EVENT}"
)
_DRY_TABLE = "import_dry_run"
_DRY_INSERT = (
    f"INSERT OR IGNORE INTO temp.{_DRY_TABLE} (track_id, kind, ts_ms) SELECT id, ?, ? FROM tracks WHERE id = ? "
    f"AND {_NO_SUCH_EVENT}"
)

# (track_id, kind: "complete" or "skip", position_s, ts, context JSON)
ImportRow = tuple[int, str, float | None, float, str]


def _checked(kind: str) -> str:
    if kind not in IMPORTED_KINDS:
        raise ValueError(f"an imported listen is one of {IMPORTED_KINDS}, not {kind!r}")
    return kind


class ImportedListens:
    def __init__(self, db: Database) -> None:
        self.db = db

    def add_new(self, rows: Sequence[ImportRow]) -> int:
        """Store the rows that are not duplicates, in one transaction; returns how many were stored."""
        params = [
            (_checked(kind), position, ts, context, track_id, track_id, kind, ts - TS_TOLERANCE_S, ts + TS_TOLERANCE_S)
            for track_id, kind, position, ts, context in rows
        ]
        with self.db.transaction() as conn:
            before = conn.total_changes
            conn.executemany(_INSERT, params)
            return conn.total_changes - before

    def count_new(self, rows: Sequence[ImportRow]) -> int:
        """How many rows :meth:`add_new` would store, counting earlier dry-run batches as stored."""
        conn = self.db.conn
        conn.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {_DRY_TABLE} (track_id INTEGER, kind TEXT, ts_ms INTEGER, "
            "PRIMARY KEY (track_id, kind, ts_ms)) WITHOUT ROWID"
        )
        params = [
            (_checked(kind), round(ts * 1000), track_id, track_id, kind, ts - TS_TOLERANCE_S, ts + TS_TOLERANCE_S)
            for track_id, kind, _position, ts, _context in rows
        ]
        before = conn.total_changes
        conn.executemany(_DRY_INSERT, params)
        return conn.total_changes - before

    def end_dry_run(self) -> None:
        self.db.conn.execute(f"DROP TABLE IF EXISTS temp.{_DRY_TABLE}")
