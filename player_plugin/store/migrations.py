"""Forward-only schema migrations, keyed by ``PRAGMA user_version``.

Each step takes the schema from version N-1 to N inside one transaction, so a crash mid-migration
leaves the previous version intact. Never edit a released step: append a new one.
"""

from __future__ import annotations

import sqlite3

_V1 = """
CREATE TABLE roots (
    path        TEXT PRIMARY KEY,
    added_at    REAL NOT NULL
);

CREATE TABLE tracks (
    id              INTEGER PRIMARY KEY,
    path            TEXT NOT NULL UNIQUE,
    size            INTEGER NOT NULL,
    mtime_ns        INTEGER NOT NULL,
    sidecar_sig     TEXT NOT NULL DEFAULT '',      -- name:size:mtime_ns of lyric sidecars
    title           TEXT NOT NULL,
    artist          TEXT NOT NULL DEFAULT '',      -- display form of artists
    artists         TEXT NOT NULL DEFAULT '[]',    -- JSON list, file order
    album           TEXT,
    album_artist    TEXT,
    genre           TEXT NOT NULL DEFAULT '',      -- display form of genres
    genres          TEXT NOT NULL DEFAULT '[]',    -- JSON list
    year            INTEGER,
    track_number    INTEGER,
    track_total     INTEGER,
    disc_number     INTEGER,
    disc_total      INTEGER,
    duration_s      REAL NOT NULL DEFAULT 0,
    bitrate         INTEGER,
    sample_rate     INTEGER,
    channels        INTEGER,
    codec           TEXT NOT NULL DEFAULT '',
    mb_track_id     TEXT,
    mb_recording_id TEXT,
    mb_album_id     TEXT,
    mb_artist_id    TEXT,
    has_cover       INTEGER NOT NULL DEFAULT 0,
    fingerprint     TEXT NOT NULL,                 -- tags + duration, to recognise moved files
    added_at        REAL NOT NULL,
    updated_at      REAL NOT NULL
);
CREATE INDEX tracks_fingerprint ON tracks(fingerprint);
CREATE INDEX tracks_artist ON tracks(artist);
CREATE INDEX tracks_album ON tracks(album);

CREATE TABLE lyrics (
    track_id    INTEGER PRIMARY KEY REFERENCES tracks(id) ON DELETE CASCADE,
    text        TEXT NOT NULL,
    source      TEXT NOT NULL                      -- 'embedded' or the sidecar file name
);

CREATE TABLE track_vectors (
    track_id    INTEGER NOT NULL REFERENCES tracks(id) ON DELETE CASCADE,
    model_id    TEXT NOT NULL,
    dim         INTEGER NOT NULL,
    vector      BLOB NOT NULL,                     -- float32, little-endian, dim values
    text_hash   TEXT NOT NULL,                     -- hash of the text view that was embedded
    created_at  REAL NOT NULL,
    PRIMARY KEY (track_id, model_id),
    CHECK (length(vector) = 4 * dim)
);

-- Events outlive their track: a removed file sets track_id to NULL and the fingerprint lets a
-- returning file (a re-mounted drive, a re-rip) take its history back.
CREATE TABLE events (
    id          INTEGER PRIMARY KEY,
    track_id    INTEGER REFERENCES tracks(id) ON DELETE SET NULL,
    fingerprint TEXT,
    kind        TEXT NOT NULL CHECK (kind IN
                  ('play', 'complete', 'skip', 'like', 'dislike', 'block', 'queue_remove')),
    position_s  REAL,
    ts          REAL NOT NULL,
    context     TEXT NOT NULL DEFAULT '{}'         -- JSON: session id, prompt, source, comment
);
CREATE INDEX events_track ON events(track_id, kind);
CREATE INDEX events_ts ON events(ts);
CREATE INDEX events_orphans ON events(fingerprint) WHERE track_id IS NULL;

CREATE TABLE profiles (
    name        TEXT PRIMARY KEY,
    data        TEXT NOT NULL DEFAULT '{}',        -- JSON
    vector      BLOB,
    updated_at  REAL NOT NULL
);

CREATE TABLE queue (
    position    INTEGER PRIMARY KEY,
    track_id    INTEGER NOT NULL REFERENCES tracks(id) ON DELETE CASCADE,
    reason      TEXT NOT NULL DEFAULT '',
    manual      INTEGER NOT NULL DEFAULT 0,
    added_at    REAL NOT NULL
);

CREATE TABLE settings (
    key         TEXT PRIMARY KEY,
    value       TEXT NOT NULL                      -- JSON
);
"""

# v2: free-text comments on tracks, with their embedding cached per model.
_V2 = """
CREATE TABLE comments (
    id          INTEGER PRIMARY KEY,
    track_id    INTEGER REFERENCES tracks(id) ON DELETE SET NULL,
    text        TEXT NOT NULL,
    ts          REAL NOT NULL,
    model_id    TEXT,
    vector      BLOB                               -- float32 query embedding of text
);
CREATE INDEX comments_track ON comments(track_id);
"""

# v3: the files the last scan of a folder could not read, with the reason; a finished scan of a
# folder replaces the rows under it, so the list is what the app counts as "N unreadable".
_V3 = """
CREATE TABLE unreadable_files (
    path        TEXT PRIMARY KEY,                  -- display form (undecodable bytes backslash-escaped)
    root        TEXT NOT NULL,                     -- the scanned folder that reported it
    reason      TEXT NOT NULL,
    seen_at     REAL NOT NULL
);
CREATE INDEX unreadable_files_root ON unreadable_files(root);
"""

# v4: comments keep their track's fingerprint, as events do, so a comment whose file was removed
# goes back to the file when it returns (or to the same recording found under another path).
_V4 = """
ALTER TABLE comments ADD COLUMN fingerprint TEXT;
UPDATE comments SET fingerprint = (SELECT fingerprint FROM tracks WHERE tracks.id = comments.track_id);
CREATE INDEX comments_orphans ON comments(fingerprint) WHERE track_id IS NULL;
"""

# v5: ReplayGain per track (library/replaygain.py), and the version of the tag reader that read each
# row: a row read by an older one (all of them, here) is read again by the next scan, however unchanged
# its file (models.TAGS_VERSION).
_V5 = """
ALTER TABLE tracks ADD COLUMN track_gain_db REAL;
ALTER TABLE tracks ADD COLUMN track_peak REAL;
ALTER TABLE tracks ADD COLUMN album_gain_db REAL;
ALTER TABLE tracks ADD COLUMN album_peak REAL;
ALTER TABLE tracks ADD COLUMN tags_version INTEGER NOT NULL DEFAULT 1;
"""

# A track of a CUE sheet (library/cue.py) is part of an audio file: ``file`` is that file (NULL for a
# track that is a whole file, whose ``path`` is the file), ``start_s`` / ``end_s`` where it lies in it.
# ``rating``: the stars in its tags, 0..1 (library/ratings.py), NULL when unrated.
_V6 = """
ALTER TABLE tracks ADD COLUMN file TEXT;
ALTER TABLE tracks ADD COLUMN start_s REAL NOT NULL DEFAULT 0;
ALTER TABLE tracks ADD COLUMN end_s REAL;
CREATE INDEX tracks_file ON tracks(file) WHERE file IS NOT NULL;
ALTER TABLE tracks ADD COLUMN rating REAL;
"""

# Each entry takes the schema from index+0 to index+1.
STEPS: tuple[str, ...] = (_V1, _V2, _V3, _V4, _V5, _V6)
SCHEMA_VERSION = len(STEPS)


class SchemaTooNewError(sqlite3.DatabaseError):
    """The file was written by a newer player_plugin; we refuse to touch it."""


def migrate(conn: sqlite3.Connection) -> int:
    """Bring ``conn``'s schema up to ``SCHEMA_VERSION``; returns the version found before."""
    found = int(conn.execute("PRAGMA user_version").fetchone()[0])
    if found > SCHEMA_VERSION:
        raise SchemaTooNewError(
            f"database schema version {found} is newer than this program's {SCHEMA_VERSION}; upgrade player_plugin"
        )
    for version in range(found, SCHEMA_VERSION):
        conn.execute("BEGIN IMMEDIATE")
        try:
            # Re-read inside the write lock: another process may have migrated meanwhile.
            current = int(conn.execute("PRAGMA user_version").fetchone()[0])
            if current > version:
                conn.execute("COMMIT")
                continue
            for statement in _split(STEPS[version]):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {version + 1}")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
    return found


def _split(script: str) -> list[str]:
    """Split a migration script into statements (``executescript`` would commit implicitly)."""
    out: list[str] = []
    buf: list[str] = []
    for line in script.splitlines():
        stripped = line.split("--", 1)[0].rstrip()
        if not stripped:
            continue
        buf.append(stripped)
        if sqlite3.complete_statement("\n".join(buf)):
            out.append("\n".join(buf))
            buf = []
    if buf:
        raise ValueError("incomplete SQL statement in migration: " + "\n".join(buf))
    return out
