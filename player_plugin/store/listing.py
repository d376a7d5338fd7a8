"""The library as a list of rows (``player-plugin library --tracks``): ids, tags, lyrics, vectors."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from player_plugin.store.db import Database


@dataclass(frozen=True, slots=True)
class TrackRow:
    id: int
    title: str
    artist: str
    album: str | None
    duration_s: float
    path: str
    has_lyrics: bool
    has_vector: bool  # a vector of the model asked about

    def as_dict(self) -> dict:
        return {
            "id": self.id,
            "title": self.title,
            "artist": self.artist,
            "album": self.album,
            "duration_s": round(self.duration_s, 1),
            "has_lyrics": self.has_lyrics,
            "has_vector": self.has_vector,
            "path": self.path,
        }


def _norm(text: str | None) -> str:
    return " ".join(unicodedata.normalize("NFKC", text or "").casefold().split())


_ROWS = (
    "SELECT t.id, t.title, t.artist, t.album, t.genre, t.duration_s, t.path, "
    "l.track_id IS NOT NULL AS has_lyrics, v.track_id IS NOT NULL AS has_vector "
    "FROM tracks t LEFT JOIN lyrics l ON l.track_id = t.id "
    "LEFT JOIN track_vectors v ON v.track_id = t.id AND v.model_id = ? "
    "ORDER BY t.artist, t.album, t.disc_number, t.track_number, t.title, t.id"
)


def track_rows(
    db: Database, model_id: str, search: str | None = None, limit: int | None = None
) -> tuple[list[TrackRow], int]:
    """Tracks in library order, those matching ``search`` only, at most ``limit`` of them; and how
    many matched in all. A track matches when every word of ``search`` is in its title, artist,
    album, genre or path (Unicode- and case-insensitively); a number also matches the track with
    that id, which then comes first."""
    words = _norm(search).split()
    wanted_id = int(search) if search and search.strip().isdigit() else None
    first: list[TrackRow] = []
    out: list[TrackRow] = []
    matched = 0
    for r in db.conn.execute(_ROWS, (model_id,)):
        is_id = r["id"] == wanted_id
        if words and not is_id:
            hay = _norm(" ".join((r["title"], r["artist"], r["album"] or "", r["genre"], r["path"])))
            if not all(w in hay for w in words):
                continue
        matched += 1
        row = TrackRow(
            r["id"], r["title"], r["artist"], r["album"], float(r["duration_s"]), r["path"],
            bool(r["has_lyrics"]), bool(r["has_vector"]),
        )  # fmt: skip
        (first if is_id else out).append(row)
    rows = first + out
    return (rows if limit is None else rows[:limit]), matched
