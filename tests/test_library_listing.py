"""``library --tracks/--search/--limit`` and the unreadable files a scan keeps (``library --unreadable``)."""

import json
import sqlite3
import threading

import numpy as np
import pytest

from player_plugin import cli
from player_plugin.engine import Engine
from player_plugin.nlp.encoder import DEFAULT_MODEL_ID
from player_plugin.store import Database, SettingsRepository, VectorRepository
from player_plugin.store.migrations import SCHEMA_VERSION
from tests.conftest import database_at_version, make_track


@pytest.fixture
def music(tmp_path):
    root = tmp_path / "Music"
    make_track(root / "A", "one", "mp3", title="One", artist="Alpha", album="First", lyrics="hello")
    make_track(root / "A", "two", "flac", title="Two", artist="Alpha", album="First")
    make_track(root / "B", "three", "ogg", title="雨夜的信", artist="Ｂeta", album="Other")
    (root / "B" / "empty.mp3").write_bytes(b"")
    (root / "B" / "noise.ogg").write_bytes(bytes(range(256)) * 8)
    return root


def run(capsys, *argv):
    code = cli.main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def db(tmp_path, music, capsys):
    path = tmp_path / "lib.db"
    code, _, _ = run(capsys, "scan", str(music), "--db", str(path))
    assert code == 0
    return path


def listing(capsys, db, *extra):
    code, out, err = run(capsys, "library", "--tracks", "--json", "--db", str(db), *extra)
    assert code == 0, err
    return json.loads(out)


def test_tracks_list_ids_tags_flags_and_paths(db, music, capsys):
    data = listing(capsys, db)
    assert (data["matched"], data["total"], data["model"]) == (3, 3, DEFAULT_MODEL_ID)
    rows = {r["title"]: r for r in data["tracks"]}
    one = rows["One"]
    assert one["artist"] == "Alpha" and one["album"] == "First" and one["path"] == str(music / "A" / "one.mp3")
    assert one["has_lyrics"] is True and rows["Two"]["has_lyrics"] is False
    assert one["duration_s"] > 0 and not any(r["has_vector"] for r in data["tracks"])

    database = Database(db)
    VectorRepository(database).put(one["id"], DEFAULT_MODEL_ID, np.ones(4, dtype=np.float32) / 2, "h")
    database.close()
    after = {r["title"]: r["has_vector"] for r in listing(capsys, db)["tracks"]}
    assert after == {"One": True, "Two": False, "雨夜的信": False}

    code, out, _ = run(capsys, "library", "--tracks", "--db", str(db))
    lines = out.splitlines()
    assert code == 0 and lines[0].split()[:4] == ["id", "length", "lyrics", "vector"]
    line = next(x for x in lines if "One" in x)
    assert line.split()[0] == str(one["id"]) and "Alpha — One (First)" in line and line.endswith("one.mp3")
    assert lines[-1] == "3 tracks in the library"


def test_search_matches_every_word_unicode_and_case_insensitively(db, capsys):
    assert [r["title"] for r in listing(capsys, db, "--search", "alpha TWO")["tracks"]] == ["Two"]
    assert [r["title"] for r in listing(capsys, db, "--search", "beta")["tracks"]] == ["雨夜的信"]  # fullwidth Ｂ
    assert [r["title"] for r in listing(capsys, db, "--search", "雨夜")["tracks"]] == ["雨夜的信"]
    assert len(listing(capsys, db, "--search", "first")["tracks"]) == 2  # album
    assert len(listing(capsys, db, "--search", ".flac")["tracks"]) == 1  # path
    some = listing(capsys, db, "--search", "alpha", "--limit", "1")
    assert (len(some["tracks"]), some["matched"], some["total"]) == (1, 2, 3)
    an_id = some["tracks"][0]["id"]
    assert listing(capsys, db, "--search", str(an_id))["tracks"][0]["id"] == an_id  # a number is also an id

    code, out, _ = run(capsys, "library", "--search", "nothing like it", "--db", str(db))
    assert code == 0 and out.strip() == "no track matches 'nothing like it' (of 3)"
    code, out, _ = run(capsys, "library", "--search", "alpha", "--limit", "1", "--db", str(db))
    assert out.splitlines()[-1] == "1 of 2 tracks matching 'alpha' (of 3)"


def test_limit_must_be_positive(db, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["library", "--tracks", "--limit", "0", "--db", str(db)])
    assert exc.value.code == 2 and "at least 1" in capsys.readouterr().err


def test_scan_keeps_its_unreadable_files_until_the_next_scan(db, music, capsys):
    code, out, err = run(capsys, "library", "--unreadable", "--json", "--db", str(db))
    assert code == 0, err
    rows = json.loads(out)["unreadable"]
    assert [(r["path"], r["reason"]) for r in rows] == [
        (str(music / "B" / "empty.mp3"), "empty file (0 bytes)"),
        (str(music / "B" / "noise.ogg"), "not a recognised audio file"),
    ]
    assert all(r["folder"] == str(music) for r in rows)

    code, out, _ = run(capsys, "library", "--db", str(db))
    assert "2 files could not be read: see `player-plugin library --unreadable`" in out
    code, out, _ = run(capsys, "library", "--unreadable", "--db", str(db))
    assert out.splitlines() == [
        f"{music / 'B' / 'empty.mp3'}: empty file (0 bytes)",
        f"{music / 'B' / 'noise.ogg'}: not a recognised audio file",
        "2 files could not be read in the last scan; fix and run `player-plugin scan` again",
    ]

    (music / "B" / "noise.ogg").unlink()
    run(capsys, "scan", "--db", str(db))
    engine = Engine.open(db)
    try:
        files = engine.unreadable_files()
        assert [(f.path, f.reason) for f in files] == [(str(music / "B" / "empty.mp3"), "empty file (0 bytes)")]

        # A cancelled scan, or one whose folder is gone (an unplugged drive), keeps the last list.
        (music / "B" / "empty.mp3").unlink()
        cancelled = threading.Event()
        cancelled.set()
        assert engine.scan([music], cancel=cancelled).cancelled
        assert len(engine.unreadable_files()) == 1
        moved = music.with_name("Music-away")
        music.rename(moved)
        engine.scan([music])
        assert len(engine.unreadable_files()) == 1
        moved.rename(music)
        engine.scan([music])
        assert engine.unreadable_files() == []
    finally:
        engine.close()
    code, out, _ = run(capsys, "library", "--unreadable", "--db", str(db))
    assert out.strip() == "the last scan read every file"


def test_a_scan_of_one_folder_replaces_only_that_folders_list(tmp_path, music, capsys):
    other = tmp_path / "Other"
    other.mkdir()
    (other / "bad.mp3").write_bytes(b"")
    engine = Engine.open(tmp_path / "lib.db")
    try:
        engine.scan([music, other])
        assert len(engine.unreadable_files()) == 3
        (other / "bad.mp3").unlink()
        engine.scan([other])
        assert {f.root for f in engine.unreadable_files()} == {str(music)}
        engine.scan([music / "B"])  # a sub-folder scan renews the entries under it
        assert len(engine.unreadable_files()) == 2
        SettingsRepository(engine.db).remove_root(str(music))  # a folder leaving the library takes its list
        assert engine.unreadable_files() == []
    finally:
        engine.close()


def test_empty_library_listing_points_at_scan(tmp_path, capsys):
    db = tmp_path / "new.db"
    for argv in (["library", "--tracks"], ["library", "--unreadable"], ["library"]):
        code, out, _ = run(capsys, *argv, "--db", str(db))
        assert code == 0 and "run `player-plugin scan DIR` first" in out


def test_tracks_and_unreadable_together_is_a_usage_error(db, capsys):
    code, _, err = run(capsys, "library", "--tracks", "--unreadable", "--db", str(db))
    assert code == 2 and err.count("\n") == 1 and "give one of them" in err


def test_version_2_database_gains_the_unreadable_table_and_keeps_its_data(tmp_path):
    path = database_at_version(tmp_path / "old.db", 2)
    with sqlite3.connect(path) as conn:
        conn.execute("INSERT INTO roots VALUES ('/music', 1.0)")
    conn.close()
    db = Database(path)
    try:
        assert db.schema_version() == SCHEMA_VERSION >= 3
        assert SettingsRepository(db).roots() == ["/music"]
        assert db.conn.execute("SELECT count(*) FROM unreadable_files").fetchone()[0] == 0
    finally:
        db.close()
