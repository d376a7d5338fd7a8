"""Last.fm CSV exports of the common export tools, through the real CLI on a real scanned library."""

from __future__ import annotations

import pytest

from tests.history_cli import HISTORIES, import_json, one_error_line, run_import, scanned_library, stored


@pytest.fixture
def db(tmp_path, capsys):
    return scanned_library(tmp_path, capsys)


@pytest.mark.parametrize(
    ("name", "events", "unmatched"),
    [
        (  # uts,utc_time,artist,artist_mbid,album,album_mbid,track,track_mbid: "uts" is the time read
            "lastfm-benjaminbenben.csv",
            [("Rain", "complete", "2023-01-05 21:13:00.000"), ("月亮", "complete", "2023-01-05 21:18:00.000")],
            1,
        ),
        (
            "lastfm-artist-album-track-date.csv",
            [("Night", "complete", "2023-01-05 21:13:00.000"), ("月亮", "complete", "2023-01-05 21:18:00.000")],
            0,
        ),
        (  # no header: artist, album, track, "dd Mon YYYY HH:MM"
            "lastfm-no-header.csv",
            [
                ("Sun", "complete", "2023-01-05 21:13:00.000"),
                ("月亮", "complete", "2023-01-05 21:18:00.000"),
                ("Night", "complete", "2023-01-06 07:05:00.000"),
            ],
            0,
        ),
    ],
)
def test_csv_variants(db, capsys, name, events, unmatched):
    dry = import_json(capsys, db, HISTORIES / name, "--dry-run")
    assert (dry["source"], dry["matched"], dry["unmatched"], dry["imported"]) == ("lastfm", len(events), unmatched, 0)
    assert stored(db) == []
    report = import_json(capsys, db, HISTORIES / name)
    # Last.fm says nothing of skips: by FORMAT.md's rule an unknown field is not a skip, so all are plays.
    assert (report["imported"], report["skips"], report["skipped_malformed"]) == (len(events), 0, 0)
    assert [e[:3] for e in stored(db)] == events
    assert import_json(capsys, db, HISTORIES / name)["duplicates"] == len(events)


def test_dry_run_summary(db, capsys):
    code, out, err = run_import(capsys, db, HISTORIES / "lastfm-benjaminbenben.csv", "--dry-run")
    assert code == 0, err
    assert "3 listens (lastfm) from 2023-01-05 to 2023-01-05" in out
    assert "would import 2" in out and "Nobody Here — Unknown Song" in out


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("uts,utc_time,artist,artist_mbid,album,album_mbid,track,track_mbid\nsoon,x,Anna,,First,,Rain,\n", "date"),
        ("artist,album,track,date\nAnna,First,Rain,32 Foo 2023 99:99\n", "date"),
        ("Anna,First,Rain,not a date at all\n", "expected a header"),
    ],
)
def test_malformed_csv_is_one_line(db, capsys, tmp_path, content, expected):
    path = tmp_path / "scrobbles.csv"
    path.write_text(content, encoding="utf-8")
    code, _, err = run_import(capsys, db, path)
    line = one_error_line(err)
    assert code == 1 and expected in line and "scrobbles.csv" in line, line
    assert stored(db) == []
