"""A database the listener's file modes refuse: every command says what is refused and why in one line
(not SQLite's "unable to open database file"), exits non-zero, and changes nothing; what only reads
still works where reading is allowed. The commands run in a child that file modes bind, root or not
(tests/mode_bound.py)."""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import pytest

from player_plugin.library.scanner import Scanner
from player_plugin.store import Database
from tests.conftest import make_track
from tests.mode_bound import run_mode_bound

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX file modes")

# argv: CLI-ARGS...; prints [exit status, stderr] (the command's own stdout is kept out of it)
CLI = """
import contextlib, io, json, sys
from player_plugin.cli import main
err = io.StringIO()
with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
    code = main(sys.argv[1:])
print(json.dumps([code, err.getvalue()]))
"""


def _cli(*args: str) -> tuple[int, str]:
    code, err = json.loads(run_mode_bound(CLI, *args))
    return code, err


@pytest.fixture
def library_db(tmp_path) -> tuple[Path, Path]:
    """(a database with two scanned tracks, checkpointed and closed; its music folder)."""
    music = tmp_path / "Music"
    make_track(music, "Rain", "mp3", title="Rain", artist="Anna")
    make_track(music, "Sun", "flac", title="Sun", artist="Anna")
    path = tmp_path / "db" / "lib.db"
    db = Database(path)
    assert Scanner(db).scan([music]).added == 2
    db.close()
    return path, music


def _digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}


def _one_error(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("player-plugin: error: "), err
    return lines[0]


def test_unreadable_database(library_db) -> None:
    path, music = library_db
    before = _digest(path.parent)
    path.chmod(0)
    try:
        for args in (["library"], ["scan", str(music)], ["up-next"]):
            code, err = _cli(*args, "--db", str(path))
            assert code != 0
            assert f"cannot open database {path}: permission denied (you may not read it" in _one_error(err)
    finally:
        path.chmod(0o600)
    assert _digest(path.parent) == before


def test_read_only_database(library_db) -> None:
    path, music = library_db
    make_track(music, "Moon", "mp3", title="Moon", artist="Anna")
    path.chmod(0o400)
    try:
        code, err = _cli("library", "--db", str(path))  # reading is allowed: it works
        assert code == 0, err
        code, err = _cli("scan", str(music), "--db", str(path))
        assert code != 0
        assert f"database {path} is read-only for you (permission denied)" in _one_error(err)
    finally:
        path.chmod(0o600)
    db = Database(path)
    try:
        assert db.conn.execute("SELECT COUNT(*) FROM tracks").fetchone()[0] == 2  # the scan wrote nothing
    finally:
        db.close()


def test_database_in_a_read_only_folder(library_db) -> None:
    path, music = library_db
    folder = path.parent
    before = _digest(folder)
    folder.chmod(0o500)
    try:
        for args in (["library"], ["scan", str(music)]):
            code, err = _cli(*args, "--db", str(path))
            assert code != 0
            message = _one_error(err)
            assert f"cannot open database {path}: permission denied in its folder {folder}" in message
            assert "lib.db-wal" in message
    finally:
        folder.chmod(0o700)
    assert _digest(folder) == before
