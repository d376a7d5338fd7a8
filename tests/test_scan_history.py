"""History survives what a scan sees: moves across separately scanned folders, removals and
returns (comments too), and a mount point that is suddenly empty."""

from __future__ import annotations

import shutil

import pytest

from player_plugin.library.scanner import Scanner
from player_plugin.models import Event, EventKind
from player_plugin.store import Database, EventRepository, TrackRepository
from tests.conftest import make_track


@pytest.fixture
def db(tmp_path):
    return Database(tmp_path / "db" / "lib.db")


def _with_history(db: Database, path) -> int:
    track_id = TrackRepository(db).by_path(str(path)).id
    events = EventRepository(db)
    events.record(Event(track_id, EventKind.COMPLETE))
    events.record(Event(track_id, EventKind.LIKE))
    events.add_comment(track_id, "perfect for rain", None, None)
    return track_id


def _history_of(db: Database, path) -> tuple[list[EventKind], list[str]]:
    track = TrackRepository(db).by_path(str(path))
    events = EventRepository(db)
    kinds = [e.kind for e in events.for_track(track.id)]
    comments = [text for track_id, text, *_ in events.comments() if track_id == track.id]
    return kinds, comments


def test_move_into_a_folder_scanned_on_its_own_keeps_history(db, tmp_path):
    root = tmp_path / "lib"
    song = make_track(root / "inbox", "song", "mp3", title="Song", artist="Anna")
    Scanner(db).scan([root])
    _with_history(db, song)
    moved = root / "sorted" / "song.mp3"
    moved.parent.mkdir()
    shutil.move(song, moved)
    Scanner(db).scan([root / "sorted"])  # sees a new file; the old row is outside this scan
    report = Scanner(db).scan([root])  # now the old row is pruned
    assert report.removed == 1
    assert _history_of(db, moved) == ([EventKind.COMPLETE, EventKind.LIKE], ["perfect for rain"])


def test_comments_come_back_with_the_file(db, tmp_path):
    root = tmp_path / "lib"
    make_track(root, "anchor", "mp3", title="Anchor")  # the root is not left empty
    song = make_track(root, "song", "mp3", title="Song", artist="Anna")
    Scanner(db).scan([root])
    _with_history(db, song)
    away = tmp_path / "away.mp3"
    shutil.move(song, away)
    assert Scanner(db).scan([root]).removed == 1
    shutil.move(away, song)
    assert Scanner(db).scan([root]).added == 1
    assert _history_of(db, song) == ([EventKind.COMPLETE, EventKind.LIKE], ["perfect for rain"])


@pytest.mark.parametrize("emptied", ["root", "top folder"])
def test_present_but_empty_mount_point_keeps_its_tracks(db, tmp_path, emptied):
    root = tmp_path / "lib"
    nas = root / "nas"
    for i in range(3):
        make_track(nas / "album", f"song {i}", "mp3", title=f"Song {i}")
    local = make_track(root / "local", "mine", "mp3", title="Mine") if emptied == "top folder" else None
    Scanner(db).scan([root])
    shutil.rmtree(nas / "album")  # the drive went away; its mount point stays, empty
    report = Scanner(db).scan([root])
    assert (report.removed, TrackRepository(db).count()) == (0, 3 + (local is not None))
    kept = root if emptied == "root" else nas
    assert [(w.path, w.reason.split(":")[0]) for w in report.warnings] == [
        (str(kept), "holds no audio now, but the library has 3 tracks there")
    ]
    shutil.rmtree(nas)  # the folder itself gone: now its tracks go
    assert Scanner(db).scan([root]).removed == (3 if local is not None else 0)


def test_folder_emptied_by_sorting_its_files_is_not_kept(db, tmp_path):
    root = tmp_path / "lib"
    song = make_track(root / "inbox", "song", "mp3", title="Song", artist="Anna")
    Scanner(db).scan([root])
    track_id = _with_history(db, song)
    (root / "sorted").mkdir()
    shutil.move(song, root / "sorted" / "song.mp3")
    report = Scanner(db).scan([root])
    assert (report.moved, report.removed, report.warnings) == (1, 0, [])
    assert TrackRepository(db).by_path(str(root / "sorted" / "song.mp3")).id == track_id
