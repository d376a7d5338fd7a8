"""Spotify exports through the real CLI on a real scanned library: the account export and the extended
streaming history, as a folder, single files and the zip; skips by FORMAT.md's rule; nothing private stored."""

from __future__ import annotations

import json
import shutil
import zipfile

import pytest

from player_plugin.importers.spotify import SKIP_UNDER_MS, is_skip
from tests.history_cli import HISTORIES, import_json, one_error_line, run_import, scanned_library, stored

ACCOUNT = HISTORIES / "spotify-account"
EXTENDED = HISTORIES / "spotify-extended"
# The fixture's end times minus ms_played: a listen's time is when it started (FORMAT.md).
EXTENDED_EVENTS = [
    ("Rain", "complete", "2021-03-04 12:31:36.000"),  # trackdone, 200 s
    ("Night", "skip", "2021-03-04 12:35:00.000"),  # skipped: true, fwdbtn, 20 s
    ("月亮", "complete", "2021-03-04 12:35:25.000"),  # skipped: false, 245 s
    ("Sun", "skip", "2021-03-04 12:40:30.000"),  # skipped: false but reason_end fwdbtn
    ("Together", "complete", "2021-03-05 09:00:00.000"),  # endsong_0.json: exactly 30 s, not under
]
ACCOUNT_EVENTS = [
    ("Rain", "complete", "2023-01-05 21:09:55.000"),  # 185 s
    ("Night", "skip", "2023-01-05 21:13:55.800"),  # 4.2 s
    ("月亮", "complete", "2023-01-05 21:14:00.000"),  # 240 s
]
PRIVATE = [b"203.0.113.77", b"198.51.100.23", b"Pixel-Secret-Phone", b"Quokka", b"Secret Podcast", b"someone"]


@pytest.fixture
def db(tmp_path, capsys):
    return scanned_library(tmp_path, capsys)


def _kinds(db):
    return [event[:3] for event in stored(db)]


def test_extended_history_folder_stores_skips_and_completions_at_their_start(db, capsys):
    report = import_json(capsys, db, EXTENDED)
    assert report["source"] == "spotify-extended"
    assert (report["total"], report["matched"], report["imported"], report["skips"]) == (5, 5, 5, 2)
    assert (report["skipped_not_music"], report["skipped_malformed"]) == (1, 0)  # the podcast row
    assert _kinds(db) == EXTENDED_EVENTS
    positions = {title: pos for title, kind, _, pos in stored(db) if kind == "skip"}
    assert positions == {"Night": 20.0, "Sun": 150.0}  # where each skip stopped
    again = import_json(capsys, db, EXTENDED)  # both kinds are recognised as duplicates
    assert (again["imported"], again["duplicates"]) == (0, 5)
    assert _kinds(db) == EXTENDED_EVENTS


def test_nothing_private_reaches_the_database(db, capsys):
    import_json(capsys, db, EXTENDED)
    assert len(stored(db)) == 5
    for path in db.parent.iterdir():  # the database and any -wal/-shm beside it
        data = path.read_bytes()
        for secret in PRIVATE:
            assert secret not in data, (path.name, secret)
    assert b"spotify:track:" not in db.read_bytes()


def test_account_export_folder_ignores_other_files(db, capsys):
    report = import_json(capsys, db, ACCOUNT)  # Userdata.json, Playlist1.json, the podcast file: not read
    assert (report["source"], report["total"], report["matched"], report["unmatched"]) == ("spotify", 4, 3, 1)
    assert (report["imported"], report["skips"], report["skipped_malformed"]) == (3, 1, 0)
    assert report["top_unmatched"] == [["Nobody Here", "Unknown Song", 1]]
    assert _kinds(db) == ACCOUNT_EVENTS


def test_dry_run_summary_counts_skips_and_stores_nothing(db, capsys):
    code, out, err = run_import(capsys, db, EXTENDED, "--dry-run")
    assert code == 0, err
    assert "5 listens (spotify-extended) from 2021-03-04 to 2021-03-05" in out
    assert "would import 5" in out and "3 played, 2 skipped" in out
    assert "1 podcast/audiobook" in out and "dry run: nothing was stored" in out
    assert stored(db) == []


def test_single_files(db, capsys):
    one = import_json(capsys, db, EXTENDED / "Streaming_History_Audio_2021-2022_0.json")
    assert (one["imported"], one["skips"], one["skipped_not_music"]) == (4, 2, 1)
    two = import_json(capsys, db, EXTENDED / "endsong_0.json")
    assert two["imported"] == 1
    three = import_json(capsys, db, ACCOUNT / "StreamingHistory_music_0.json")
    assert three["imported"] == 3
    assert sorted(_kinds(db), key=lambda e: e[2]) == EXTENDED_EVENTS + ACCOUNT_EVENTS


def test_the_zip_as_downloaded(db, capsys, tmp_path):
    archive = tmp_path / "my_spotify_data.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        for f in sorted(EXTENDED.iterdir()):
            z.write(f, f"Spotify Extended Streaming History/{f.name}")
        for f in sorted(ACCOUNT.iterdir()):
            z.write(f, f"MyData/{f.name}")
    report = import_json(capsys, db, archive)
    assert report["source"] in ("spotify-extended+spotify", "spotify+spotify-extended")
    assert (report["total"], report["imported"], report["skips"], report["skipped_malformed"]) == (9, 8, 3, 0)
    assert sorted(_kinds(db), key=lambda e: e[2]) == EXTENDED_EVENTS + ACCOUNT_EVENTS


def test_unzipped_export_nested_one_folder_down(db, capsys, tmp_path):
    top = tmp_path / "download"
    shutil.copytree(EXTENDED, top / "Spotify Extended Streaming History")
    assert import_json(capsys, db, top)["imported"] == 5


def test_skip_rule_is_format_md():
    assert is_skip(True, "trackdone", 200_000)
    assert is_skip(None, "fwdbtn", 200_000)
    assert is_skip(False, "endplay", SKIP_UNDER_MS - 1)
    assert not is_skip(False, "endplay", SKIP_UNDER_MS)
    assert not is_skip(None, None, None)  # unknown is not a skip
    assert not is_skip(None, "trackdone", 31_000)


def _write(tmp_path, name, rows) -> object:
    path = tmp_path / name
    path.write_text(rows if isinstance(rows, str) else json.dumps(rows), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("Streaming_History_Audio_2021_0.json", '[{"ts": "2021-03-04T12:34:56Z", "ms_played": 1', "invalid JSON"),
        ("StreamingHistory_music_0.json", '[{"endTime": "2023-01-05 21:13", "artistName": "Anna",', "invalid JSON"),
        (
            "Streaming_History_Audio_2021_1.json",
            [{"ts": "yesterday", "ms_played": 5, "master_metadata_track_name": "Rain",
              "master_metadata_album_artist_name": "Anna"}],
            "is not a time",
        ),
        (
            "StreamingHistory_music_1.json",
            [{"endTime": "2023-01-05 21:13", "artistName": "Anna", "trackName": "Rain", "msPlayed": "lots"}],
            "is not milliseconds",
        ),
    ],
)  # fmt: skip
def test_malformed_files_are_one_line(db, capsys, tmp_path, name, content, expected):
    path = _write(tmp_path, name, content)
    code, out, err = run_import(capsys, db, path)
    line = one_error_line(err)
    assert code == 1 and expected in line and name in line, line
    assert stored(db) == []


def test_folder_without_spotify_files_is_one_line(db, capsys, tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "Userdata.json").write_text("{}", encoding="utf-8")
    code, _, err = run_import(capsys, db, tmp_path / "empty")
    line = one_error_line(err)
    assert code == 1 and "is a folder without Spotify streaming history files" in line
