"""A database damaged in mid-file (a valid header, garbage in a later page): every command says so in
one line and leaves the file as it was; doctor finds it; doctor never creates a file."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

import pytest

from player_plugin.cli import main
from player_plugin.library.scanner import Scanner
from player_plugin.models import Event, EventKind
from player_plugin.store import Database, EventRepository, TrackRepository
from tests.conftest import make_track

GARBAGE = 0xA5  # not a b-tree page type: SQLite reports the page as corrupt, every time


@pytest.fixture
def damaged(tmp_path) -> tuple[Path, Path, int]:
    """(database, music folder, a track id) with the tracks table's root page overwritten."""
    music = tmp_path / "Music"
    make_track(music, "Rain", "mp3", title="Rain", artist="Anna")
    make_track(music, "Sun", "flac", title="Sun", artist="Anna")
    db = Database(tmp_path / "lib.db")
    assert Scanner(db).scan([music]).added == 2
    track_id = next(iter(TrackRepository(db).iter_all())).id
    EventRepository(db).record(Event(track_id, EventKind.PLAY, 0.0, 0.0, {}))
    db.close()  # the last connection checkpoints the WAL into the file
    _damage(tmp_path / "lib.db", "tracks")
    return tmp_path / "lib.db", music, track_id


def _damage(path: Path, table: str, journal: str | None = None) -> None:
    """Overwrite ``table``'s root page with garbage (after switching to ``journal`` mode, if given)."""
    conn = sqlite3.connect(path)
    if journal:
        conn.execute(f"PRAGMA journal_mode = {journal}")
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (table,)).fetchone()[0]
    conn.close()
    with open(path, "r+b") as fh:
        fh.seek((root - 1) * page_size)
        fh.write(bytes([GARBAGE]) * page_size)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _export(tmp_path: Path) -> Path:
    f = tmp_path / "listens.jsonl"
    listen = {"listened_at": 1_609_459_200, "track_metadata": {"artist_name": "Anna", "track_name": "Rain"}}
    f.write_text(json.dumps(listen) + "\n", encoding="utf-8")
    return f


@pytest.mark.parametrize(
    "command",
    [
        ["library"],
        ["library", "--tracks"],
        ["scan", "{music}"],
        ["feedback", "{track}", "like"],
        ["import-history", "{export}"],
    ],
    ids=["library", "library-tracks", "scan", "feedback", "import-history"],
)
def test_a_damaged_page_is_one_line_and_the_file_is_unchanged(tmp_path, damaged, capsys, command):
    db_path, music, track_id = damaged
    before = _sha(db_path)
    fill = {"{music}": str(music), "{track}": str(track_id), "{export}": str(_export(tmp_path))}
    argv = ["--db", str(db_path), *(fill.get(a, a) for a in command)]
    code = main(argv)
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1
    assert len(err) == 1 and err[0].startswith("player-plugin: error: "), err
    assert f"database {db_path} is damaged" in err[0] and "changed nothing" in err[0], err[0]
    assert _sha(db_path) == before
    wal = db_path.with_name(db_path.name + "-wal")
    assert not wal.exists() or wal.stat().st_size == 0  # nothing committed, nothing to checkpoint later


def test_doctor_finds_a_damaged_page(damaged, capsys):
    db_path, _music, _track = damaged
    before = _sha(db_path)
    assert main(["--db", str(db_path), "doctor"]) == 1
    out, err = capsys.readouterr()
    assert "is damaged" in err and err.count("\n") == 1
    assert "  error: database" in out
    assert _sha(db_path) == before


def test_doctor_flags_a_future_schema(tmp_path, capsys):
    path = tmp_path / "future.db"
    conn = sqlite3.connect(path)
    for table in ("roots", "tracks", "settings"):
        conn.execute(f"CREATE TABLE {table} (x)")
    conn.execute("PRAGMA user_version = 999")
    conn.commit()
    conn.close()
    before = _sha(path)
    assert main(["--db", str(path), "doctor"]) == 1
    out, err = capsys.readouterr()
    assert "schema version 999 is newer" in err and "  error: " in out
    assert _sha(path) == before
    assert sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0] == "delete"  # not switched to WAL


@pytest.mark.parametrize("name", ["lib#1.db", "lib?mode=rwc.db", "a#b?c=d.db"])
def test_doctor_creates_no_file_for_a_name_with_uri_characters(tmp_path, capsys, name):
    folder = tmp_path / "data"
    folder.mkdir()
    assert main(["--db", str(folder / name), "doctor"]) == 0
    assert "not created yet" in capsys.readouterr().out
    assert list(folder.iterdir()) == []
    db = Database(folder / name)  # a real one under that name: doctor reads it, creates nothing else
    _ = db.conn
    db.close()
    listing = sorted(p.name for p in folder.iterdir())
    assert main(["--db", str(folder / name), "doctor"]) == 0
    assert "schema version" in capsys.readouterr().out
    assert sorted(p.name for p in folder.iterdir() if not p.name.endswith(("-wal", "-shm"))) == listing


@pytest.mark.parametrize("command", [["library"], ["scan", "{music}"], ["feedback", "{track}", "like"]])
def test_a_damaged_file_in_another_journal_mode_is_refused_before_its_header_changes(tmp_path, command, capsys):
    """A copy in DELETE journal mode (ours are WAL) with a page of garbage off the command's path: the
    switch to WAL would rewrite its header, so it is checked first and left byte for byte."""
    music = tmp_path / "Music"
    make_track(music, "Rain", "mp3", title="Rain", artist="Anna")
    db = Database(tmp_path / "lib.db")
    assert Scanner(db).scan([music]).added == 1
    track_id = next(iter(TrackRepository(db).iter_all())).id
    for i in range(200):  # enough events for pages of their own
        EventRepository(db).record(Event(track_id, EventKind.PLAY, 0.0, float(i), {"n": "x" * 100}))
    db.close()
    db_path = tmp_path / "lib.db"
    _damage(db_path, "events", journal="DELETE")
    before = _sha(db_path)
    fill = {"{music}": str(music), "{track}": str(track_id)}
    assert main(["--db", str(db_path), *(fill.get(a, a) for a in command)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "is damaged" in err[0], err
    assert _sha(db_path) == before


def test_a_relative_db_named_like_an_sqlite_uri_is_that_file(tmp_path, monkeypatch, capsys):
    music = tmp_path / "Music"
    make_track(music, "Rain", "mp3", title="Rain", artist="Anna")
    monkeypatch.chdir(tmp_path)
    assert main(["--db", "file:w.db", "scan", str(music)]) == 0
    assert (tmp_path / "file:w.db").stat().st_size > 0 and not (tmp_path / "w.db").exists()
    assert (tmp_path / "file:w.db").stat().st_mode & 0o777 == 0o600
    assert main(["--db", "file:w.db", "library"]) == 0
    assert "1 track" in capsys.readouterr().out


def test_threads_opening_a_new_database_at_once_all_see_our_schema(tmp_path):
    """The first connection migrates; another thread's first connection, opened meanwhile, must not
    take the half-made schema for another program's (the library panel's reader did, at start)."""
    import threading

    from player_plugin.store import Database

    def first_read(db: Database, start: threading.Barrier, errors: list[BaseException]) -> None:
        start.wait()
        try:
            db.conn.execute("SELECT count(*) FROM tracks").fetchone()
        except BaseException as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)
        finally:
            db.close()

    for attempt in range(25):
        db = Database(tmp_path / f"new-{attempt}.db")
        start = threading.Barrier(4)
        errors: list[BaseException] = []
        threads = [threading.Thread(target=first_read, args=(db, start, errors)) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors, errors
