"""A big history import in one process while another records feedback: no event lost, no long wait,
and the import's memory does not grow with the file (real processes, a real SQLite file)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from player_plugin.library.scanner import Scanner
from player_plugin.models import EventKind
from player_plugin.store import Database, EventRepository, TrackRepository
from tests.child_memory import PEAK_CLI, peak_kib
from tests.conftest import make_track

T0 = 1_609_459_200  # 2021-01-01 00:00 UTC
BIG_LISTENS = 200_000
SMALL_LISTENS = 20_000
# Peak RSS may differ by allocator noise between a small and a ten times larger import, not by the
# file: the old import (everything read, decoded and kept) grew by well over 100 MB here.
RSS_GROWTH_LIMIT_KB = 25 * 1024
# A feedback that meets the import waits for one batch at most; the old import held the write lock
# for its whole write phase (seconds for this file, minutes for a real 1.4 M-listen export).
FEEDBACK_WAIT_LIMIT_S = 1.5
ROOT = Path(__file__).resolve().parents[1]
IMPORT_TIMEOUT_S = 120

_FEEDBACK = """
import json, sys, time
from pathlib import Path
from player_plugin.engine import Engine
from player_plugin.store import Database
db_path, track_id, stop, out = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3]), Path(sys.argv[4])
engine = Engine(Database(db_path))
waits = []
while not stop.exists():
    start = time.perf_counter()
    engine.record(track_id, "like")
    waits.append(time.perf_counter() - start)
    time.sleep(0.01)
out.write_text(json.dumps(waits))
"""


@pytest.fixture
def library_db(tmp_path):
    root = tmp_path / "Music"
    make_track(root / "Anna", "Rain", "mp3", title="Rain", artist="Anna")
    make_track(root / "Anna", "Sun", "flac", title="Sun", artist="Anna")
    make_track(root / "Bo", "Night", "ogg", title="Night", artist="Bo")
    db = Database(tmp_path / "lib.db")
    assert Scanner(db).scan([root]).added == 3
    ids = {t.tags.title: t.id for t in TrackRepository(db).iter_all()}
    db.close()
    return tmp_path / "lib.db", ids


def _export(path: Path, n: int) -> Path:
    names = [("Anna", "Rain"), ("Anna", "Sun"), ("Bo", "Night"), ("Zed", "Nothing")]
    with path.open("w", encoding="utf-8") as fh:
        for i in range(n):
            artist, title = names[i % len(names)]
            meta = {"artist_name": artist, "track_name": title, "additional_info": {"n": i}}
            fh.write(json.dumps({"listened_at": T0 + i, "user_name": "me", "track_metadata": meta}) + "\n")
    return path


def _env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "HOME": str(tmp_path)}


def _import(db_path: Path, export: Path, env: dict[str, str]) -> tuple[subprocess.Popen, Path]:
    peak = export.with_suffix(".peak")
    args = ["--db", str(db_path), "import-history", "--json", str(export)]
    cmd = [sys.executable, "-c", PEAK_CLI, str(peak), "0", *args]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env), peak


def _finish(started: tuple[subprocess.Popen, Path]) -> tuple[dict, int]:
    """(the import's JSON report, its peak RSS in KiB) once it exits."""
    proc, peak = started
    out, err = proc.communicate(timeout=IMPORT_TIMEOUT_S)
    assert proc.returncode == 0, err
    return json.loads(out), peak_kib(peak)


def test_feedback_during_a_big_import_is_never_lost_and_memory_stays_flat(tmp_path, library_db):
    db_path, ids = library_db
    env = _env(tmp_path)
    small = _export(tmp_path / "small.jsonl", SMALL_LISTENS)
    report, small_rss = _finish(_import(db_path, small, env))
    assert report["imported"] == SMALL_LISTENS * 3 // 4

    big = _export(tmp_path / "big.jsonl", BIG_LISTENS)
    stop, waits_file = tmp_path / "stop", tmp_path / "waits.json"
    importer = _import(db_path, big, env)
    feedback = subprocess.Popen(
        [sys.executable, "-c", _FEEDBACK, str(db_path), str(ids["Night"]), str(stop), str(waits_file)],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        report, big_rss = _finish(importer)
    finally:
        stop.touch()
        _out, feedback_err = feedback.communicate(timeout=60)
    assert feedback.returncode == 0, feedback_err  # no "database is locked", no traceback
    waits = json.loads(waits_file.read_text())

    assert report["total"] == BIG_LISTENS and report["matched"] == BIG_LISTENS * 3 // 4
    assert report["duplicates"] == SMALL_LISTENS * 3 // 4  # the small file is the big one's start
    assert report["imported"] == (BIG_LISTENS - SMALL_LISTENS) * 3 // 4
    db = Database(db_path)
    likes = [e for e in EventRepository(db).for_track(ids["Night"]) if e.kind == EventKind.LIKE]
    assert len(likes) == len(waits) > 0  # every feedback event the other process recorded is stored
    assert max(waits) < FEEDBACK_WAIT_LIMIT_S, f"a feedback waited {max(waits):.2f} s for the import"
    assert big_rss - small_rss < RSS_GROWTH_LIMIT_KB, f"peak RSS {small_rss} KiB → {big_rss} KiB"
