"""Bad databases against the real CLI: one line on stderr, a non-zero status, no traceback, the file untouched.

Every database here is a real file (or folder, or unwritable place); the lock is held by a real second
process. Only the busy timeout is shortened, so the lock tests do not wait the full ten seconds.
"""

import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from player_plugin import cli, cli_errors
from player_plugin.store import db as store_db
from player_plugin.store.migrations import SCHEMA_VERSION
from tests.conftest import make_track

SHORT_BUSY_TIMEOUT_S = 0.3


@pytest.fixture
def music(tmp_path):
    root = tmp_path / "Music"
    make_track(root, "one", "mp3", title="One", artist="Alpha")
    return root


@pytest.fixture
def history(tmp_path):
    path = tmp_path / "scrobbles.csv"
    path.write_text("uts,artist,album,track\n1609459200,Alpha,,One\n", encoding="utf-8")
    return path


def _corrupt(path: Path) -> None:
    path.write_bytes(bytes(range(1, 256)) * 40)  # not SQLite's header, not text


def _text(path: Path) -> None:
    path.write_text("these are my notes, not a database\n" * 20, encoding="utf-8")


def _foreign(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE contacts (name TEXT, phone TEXT)")
    conn.execute("INSERT INTO contacts VALUES ('Ada', '123')")
    conn.commit()
    conn.close()


def _foreign_versioned(path: Path) -> None:
    """Another program that also uses ``user_version``."""
    _foreign(path)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 1")
    conn.close()


def _too_new(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE roots (path TEXT)")
    conn.execute("CREATE TABLE tracks (id INTEGER)")
    conn.execute("CREATE TABLE settings (key TEXT)")
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    conn.close()


BAD_FILES = {
    "corrupt": (_corrupt, "not a SQLite database"),
    "text": (_text, "not a SQLite database"),
    "foreign": (_foreign, "another program"),
    "foreign-versioned": (_foreign_versioned, "another program"),
    "too-new": (_too_new, "newer"),
}


def commands(music: Path, history: Path) -> dict[str, list[str]]:
    return {
        "scan": ["scan", str(music)],
        "library": ["library"],
        "library-tracks": ["library", "--tracks"],
        "library-unreadable": ["library", "--unreadable"],
        "doctor": ["doctor"],
        "embed": ["embed", "--cpu"],
        "similar": ["similar", "rainy night"],
        "up-next": ["up-next"],
        "feedback": ["feedback", "One", "like"],
        "import-history": ["import-history", str(history), "--dry-run"],
        "app": ["app"],
        "no-command": [],
    }


COMMANDS = list(commands(Path("m"), Path("h")))


def run(capsys, argv):
    code = cli.main(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


def assert_one_line_error(code, err, *expected):
    assert code != 0
    assert err.endswith("\n") and err.count("\n") == 1, err
    assert err.startswith("player-plugin: error: ") and "Traceback" not in err
    for text in expected:
        assert text in err, err


def folder_state(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("kind", list(BAD_FILES))
def test_bad_database_file_is_one_line_and_left_unchanged(kind, command, tmp_path, music, history, capsys):
    folder = tmp_path / "dbs"
    folder.mkdir()
    db = folder / "library.db"
    make, expected = BAD_FILES[kind]
    make(db)
    before = folder_state(folder)
    argv = commands(music, history)[command]
    code, _, err = run(capsys, ["--db", str(db), *argv])
    assert_one_line_error(code, err, str(db), expected)
    assert folder_state(folder) == before  # same bytes, and no -wal/-shm/-journal left beside it


@pytest.mark.parametrize("command", COMMANDS)
def test_database_env_pointing_at_a_folder(command, tmp_path, music, history, capsys, monkeypatch):
    folder = tmp_path / "a-folder"
    folder.mkdir()
    monkeypatch.setenv("PLAYER_PLUGIN_DB", str(folder))
    code, _, err = run(capsys, commands(music, history)[command])
    assert_one_line_error(code, err, str(folder), "folder")
    assert list(folder.iterdir()) == []


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux /proc")
@pytest.mark.parametrize("command", ["scan", "library", "similar", "feedback", "up-next", "app"])
def test_database_where_no_file_can_be_made(command, tmp_path, music, history, capsys):
    code, _, err = run(capsys, ["--db", "/proc/x.db", *commands(music, history)[command]])
    assert_one_line_error(code, err, "cannot create database /proc/x.db")


def test_doctor_reports_a_bad_database_and_fails(tmp_path, capsys):
    db = tmp_path / "library.db"
    _foreign(db)
    code, out, err = run(capsys, ["doctor", "--db", str(db)])
    assert_one_line_error(code, err, "another program")
    assert "models:" in out and "error: " in out  # the rest of the report is still printed


# -- a database another process holds locked ------------------------------------------------------------

HOLDER = textwrap.dedent(
    """
    import sqlite3, sys
    conn = sqlite3.connect(sys.argv[1], isolation_level=None)
    if sys.argv[2] == "exclusive":
        conn.execute("PRAGMA locking_mode = EXCLUSIVE")  # readers are shut out too
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("INSERT INTO settings (key, value) VALUES ('held', '1')")
    print("holding", flush=True)
    sys.stdin.read()  # until the test closes our stdin
    conn.execute("ROLLBACK")
    """
)


@pytest.fixture
def library_db(tmp_path, music, capsys):
    db = tmp_path / "library.db"
    assert cli.main(["scan", str(music), "--db", str(db)]) == 0
    capsys.readouterr()
    return db


def hold_lock(db: Path, how: str) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(db), how], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout.readline().strip() == "holding"
    return proc


def release(proc: subprocess.Popen) -> None:
    proc.stdin.close()
    proc.wait(timeout=10)


@pytest.mark.parametrize("command", ["scan", "library", "library-tracks", "doctor", "feedback", "up-next", "app"])
def test_exclusively_locked_database_says_so(command, library_db, music, history, capsys, monkeypatch):
    monkeypatch.setattr(store_db, "BUSY_TIMEOUT_S", SHORT_BUSY_TIMEOUT_S)
    holder = hold_lock(library_db, "exclusive")
    try:
        code, _, err = run(capsys, ["--db", str(library_db), *commands(music, history)[command]])
    finally:
        release(holder)
    assert_one_line_error(code, err, "is locked by another process", str(library_db))


def test_write_lock_lets_readers_in_and_writers_wait_then_fail(library_db, capsys, monkeypatch):
    monkeypatch.setattr(store_db, "BUSY_TIMEOUT_S", SHORT_BUSY_TIMEOUT_S)
    holder = hold_lock(library_db, "shared")
    try:
        code, out, err = run(capsys, ["--db", str(library_db), "library"])
        assert code == 0 and out.startswith("1 track"), err
        code, _, err = run(capsys, ["--db", str(library_db), "feedback", "One", "like"])
        assert_one_line_error(code, err, "is locked by another process", f"waited {SHORT_BUSY_TIMEOUT_S:g} s")
    finally:
        release(holder)
    code, out, _ = run(capsys, ["--db", str(library_db), "feedback", "One", "like"])
    assert code == 0 and out.startswith("recorded like")  # the lock gone, the same command works


# -- --debug, and the real entry point ------------------------------------------------------------------


def cli_proc(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "player_plugin", *argv], capture_output=True, text=True, timeout=120)


def test_installed_cli_prints_one_line_and_debug_shows_the_traceback(tmp_path):
    db = tmp_path / "notes.db"
    _text(db)
    before = db.read_bytes()
    proc = cli_proc("--db", str(db), "library")
    assert proc.returncode == 1 and proc.stdout == ""
    assert proc.stderr.startswith("player-plugin: error: cannot open database") and proc.stderr.count("\n") == 1
    for argv in (["--debug", "--db", str(db), "library"], ["library", "--db", str(db), "--debug"]):
        proc = cli_proc(*argv)
        assert proc.returncode != 0
        assert "Traceback (most recent call last)" in proc.stderr and "StoreError" in proc.stderr
    assert db.read_bytes() == before


def test_unexpected_errors_are_one_line_with_a_hint():
    message, code = cli_errors.describe(ZeroDivisionError("division by zero\nsecond line"), None)
    assert code == cli_errors.EXIT_INTERNAL and "internal error: ZeroDivisionError" in message
    assert "--debug" in message
    assert cli_errors.one_line(message) == "internal error: ZeroDivisionError: division by zero second line " + (
        "(run with --debug for details)"
    )


def test_evaluate_with_a_missing_dataset_is_one_line(tmp_path, capsys):
    code, _, err = run(capsys, ["evaluate", "--dataset", str(tmp_path / "nope")])
    assert_one_line_error(code, err, str(tmp_path / "nope"))


def test_the_app_without_qt_is_one_line_pointing_at_the_commands(tmp_path, monkeypatch, capsys):
    """A broken or missing PySide6: one line and the commands, not a traceback (nor a fake app)."""
    import sys

    from player_plugin import cli

    monkeypatch.setitem(sys.modules, "player_plugin.ui.app", None)  # importing it raises ImportError
    code = cli.main(["--db", str(tmp_path / "l.db")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and len(err) == 1 and "cannot load Qt" in err[0] and "--help" in err[0]
