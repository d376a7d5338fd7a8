"""How often each track was played: one GROUP BY over the events table."""

from __future__ import annotations

from player_plugin.models import EventKind, TrackId
from player_plugin.store.db import Database


def play_counts(db: Database) -> dict[TrackId, int]:
    """Plays (``play`` events) per present track; tracks never played are absent."""
    rows = db.conn.execute(
        "SELECT track_id, count(*) FROM events WHERE kind = ? AND track_id IS NOT NULL GROUP BY track_id",
        (EventKind.PLAY.value,),
    )
    return {int(t): int(n) for t, n in rows}
