"""Hostile history exports: every one is a real file on disk, and each ends as one clear line (or a
skipped, counted listen), never a traceback, a hang or unbounded memory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from player_plugin.cli import main
from player_plugin.importers.json_stream import MAX_JSON_DEPTH, MAX_JSON_VALUE_CHARS
from player_plugin.importers.source import MAX_ZIP_MEMBERS, MAX_ZIP_RATIO
from player_plugin.library.scanner import Scanner
from player_plugin.store import Database, EventRepository
from tests.child_memory import PEAK_CLI, peak_kib
from tests.conftest import make_track

T0 = 1_609_459_200
ROOT = Path(__file__).resolve().parents[1]
CHILD_TIMEOUT_S = 20  # a FIFO used to hang the import for ever
CHILD_ADDRESS_SPACE = 3 * 1024**3  # the old import read /dev/zero until memory ran out
BOMB_MEMBER_MIB = 300
BOMB_RSS_LIMIT_KB = 200 * 1024  # the old import needed 1.1 GB for this zip
DEEP = 100_000


def _lb(ts, artist="Anna", title="Rain") -> dict:
    return {"listened_at": ts, "track_metadata": {"artist_name": artist, "track_name": title}}


def _lines(*entries) -> str:
    return "".join((e if isinstance(e, str) else json.dumps(e)) + "\n" for e in entries)


@pytest.fixture
def db_path(tmp_path) -> Path:
    make_track(tmp_path / "Music", "Rain", "mp3", title="Rain", artist="Anna")
    db = Database(tmp_path / "lib.db")
    assert Scanner(db).scan([tmp_path / "Music"]).added == 1
    db.close()
    return tmp_path / "lib.db"


def _run(capsys, db_path: Path, export: Path) -> tuple[int, str, str]:
    code = main(["--db", str(db_path), "import-history", "--json", str(export)])
    out, err = capsys.readouterr()
    return code, out, err


def _one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("player-plugin: error: "), err
    assert "Traceback" not in err and "internal error" not in err, err
    return lines[0]


def _events(db_path: Path) -> int:
    return EventRepository(Database(db_path)).count()


def _child(db_path: Path, export: str, tmp_path: Path) -> tuple[int, str, int | None]:
    """(exit status, stderr, peak RSS KiB or None) of a real import-history process."""
    peak = tmp_path / "child.peak"
    peak.unlink(missing_ok=True)
    args = ["--db", str(db_path), "import-history", export]
    cmd = [sys.executable, "-c", PEAK_CLI, str(peak), str(CHILD_ADDRESS_SPACE), *args]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HOME": str(tmp_path)}
    try:
        proc = subprocess.run(cmd, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, env=env, timeout=CHILD_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        pytest.fail(f"import-history {export} still running after {CHILD_TIMEOUT_S} s")
    return proc.returncode, proc.stderr.decode("utf-8", "replace"), peak_kib(peak) if peak.exists() else None


# -- nesting and numbers --------------------------------------------------------------------------


def test_deeply_nested_json_is_refused_in_one_line(tmp_path, db_path, capsys):
    f = tmp_path / "deep.json"
    f.write_text("[" * DEEP + "]" * DEEP, encoding="utf-8")
    code, _out, err = _run(capsys, db_path, f)
    assert code == 1
    assert f"nested deeper than {MAX_JSON_DEPTH}" in _one_error_line(err) and "deep.json" in err
    assert _events(db_path) == 0


def test_a_deep_entry_among_good_ones_is_skipped_and_counted(tmp_path, db_path, capsys):
    arr = tmp_path / "some.json"
    arr.write_text(
        "[" + ",".join([json.dumps(_lb(T0)), "[" * DEEP + "]" * DEEP, json.dumps(_lb(T0 + 1))]) + "]",
        encoding="utf-8",
    )
    code, out, err = _run(capsys, db_path, arr)
    assert code == 0, err
    report = json.loads(out)
    assert (report["imported"], report["skipped_malformed"]) == (2, 1)
    jsonl = tmp_path / "some.jsonl"
    jsonl.write_text(_lines(_lb(T0 + 2), "[" * DEEP, "{" * DEEP, _lb(T0 + 3), _lb(T0 + 4)), encoding="utf-8")
    code, out, err = _run(capsys, db_path, jsonl)
    assert code == 0, err
    assert (json.loads(out)["imported"], json.loads(out)["skipped_malformed"]) == (3, 2)


@pytest.mark.parametrize(
    "raw",
    ["9" * 400, "9" * 4400, "-" + "9" * 400, "1e400", "NaN", '"' + "9" * 5000 + '"', "1" + "0" * 25],
    ids=["400-digits", "4400-digits", "negative", "1e400", "nan", "digit-string", "1e25"],
)
def test_absurd_timestamps_skip_the_listen(tmp_path, db_path, capsys, raw):
    entry = '{"listened_at": ' + raw + ', "track_metadata": {"artist_name": "Anna", "track_name": "Rain"}}'
    for name, text in (
        ("ts.json", "[" + ",".join([entry, json.dumps(_lb(T0)), json.dumps(_lb(T0 + 1))]) + "]"),
        ("ts.jsonl", _lines(entry, _lb(T0 + 2), _lb(T0 + 3))),
    ):
        f = tmp_path / name
        f.write_text(text, encoding="utf-8")
        code, out, err = _run(capsys, db_path, f)
        assert code == 0, err
        report = json.loads(out)
        assert (report["imported"], report["skipped_malformed"]) == (2, 1), report
        assert "is not a time" in report["malformed_examples"][0]
        assert len(report["malformed_examples"][0]) < 300  # the number is quoted, not copied whole


def test_an_oversized_value_or_line_is_refused(tmp_path, db_path, capsys):
    huge = tmp_path / "huge.json"
    huge.write_text('[{"listened_at": 1, "x": "' + "a" * (MAX_JSON_VALUE_CHARS + 10) + '"}]', encoding="utf-8")
    code, _out, err = _run(capsys, db_path, huge)
    assert code == 1 and "larger than" in _one_error_line(err)
    csv = tmp_path / "long.csv"
    csv.write_text("Anna,First,Rain,31 Jan 2021 12:34\n" + "x" * (2 * 1024 * 1024) + "\n", encoding="utf-8")
    code, _out, err = _run(capsys, db_path, csv)
    assert code == 1 and "longer than" in _one_error_line(err)


# -- zips -------------------------------------------------------------------------------------------


def test_a_zip_bomb_is_refused_in_bounded_memory(tmp_path, db_path):
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z, z.open("listens/2021/1.jsonl", "w") as member:
        member.write(json.dumps(_lb(T0)).encode() + b"\n")
        chunk = b" " * (1024 * 1024)
        for _ in range(BOMB_MEMBER_MIB):
            member.write(chunk)
    assert bomb.stat().st_size < 1024 * 1024
    code, err, rss = _child(db_path, str(bomb), tmp_path)
    assert code == 1
    assert "zip bomb" in _one_error_line(err) and f"over {MAX_ZIP_RATIO}x" in err
    assert rss is not None and rss < BOMB_RSS_LIMIT_KB, f"peak RSS {rss} KiB"
    assert _events(db_path) == 0


def _good_zip(path: Path, listens: int = 3000) -> bytes:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("listens/2021/1.jsonl", _lines(*(_lb(T0 + i) for i in range(listens))))
    return path.read_bytes()


def test_a_corrupt_deflate_stream_is_one_line(tmp_path, db_path, capsys):
    f = tmp_path / "corrupt.zip"
    data = bytearray(_good_zip(f))
    start = 30 + len("listens/2021/1.jsonl") + 200  # inside the member's deflate stream
    for i in range(start, start + 64):
        data[i] ^= 0x5A
    f.write_bytes(bytes(data))
    code, _out, err = _run(capsys, db_path, f)
    assert code == 1 and "cannot extract" in _one_error_line(err) and "corrupt.zip!listens/2021/1.jsonl" in err
    assert _events(db_path) == 0  # the check pass failed: nothing was written

    cut = tmp_path / "cut.zip"
    cut.write_bytes(_good_zip(tmp_path / "whole.zip")[:-200])
    code, _out, err = _run(capsys, db_path, cut)
    assert code == 1 and "zip" in _one_error_line(err)


def test_a_zip_with_too_many_members_is_refused(tmp_path, db_path, capsys):
    f = tmp_path / "many.zip"
    with zipfile.ZipFile(f, "w", zipfile.ZIP_STORED) as z:
        for i in range(MAX_ZIP_MEMBERS + 1):
            z.writestr(f"listens/{i}.jsonl", "")
    code, _out, err = _run(capsys, db_path, f)
    assert code == 1 and f"at most {MAX_ZIP_MEMBERS}" in _one_error_line(err)


# -- not regular files ------------------------------------------------------------------------------


def test_a_fifo_is_refused_not_waited_on(tmp_path, db_path):
    fifo = tmp_path / "listens.json"
    os.mkfifo(fifo)
    code, err, _rss = _child(db_path, str(fifo), tmp_path)
    assert code == 1 and "FIFO" in _one_error_line(err)


def test_dev_zero_is_refused(tmp_path, db_path):
    code, err, _rss = _child(db_path, "/dev/zero", tmp_path)
    assert code == 1 and "is a device" in _one_error_line(err)


def test_a_folder_is_refused(tmp_path, db_path, capsys):
    folder = tmp_path / "export.json"
    folder.mkdir()
    code, _out, err = _run(capsys, db_path, folder)
    assert code == 1 and "is a folder" in _one_error_line(err)
