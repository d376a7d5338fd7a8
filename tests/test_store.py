import os
import sqlite3
import stat
import threading

import numpy as np
import pytest

from player_plugin.models import Event, EventKind, TrackTags
from player_plugin.store import Database, EventRepository, StoreError, TrackRepository, VectorRepository
from player_plugin.store.migrations import SCHEMA_VERSION, migrate
from player_plugin.store.tracks import ScannedFile, fingerprint


def _scanned(path="/music/a.mp3", title="Song", artist="Artist", duration=200.4, lyrics=None):
    tags = TrackTags(title=title, artists=(artist,), album="Album", duration_s=duration, codec="mp3")
    return ScannedFile(path, 100, 1, "", tags, lyrics, "embedded" if lyrics else None)


def test_new_database_is_private_wal_and_migrated(tmp_path):
    db = Database(tmp_path / "sub" / "lib.db")
    assert db.schema_version() == SCHEMA_VERSION
    assert db.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    mode = stat.S_IMODE(os.stat(db.path).st_mode)
    assert mode == 0o600
    with db.transaction() as conn:
        conn.execute("INSERT INTO settings VALUES ('k', '1')")
    wal = db.path.with_name(db.path.name + "-wal")
    assert stat.S_IMODE(os.stat(wal).st_mode) == 0o600


def test_migration_is_idempotent_and_refuses_newer_schema(tmp_path):
    path = tmp_path / "lib.db"
    Database(path).conn.close()
    conn = sqlite3.connect(path, isolation_level=None)
    assert migrate(conn) == SCHEMA_VERSION  # nothing to do the second time
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(StoreError, match="newer"):
        _ = Database(path).conn


def test_not_a_database_is_a_clear_error(tmp_path):
    path = tmp_path / "lib.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="lib.db"):
        _ = Database(path).conn


def test_transaction_rolls_back_on_error(tmp_path):
    db = Database(tmp_path / "lib.db")
    repo = TrackRepository(db)
    with pytest.raises(RuntimeError), db.transaction():
        repo.insert(_scanned())
        raise RuntimeError("boom")
    assert repo.count() == 0


def test_connection_per_thread(tmp_path):
    db = Database(tmp_path / "lib.db")
    main_conn = db.conn
    seen = []
    t = threading.Thread(target=lambda: seen.append(db.conn))
    t.start()
    t.join()
    assert seen[0] is not main_conn


def test_track_roundtrip_lyrics_and_counts(tmp_path):
    db = Database(tmp_path / "lib.db")
    repo = TrackRepository(db)
    with db.transaction():
        a = repo.insert(_scanned("/m/a.mp3", "小河", "林夕雨", lyrics="月亮代表我的心"))
        repo.insert(_scanned("/m/b.mp3", "Other", "林夕雨"))
        repo.insert(_scanned("/m/c.mp3", "Third", "Someone Else"))
    track = repo.get(a)
    assert track.tags.title == "小河" and track.tags.artists == ("林夕雨",)
    assert track.lyrics == "月亮代表我的心" and track.lyrics_source == "embedded"
    counts = repo.counts()
    assert (counts.tracks, counts.artists, counts.albums, counts.with_lyrics) == (3, 2, 2, 1)
    assert set(repo.file_states("/m")) == {"/m/a.mp3", "/m/b.mp3", "/m/c.mp3"}
    assert repo.file_states("/m/a") == {}  # a prefix of a name is not a folder


def test_file_states_escapes_like_wildcards(tmp_path):
    db = Database(tmp_path / "lib.db")
    repo = TrackRepository(db)
    with db.transaction():
        repo.insert(_scanned("/m_x/a.mp3"))
        repo.insert(_scanned("/mAx/b.mp3", title="B"))
    assert set(repo.file_states("/m_x")) == {"/m_x/a.mp3"}


def test_events_survive_track_removal_and_return_with_the_file(tmp_path):
    db = Database(tmp_path / "lib.db")
    tracks, events = TrackRepository(db), EventRepository(db)
    with db.transaction():
        tid = tracks.insert(_scanned("/m/a.mp3"))
    events.record(Event(tid, EventKind.PLAY, 0.0))
    events.record(Event(tid, EventKind.COMPLETE, 200.0))
    with db.transaction():
        tracks.delete([tid])
    assert events.count() == 2 and events.recent() == []
    with db.transaction():  # the same recording comes back under another name
        new_id = tracks.insert(_scanned("/m/renamed.mp3", duration=200.2))
    assert [e.kind for e in events.for_track(new_id)] == [EventKind.PLAY, EventKind.COMPLETE]
    assert events.stats(new_id).completes == 1


def test_event_for_unknown_track_is_refused(tmp_path):
    db = Database(tmp_path / "lib.db")
    with pytest.raises(KeyError):
        EventRepository(db).record(Event(42, EventKind.LIKE))
    with pytest.raises(ValueError):
        EventKind("love")


def test_fingerprint_ignores_case_space_and_width():
    a = TrackTags(title="Hello  World", artists=("ＡＢＣ",), album="x", duration_s=180.2)
    b = TrackTags(title="hello world", artists=("abc",), album="X", duration_s=179.6)
    assert fingerprint(a) == fingerprint(b)


def test_vectors_roundtrip_and_cascade(tmp_path):
    db = Database(tmp_path / "lib.db")
    tracks, vectors = TrackRepository(db), VectorRepository(db)
    with db.transaction():
        t1 = tracks.insert(_scanned("/m/a.mp3"))
        t2 = tracks.insert(_scanned("/m/b.mp3", title="B"))
        vectors.put(t1, "e5", np.arange(4, dtype=np.float32), "h1")
        vectors.put(t2, "e5", np.ones(4, dtype=np.float64), "h2")
    assert np.array_equal(vectors.get(t1, "e5"), np.arange(4, dtype=np.float32))
    ids, mat = vectors.matrix("e5")
    assert ids.tolist() == [t1, t2] and mat.shape == (2, 4) and mat.dtype == np.float32
    with db.transaction():
        tracks.delete([t1])
    assert vectors.count("e5") == 1 and vectors.text_hashes("e5") == {t2: "h2"}


def test_foreign_sqlite_file_is_refused_and_left_as_it_was(tmp_path):
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE notes (text TEXT)")
    conn.commit()
    conn.close()
    before = path.read_bytes()
    with pytest.raises(StoreError, match="another program .tables: notes."):
        _ = Database(path).conn
    assert path.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["other.db"]


def test_a_folder_or_an_uncreatable_path_is_a_clear_error(tmp_path):
    with pytest.raises(StoreError, match="it is a folder"):
        _ = Database(tmp_path).conn
    (tmp_path / "file").write_text("x")
    with pytest.raises(StoreError, match="cannot create database .*file/lib.db"):
        _ = Database(tmp_path / "file" / "lib.db").conn
