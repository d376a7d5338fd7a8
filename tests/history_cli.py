"""Shared by the import tests of each format: a real scanned library, the real CLI, the real SQLite file."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from player_plugin.cli import main
from tests.conftest import make_track

HISTORIES = Path(__file__).parent / "fixtures" / "histories"


def scanned_library(tmp_path: Path, capsys) -> Path:
    """Five real tagged audio files (English and Chinese names) scanned by ``player-plugin scan``."""
    root = tmp_path / "Music"
    make_track(root / "Anna", "Rain", "mp3", title="Rain", artist="Anna", album="First")
    make_track(root / "Anna", "Sun", "flac", title="Sun", artist="Anna", album="First")
    make_track(root / "Bo", "Night", "ogg", title="Night", artist="Bo", album="Dark")
    make_track(root / "Duo", "Together", "flac", title="Together", artist=["Cara", "Dan"], album="Duets")
    make_track(root / "林夕雨", "月亮", "m4a", title="月亮", artist="林夕雨", album="夜")
    db = tmp_path / "db" / "lib.db"
    assert main(["--db", str(db), "scan", "--json", str(root)]) == 0
    capsys.readouterr()
    return db


def run_import(capsys, db: Path, path: Path, *flags: str) -> tuple[int, str, str]:
    code = main(["--db", str(db), "import-history", *flags, str(path)])
    out, err = capsys.readouterr()
    return code, out, err


def import_json(capsys, db: Path, path: Path, *flags: str) -> dict:
    code, out, err = run_import(capsys, db, path, "--json", *flags)
    assert code == 0, err
    return json.loads(out)


def stored(db: Path) -> list[tuple[str, str, str, float | None]]:
    """(title, kind, UTC time "YYYY-MM-DD HH:MM:SS", position_s) of every imported event, oldest first."""
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT t.title, e.kind, e.ts, e.position_s, e.context FROM events e JOIN tracks t ON t.id = e.track_id "
            "ORDER BY e.ts, e.id"
        ).fetchall()
    return [
        (title, kind, utc(ts), position)
        for title, kind, ts, position, context in rows
        if json.loads(context or "{}").get("imported")
    ]


def utc(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("player-plugin: error: "), err
    assert "Traceback" not in err and "internal error" not in err, err
    return lines[0]
