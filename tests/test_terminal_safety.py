"""Tag text and file names never reach the terminal raw: no escape sequence, bell or line break
from a file's tags (or its name) gets through the human-readable output; --json stays exact."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from player_plugin import cli, cli_errors
from tests.conftest import make_track

EVIL_TITLE = "evil\x1b[31mred\x1b]0;pwned\x07\r\nline2"
EVIL_ARTIST = "bad\x9b2J\tartist\x85\u2028end"
RAW = ("\x1b", "\x07", "\r", "\x9b", "\x85", "\u2028", "\t")


def _raw_free(text: str) -> bool:
    return not any(c in text for c in RAW)


def _cli(db: Path, *argv: str) -> subprocess.CompletedProcess:
    """Run the CLI; its output decoded by hand (text mode would turn a raw "\r" into "\n")."""
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    proc = subprocess.run(
        [sys.executable, "-m", "player_plugin.cli", "--db", str(db), *argv], capture_output=True, env=env, check=False
    )
    proc.stdout = proc.stdout.decode("utf-8", "surrogateescape")
    proc.stderr = proc.stderr.decode("utf-8", "surrogateescape")
    return proc


@pytest.fixture(scope="module")
def evil_library(tmp_path_factory):
    """A scanned (and embedded) library with one nasty FLAC, one with a CJK title, one plain."""
    root = tmp_path_factory.mktemp("terminal")
    music = root / "Music"
    make_track(music, "evil\x1bname", "flac", title=EVIL_TITLE, artist=EVIL_ARTIST, album="alb\x1b[1m")
    make_track(music, "cjk", "flac", title="伤心的情歌", artist="歌手")
    make_track(music, "plain", "flac", title="Plain Song", artist="Someone")
    db = root / "lib.db"
    proc = _cli(db, "scan", str(music))
    assert proc.returncode == 0, proc.stderr
    assert _raw_free(proc.stdout) and _raw_free(proc.stderr)
    proc = _cli(db, "embed", "--cpu")
    assert proc.returncode == 0, proc.stderr
    return db


def _track_lines(out: str) -> list[str]:
    lines = out.splitlines()
    assert out.endswith("\n") and len(lines) == len(out.split("\n")) - 1  # only "\n" breaks lines
    return lines


def test_library_tracks_escape_control_characters(evil_library):
    proc = _cli(evil_library, "library", "--tracks")
    assert proc.returncode == 0, proc.stderr
    assert _raw_free(proc.stdout)
    lines = _track_lines(proc.stdout)
    assert len(lines) == 1 + 3 + 1  # header, one line per track, summary
    evil = [line for line in lines if "evil" in line]
    assert len(evil) == 1
    assert "\\x1b[31mred" in evil[0] and "line2" in evil[0]
    assert any("歌手 — 伤心的情歌" in line for line in lines)  # printable Unicode is kept


def test_library_search_escapes_control_characters(evil_library):
    proc = _cli(evil_library, "library", "--search", "evil")
    assert proc.returncode == 0, proc.stderr
    assert _raw_free(proc.stdout)
    lines = _track_lines(proc.stdout)
    assert len(lines) == 1 + 1 + 1
    assert "\\x1b" in lines[1] and "line2" in lines[1]


def test_json_output_stays_exact(evil_library):
    proc = _cli(evil_library, "library", "--tracks", "--json")
    data = json.loads(proc.stdout)
    titles = {t["title"] for t in data["tracks"]}
    assert EVIL_TITLE in titles and "伤心的情歌" in titles


def test_similar_and_up_next_escape_control_characters(evil_library):
    proc = _cli(evil_library, "similar", "evil red", "-n", "3")
    assert proc.returncode == 0, proc.stderr
    assert _raw_free(proc.stdout)
    lines = _track_lines(proc.stdout)
    assert len(lines) == 3 and sum("line2" in line for line in lines) == 1

    proc = _cli(evil_library, "up-next", "-n", "2", "--seed", "Plain Song")
    assert proc.returncode == 0, proc.stderr
    assert _raw_free(proc.stdout)
    lines = _track_lines(proc.stdout)
    assert len(lines) == 2 * 2  # a track line and a reason line per entry: the two other tracks
    assert sum("\\x1b[31mred" in line and "line2" in line for line in lines) == 1


def test_feedback_lines_escape_control_characters(evil_library):
    proc = _cli(evil_library, "feedback", "evil", "like")
    assert proc.returncode == 0, proc.stderr
    assert _raw_free(proc.stdout) and _raw_free(proc.stderr)
    assert len(_track_lines(proc.stdout)) == 1 and "recorded like for" in proc.stdout


def test_several_matches_list_escapes(tmp_path, capsys):
    music = tmp_path / "Music"
    make_track(music, "a", "flac", title="twin\x1b[2J\r\none", artist="X\x07")
    make_track(music, "b", "flac", title="twin\x1b[2J\r\ntwo", artist="Y")
    db = tmp_path / "x.db"
    assert cli.main(["scan", str(music), "--db", str(db)]) == 0
    capsys.readouterr()
    assert cli.main(["feedback", "twin", "like", "--db", str(db)]) == 2
    err = capsys.readouterr().err
    assert _raw_free(err)
    lines = _track_lines(err)
    assert len(lines) == 3 and "twin\\x1b[2J\\r\\none" in err


def test_unreadable_lists_escape_file_names(tmp_path, capsys):
    music = tmp_path / "Music"
    music.mkdir()
    (music / "bad\x1b]0;pwned\x07\nname.mp3").write_bytes(b"")
    db = tmp_path / "x.db"
    cli.main(["scan", str(music), "--db", str(db)])
    out = capsys.readouterr().out
    assert _raw_free(out) and len([line for line in out.splitlines() if "pwned" in line]) == 1
    assert cli.main(["library", "--unreadable", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert _raw_free(out)
    lines = _track_lines(out)
    assert len(lines) == 2 and "bad\\x1b]0;pwned\\x07\\nname.mp3" in lines[0]


def test_printable_keeps_text_and_escapes_controls():
    printable = cli_errors.printable
    assert printable("伤心的情歌 — Café ☕ 👩‍👩‍👧") == "伤心的情歌 — Café ☕ 👩‍👩‍👧"
    assert printable("a\x1b[31mb\x07c\r\nd\te\x7f\x9b") == "a\\x1b[31mb\\x07c\\r\\nd\\te\\x7f\\x9b"
    assert printable("x\u2028y\u202ez") == "x\\u2028y\\u202ez"
    assert printable("bad-\udcff-byte") == "bad-\\xff-byte"  # an undecodable file-name byte


def test_error_lines_escape_control_characters(capsys):
    cli_errors.print_error("cannot read /music/evil\x1b]0;pwned\x07.mp3:\r\n bad")
    err = capsys.readouterr().err
    assert _raw_free(err) and err.count("\n") == 1 and "\\x1b]0;pwned\\x07" in err


# -- an empty folder argument is refused, not taken for the current folder --------------------------


@pytest.mark.parametrize("argv", [[""], ["   "], ["{music}", ""], ["\t"]])
def test_scan_refuses_an_empty_folder_argument(argv, tmp_path, monkeypatch, capsys):
    music = tmp_path / "Music"
    make_track(music, "one", "flac", title="One")
    monkeypatch.chdir(music)  # what Path("") would scan
    db = tmp_path / "x.db"
    code = cli.main(["scan", *(a.format(music=music) for a in argv), "--db", str(db)])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("player-plugin: error: ") and "empty" in err
    assert not db.exists()  # nothing scanned, no folder remembered
