"""Tracks and their lyrics: what the scanner writes and the library views read."""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from player_plugin.models import TAGS_VERSION, Track, TrackId, TrackTags
from player_plugin.store.db import Database
from player_plugin.text_norm import normalise


@dataclass(frozen=True, slots=True)
class FileState:
    """What a rescan compares against the disk."""

    id: TrackId
    size: int
    mtime_ns: int
    sidecar_sig: str
    fingerprint: str
    tags_version: int = TAGS_VERSION  # the tag reader's version that read the row (models.TAGS_VERSION)
    file: str | None = None  # a CUE sheet's track: the audio file it lies in


@dataclass(frozen=True, slots=True)
class ScannedFile:
    """One file as read by the scanner, ready to be written."""

    path: str
    size: int
    mtime_ns: int
    sidecar_sig: str
    tags: TrackTags
    lyrics: str | None
    lyrics_source: str | None
    # A track of a CUE sheet (library/cue.py): the audio file ``path`` lies in, and where
    file: str | None = None
    start_s: float = 0.0
    end_s: float | None = None


@dataclass(frozen=True, slots=True)
class LibraryCounts:
    tracks: int
    artists: int
    albums: int
    with_lyrics: int
    total_duration_s: float


_norm = normalise  # fingerprints compare text as everything else does (player_plugin/text_norm.py)


def fingerprint(tags: TrackTags) -> str:
    """Identity of a recording independent of where the file lies: tags + rounded duration.

    Two files agree when artist, title and album match after Unicode/case/space normalisation and
    their durations round to the same second. Used to carry history across moves and renames.
    """
    return "\x1f".join((_norm(tags.artist), _norm(tags.title), _norm(tags.album), str(round(tags.duration_s))))


_TRACK_COLUMNS = (
    "path, size, mtime_ns, sidecar_sig, title, artist, artists, album, album_artist, genre, genres, "
    "year, track_number, track_total, disc_number, disc_total, duration_s, bitrate, sample_rate, "
    "channels, codec, mb_track_id, mb_recording_id, mb_album_id, mb_artist_id, has_cover, "
    "fingerprint, track_gain_db, track_peak, album_gain_db, album_peak, tags_version, file, start_s, end_s, "
    "rating"
)


_COLUMN_NAMES = tuple(c.strip() for c in _TRACK_COLUMNS.split(","))
# An upsert: a row another writer added for the same path meanwhile is rewritten, never a UNIQUE error.
_INSERT_TRACK = (
    f"INSERT INTO tracks ({_TRACK_COLUMNS}, added_at, updated_at) VALUES ({', '.join('?' * (len(_COLUMN_NAMES) + 2))}) "
    "ON CONFLICT(path) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in _COLUMN_NAMES if c != "path")
    + ", updated_at = excluded.updated_at RETURNING id"
)


def _row_values(f: ScannedFile) -> tuple:
    t = f.tags
    return (
        f.path, f.size, f.mtime_ns, f.sidecar_sig, t.title, t.artist,
        json.dumps(list(t.artists), ensure_ascii=False), t.album, t.album_artist,
        "; ".join(t.genres), json.dumps(list(t.genres), ensure_ascii=False), t.year,
        t.track_number, t.track_total, t.disc_number, t.disc_total, float(t.duration_s),
        t.bitrate, t.sample_rate, t.channels, t.codec, t.mb_track_id, t.mb_recording_id,
        t.mb_album_id, t.mb_artist_id, int(t.has_cover), fingerprint(t),
        t.track_gain_db, t.track_peak, t.album_gain_db, t.album_peak, TAGS_VERSION,
        f.file, float(f.start_s), f.end_s, t.rating,
    )  # fmt: skip


def is_under(path: str, folder: str) -> bool:
    """``path`` is ``folder`` or inside it: ``under_clause`` for a path in hand (exact, case-sensitive)."""
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def under_clause(column: str, folder: str) -> tuple[str, tuple[str, str, str]]:
    """SQL (and its parameters) selecting ``column`` equal to ``folder`` or inside it, by exact
    byte prefix: ``LIKE`` would ignore ASCII case (``music`` would select ``Music``'s rows).

    A range on the text (``folder/`` <= path < ``folder0``, "0" being the character after the
    separator) uses the column's index and compares with the binary collation.
    """
    base = folder.rstrip("/\\") or folder
    start = base.rstrip(os.sep) + os.sep
    end = start[:-1] + chr(ord(os.sep) + 1)
    return f"({column} = ? OR ({column} >= ? AND {column} < ?))", (base, start, end)


class TrackRepository:
    """Reads and writes ``tracks`` and ``lyrics``. Writers are expected inside ``db.transaction()``."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # -- scanner side --------------------------------------------------------------------------

    def file_states(self, root: str) -> dict[str, FileState]:
        """Every known file under ``root`` (a directory path without trailing separator)."""
        where, params = under_clause("path", root)
        rows = self.db.conn.execute(
            f"SELECT id, path, size, mtime_ns, sidecar_sig, fingerprint, tags_version, file FROM tracks WHERE {where}",
            params,
        )
        return {
            r["path"]: FileState(
                r["id"], r["size"], r["mtime_ns"], r["sidecar_sig"], r["fingerprint"], r["tags_version"], r["file"]
            )
            for r in rows
        }

    def insert(self, f: ScannedFile, now: float | None = None, reattach: bool = True) -> TrackId:
        """Add a new track. ``reattach=False`` skips the orphaned-history lookup (see ``has_orphans``)."""
        now = time.time() if now is None else now
        conn = self.db.conn
        track_id = int(conn.execute(_INSERT_TRACK, (*_row_values(f), now, now)).fetchone()[0])
        if f.lyrics:
            self._write_lyrics(track_id, f)
        if reattach:
            # A file that comes back (same recording) takes back the history it left behind.
            _reattach(conn, track_id, fingerprint(f.tags))
        return track_id

    def has_other(self, fp: str, track_id: TrackId) -> bool:
        """Whether a track other than ``track_id`` is the same recording (fingerprint ``fp``)."""
        row = self.db.conn.execute("SELECT 1 FROM tracks WHERE fingerprint = ? AND id <> ? LIMIT 1", (fp, track_id))
        return row.fetchone() is not None

    def has_orphans(self) -> bool:
        """Whether any event lost its track (so new tracks should look for their history)."""
        return (
            self.db.conn.execute(
                "SELECT 1 FROM events WHERE track_id IS NULL UNION ALL "
                "SELECT 1 FROM comments WHERE track_id IS NULL AND fingerprint IS NOT NULL LIMIT 1"
            ).fetchone()
            is not None
        )

    def update(self, track_id: TrackId, f: ScannedFile, now: float | None = None) -> None:
        """Rewrite a known track from a fresh read (changed file, or a file moved to ``f.path``)."""
        now = time.time() if now is None else now
        assignments = ", ".join(f"{c} = ?" for c in _COLUMN_NAMES)
        self.db.conn.execute(
            f"UPDATE tracks SET {assignments}, updated_at = ? WHERE id = ?",
            (*_row_values(f), now, track_id),
        )
        self._write_lyrics(track_id, f)

    def _write_lyrics(self, track_id: TrackId, f: ScannedFile) -> None:
        conn = self.db.conn
        if f.lyrics:
            conn.execute(
                "INSERT INTO lyrics (track_id, text, source) VALUES (?, ?, ?) "
                "ON CONFLICT(track_id) DO UPDATE SET text = excluded.text, source = excluded.source",
                (track_id, f.lyrics, f.lyrics_source or "embedded"),
            )
        else:
            conn.execute("DELETE FROM lyrics WHERE track_id = ?", (track_id,))

    def delete(self, ids: Iterable[TrackId]) -> int:
        """Remove tracks; their events and comments stay (track_id NULL, fingerprint kept) for a later
        return, or go at once to a track of the same recording that is still in the library (a file
        moved into a folder that was scanned on its own, before this scan pruned its old path)."""
        conn = self.db.conn
        n = 0
        gone: set[str] = set()
        for track_id in ids:
            row = conn.execute("SELECT fingerprint FROM tracks WHERE id = ?", (track_id,)).fetchone()
            if row is None:
                continue
            for table in ("events", "comments"):
                conn.execute(f"UPDATE {table} SET fingerprint = ? WHERE track_id = ?", (row[0], track_id))
            n += conn.execute("DELETE FROM tracks WHERE id = ?", (track_id,)).rowcount
            gone.add(row[0])
        for fp in gone:
            survivor = conn.execute("SELECT id FROM tracks WHERE fingerprint = ? ORDER BY id LIMIT 1", (fp,)).fetchone()
            if survivor is not None:
                _reattach(conn, survivor[0], fp)
        return n

    # -- reader side ---------------------------------------------------------------------------

    def get(self, track_id: TrackId) -> Track | None:
        row = self.db.conn.execute(
            "SELECT t.*, l.text AS lyrics, l.source AS lyrics_source FROM tracks t "
            "LEFT JOIN lyrics l ON l.track_id = t.id WHERE t.id = ?",
            (track_id,),
        ).fetchone()
        return _track(row) if row else None

    def by_path(self, path: str) -> Track | None:
        row = self.db.conn.execute(
            "SELECT t.*, l.text AS lyrics, l.source AS lyrics_source FROM tracks t "
            "LEFT JOIN lyrics l ON l.track_id = t.id WHERE t.path = ?",
            (path,),
        ).fetchone()
        return _track(row) if row else None

    def ids_at(self, path: str) -> list[TrackId]:
        """The track at ``path``; for a CD image or its CUE sheet, each of the sheet's tracks, in order."""
        conn = self.db.conn
        row = conn.execute("SELECT id FROM tracks WHERE path = ?", (path,)).fetchone()
        if row is not None:
            return [row[0]]
        where, params = under_clause("path", path)
        rows = conn.execute(
            f"SELECT id, path, file FROM tracks WHERE file = ? OR (file IS NOT NULL AND {where}) "
            "ORDER BY file, start_s",
            (path, *params),
        )
        # the image's tracks, or the sheet's (``<sheet>/trackNNNN``): not every track in a folder
        return [r["id"] for r in rows if r["file"] == path or os.path.dirname(r["path"]) == path]

    def iter_all(self) -> Iterator[Track]:
        rows = self.db.conn.execute(
            "SELECT t.*, l.text AS lyrics, l.source AS lyrics_source FROM tracks t "
            "LEFT JOIN lyrics l ON l.track_id = t.id ORDER BY t.artist, t.album, t.disc_number, "
            "t.track_number, t.title"
        )
        for row in rows:
            yield _track(row)

    def count(self) -> int:
        return int(self.db.conn.execute("SELECT count(*) FROM tracks").fetchone()[0])

    def find(self, text: str, limit: int = 10) -> list[Track]:
        """Tracks matching a user's words: an id, an exact title or "artist - title", else a part of one."""
        text = text.strip()
        if text.isdigit():
            track = self.get(int(text))
            return [track] if track else []
        key = _norm(text)
        exact, partial = [], []
        for track in self.iter_all():
            title, artist = _norm(track.tags.title), _norm(track.tags.artist)
            if key in (title, f"{artist} - {title}") or any(key == f"{_norm(a)} - {title}" for a in track.tags.artists):
                exact.append(track)
            elif key in f"{artist} - {title}":
                partial.append(track)
        return (exact or partial)[:limit]

    def counts(self) -> LibraryCounts:
        conn = self.db.conn
        tracks, duration = conn.execute("SELECT count(*), coalesce(sum(duration_s), 0) FROM tracks").fetchone()
        # Every credited artist counts once, case-insensitively.
        artists = conn.execute(
            "SELECT count(DISTINCT lower(j.value)) FROM tracks, json_each(tracks.artists) j WHERE trim(j.value) <> ''"
        ).fetchone()[0]
        albums = conn.execute(
            "SELECT count(*) FROM (SELECT DISTINCT lower(album), "
            "lower(coalesce(nullif(album_artist, ''), artist)) FROM tracks "
            "WHERE album IS NOT NULL AND album <> '')"
        ).fetchone()[0]
        with_lyrics = conn.execute("SELECT count(*) FROM lyrics").fetchone()[0]
        return LibraryCounts(int(tracks), int(artists), int(albums), int(with_lyrics), float(duration))


def _reattach(conn: sqlite3.Connection, track_id: TrackId, fp: str) -> None:
    """Give the orphaned events and comments of recording ``fp`` to ``track_id``."""
    for table in ("events", "comments"):
        conn.execute(f"UPDATE {table} SET track_id = ? WHERE track_id IS NULL AND fingerprint = ?", (track_id, fp))


def _track(row: sqlite3.Row) -> Track:
    tags = TrackTags(
        title=row["title"],
        artists=tuple(json.loads(row["artists"])),
        album=row["album"],
        album_artist=row["album_artist"],
        genres=tuple(json.loads(row["genres"])),
        year=row["year"],
        track_number=row["track_number"],
        track_total=row["track_total"],
        disc_number=row["disc_number"],
        disc_total=row["disc_total"],
        duration_s=row["duration_s"],
        bitrate=row["bitrate"],
        sample_rate=row["sample_rate"],
        channels=row["channels"],
        codec=row["codec"],
        mb_track_id=row["mb_track_id"],
        mb_recording_id=row["mb_recording_id"],
        mb_album_id=row["mb_album_id"],
        mb_artist_id=row["mb_artist_id"],
        has_cover=bool(row["has_cover"]),
        track_gain_db=row["track_gain_db"],
        track_peak=row["track_peak"],
        album_gain_db=row["album_gain_db"],
        album_peak=row["album_peak"],
        rating=row["rating"],
    )
    return Track(
        id=row["id"], path=row["path"], tags=tags, lyrics=row["lyrics"], lyrics_source=row["lyrics_source"],
        file=row["file"], start_s=row["start_s"], end_s=row["end_s"],
    )  # fmt: skip
