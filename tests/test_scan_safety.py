"""A scan must never lose data because of what a file, a folder name or a tag holds (issue 11 §2)."""

from __future__ import annotations

import pytest

from player_plugin.library.scanner import Scanner
from player_plugin.models import Event, EventKind
from player_plugin.store import Database, EventRepository, TrackRepository
from tests.conftest import make_track


@pytest.fixture
def db(tmp_path):
    return Database(tmp_path / "db" / "lib.db")


def _paths(db: Database) -> set[str]:
    return {t.path for t in TrackRepository(db).iter_all()}


# -- a folder's rows are selected by exact path prefix ------------------------------------------


def test_scanning_lowercase_folder_keeps_the_capitalised_one(db, tmp_path):
    upper = make_track(tmp_path / "Music", "song", "mp3", title="Upper")
    lower = make_track(tmp_path / "music", "other", "mp3", title="Lower")
    scanner = Scanner(db)
    assert scanner.scan([tmp_path / "Music"]).added == 1
    track_id = TrackRepository(db).by_path(str(upper)).id
    EventRepository(db).record(Event(track_id, EventKind.LIKE))
    report = scanner.scan([tmp_path / "music"])
    assert (report.added, report.removed) == (1, 0)
    assert _paths(db) == {str(upper), str(lower)}
    assert EventRepository(db).for_track(track_id)  # its history is still attached


@pytest.mark.parametrize("names", [("a_c", "abc"), ("a%", "a%b"), ("x_", "xy"), ("50%", "50%off")])
def test_wildcard_characters_in_folder_names_are_literal(db, tmp_path, names):
    scanned, neighbour = names
    mine = make_track(tmp_path / scanned, "one", "mp3", title="Mine")
    theirs = make_track(tmp_path / neighbour, "two", "mp3", title="Theirs")
    scanner = Scanner(db)
    scanner.scan([tmp_path / neighbour])
    report = scanner.scan([tmp_path / scanned])
    assert (report.added, report.removed) == (1, 0)
    assert _paths(db) == {str(mine), str(theirs)}
