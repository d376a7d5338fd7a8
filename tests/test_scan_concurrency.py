"""Two scans of one library at once, in two real processes: the second waits or says so."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from player_plugin.cli_errors import describe
from player_plugin.library.scan_lock import ScanAlreadyRunningError, lock_path
from player_plugin.store import Database, TrackRepository
from tests.conftest import make_track

REPO = Path(__file__).resolve().parents[1]
TRACKS = 6
PROCESS_TIMEOUT_S = 60  # a child that hangs fails the test instead of the suite

# Scans ROOT into DB; once the read phase starts it creates MARKER and then holds the scan (and
# so its lock) for HOLD seconds, long enough for the other process to run into it.
_CHILD = """
import json, sys, time
from pathlib import Path
from player_plugin.library.scanner import Scanner
from player_plugin.store import Database

db, root, marker, hold, wait = sys.argv[1:]

def progress(p):
    if p.phase == "read" and float(hold) > 0 and not Path(marker).exists():
        Path(marker).touch()
        time.sleep(float(hold))

try:
    report = Scanner(Database(db), lock_wait_s=float(wait)).scan([root], progress=progress)
except Exception as exc:
    print(json.dumps({"error": type(exc).__name__, "message": str(exc)}))
    sys.exit(3)
print(json.dumps(report.as_dict()))
"""


def _start(db: Path, root: Path, marker: Path, hold: float, wait: float) -> subprocess.Popen:
    args = [sys.executable, "-c", _CHILD, str(db), str(root), str(marker), str(hold), str(wait)]
    return subprocess.Popen(args, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _result(proc: subprocess.Popen) -> tuple[int, dict]:
    out, err = proc.communicate(timeout=PROCESS_TIMEOUT_S)
    assert out.strip(), err
    return proc.returncode, json.loads(out.strip().splitlines()[-1])


def _wait_for(marker: Path, first: subprocess.Popen) -> None:
    deadline = time.monotonic() + PROCESS_TIMEOUT_S
    while not marker.exists():
        assert first.poll() is None, first.communicate()
        assert time.monotonic() < deadline, "the first scan never reached its read phase"
        time.sleep(0.02)


def _library(tmp_path: Path) -> tuple[Path, Path]:
    root = tmp_path / "lib"
    for i in range(TRACKS):
        make_track(root, f"song {i}", "mp3", title=f"Song {i}")
    db = tmp_path / "db" / "lib.db"
    Database(db).conn  # noqa: B018 - both children open an existing database
    return root, db


def test_second_scan_waits_for_the_first_and_nothing_fails(tmp_path):
    root, db = _library(tmp_path)
    marker = tmp_path / "reading"
    first = _start(db, root, marker, hold=1.5, wait=30)
    _wait_for(marker, first)
    second = _start(db, root, marker, hold=0, wait=30)
    (code1, one), (code2, two) = _result(first), _result(second)
    assert (code1, code2) == (0, 0), (one, two)
    assert (one["added"], one["failed"]) == (TRACKS, 0)
    assert (two["added"], two["unchanged"], two["failed"]) == (0, TRACKS, 0)
    assert TrackRepository(Database(db)).count() == TRACKS


def test_second_scan_gives_up_with_one_line(tmp_path):
    root, db = _library(tmp_path)
    marker = tmp_path / "reading"
    first = _start(db, root, marker, hold=3, wait=30)
    _wait_for(marker, first)
    started = time.monotonic()
    second = _start(db, root, marker, hold=0, wait=0.2)
    code2, two = _result(second)
    assert time.monotonic() - started < 3, "the second scan waited for the whole first one"
    assert (code2, two["error"]) == (3, "ScanAlreadyRunningError")
    assert "a scan is already running" in two["message"]
    code1, one = _result(first)
    assert (code1, one["added"]) == (0, TRACKS)
    assert lock_path(db).stat().st_mode & 0o777 == 0o600


def test_already_running_is_one_cli_line(tmp_path):
    message, status = describe(ScanAlreadyRunningError("a scan is already running on x.db"), tmp_path / "x.db")
    assert (message, status) == ("a scan is already running on x.db", 1)
