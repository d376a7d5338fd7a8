"""Learn from the star ratings in the library's tags (``player-plugin import-ratings``): a warm start.

A listener who rated their collection in foobar2000, MusicBee, Quod Libet, Windows Media Player or
Picard has told us what they love long before our first play. The scan reads those ratings
(library/ratings.py, ``tracks.rating``); this turns them, when asked, into what the recommender
already understands: a track of four stars or more becomes a ``like``, one star a ``dislike``
(three stars say nothing either way). The events are dated by the file's modification time, the
best trace there is of when the tagger wrote the rating, but never within the listening session going
on (``RecommendConfig.session_gap_s`` before now at the latest: a like there would steer the session
as if just given), and carry
``{"source": "ratings", "imported": true}``. A track that already has a like or a dislike (yours,
or an earlier import) is left as it is, so importing again adds only what is new.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass

from player_plugin.recommend.config import RecommendConfig
from player_plugin.store.db import Database

LIKE_AT = 0.73  # four stars of five and up: 0.8 (Quod Libet), 196/255 (WMP's POPM), 75/99 (WMA)
DISLIKE_AT = 0.23  # one star: 0.2, 1/255, 1/99 — two stars (0.25, 0.4, 64/255) are no dislike
CONTEXT = json.dumps({"source": "ratings", "imported": True})
NS_PER_S = 1_000_000_000


@dataclass(frozen=True, slots=True)
class RatingsImport:
    rated: int  # tracks whose tags hold a rating
    liked: int  # likes written (or that a dry run would write)
    disliked: int
    already: int  # rated tracks that already had a like or a dislike: left as they were
    dry_run: bool

    def as_dict(self) -> dict:
        return asdict(self)


def import_ratings(db: Database, dry_run: bool = False, now: float | None = None) -> RatingsImport:
    """Write (or, with ``dry_run``, count) the likes and dislikes the library's ratings say."""
    now = time.time() if now is None else now
    latest = now - RecommendConfig().session_gap_s - 1.0  # before the session going on
    conn = db.conn
    rows = conn.execute(
        "SELECT t.id, t.rating, t.mtime_ns, EXISTS (SELECT 1 FROM events e WHERE e.track_id = t.id "
        "AND e.kind IN ('like', 'dislike')) AS judged FROM tracks t WHERE t.rating IS NOT NULL ORDER BY t.mtime_ns"
    ).fetchall()
    writes = [
        (r["id"], "like" if r["rating"] >= LIKE_AT else "dislike", min(latest, r["mtime_ns"] / NS_PER_S))
        for r in rows
        if not r["judged"] and (r["rating"] >= LIKE_AT or r["rating"] <= DISLIKE_AT)
    ]
    if writes and not dry_run:
        with db.transaction():
            conn.executemany(
                "INSERT INTO events (track_id, fingerprint, kind, position_s, ts, context) "
                "SELECT id, fingerprint, ?, NULL, ?, ? FROM tracks WHERE id = ?",
                [(kind, ts, CONTEXT, track_id) for track_id, kind, ts in writes],
            )
    liked = sum(1 for _, kind, _ in writes if kind == "like")
    return RatingsImport(
        rated=len(rows),
        liked=liked,
        disliked=len(writes) - liked,
        already=sum(1 for r in rows if r["judged"]),
        dry_run=dry_run,
    )
