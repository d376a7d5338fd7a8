import json
import os
import shutil
import threading

import mutagen
import pytest

from player_plugin.library import read_phase
from player_plugin.library.scanner import Scanner
from player_plugin.models import Event, EventKind
from player_plugin.store import Database, EventRepository, TrackRepository
from tests.conftest import make_track
from tests.mode_bound import run_mode_bound


@pytest.fixture
def db(tmp_path):
    return Database(tmp_path / "db" / "lib.db")


@pytest.fixture
def library(tmp_path):
    root = tmp_path / "Music"
    make_track(root / "Anna" / "First", "01 Rain", "mp3", title="Rain", artist="Anna", lyrics="rain falls")
    make_track(root / "Anna" / "First", "02 Sun", "flac", title="Sun", artist="Anna")
    make_track(root / "Bo", "Night", "ogg", title="Night", artist="Bo", genre="Jazz")
    make_track(root / "Bo", "Dawn", "opus", title="Dawn", artist="Bo")
    make_track(root / "林夕雨", "月亮", "m4a", title="月亮", artist="林夕雨", album="夜")
    (root / "林夕雨" / "月亮.lrc").write_bytes("[ar:林夕雨]\n[00:01.00]你问我爱你有多深\n".encode("gb18030"))
    (root / "Bo" / "cover.jpg").write_bytes(b"\xff\xd8\xff not really a jpeg")
    (root / "Bo" / "notes.txt").write_text("liner notes")
    return root


def _count_reads(monkeypatch):
    calls = []
    real = read_phase.read_tags

    def counting(path):
        calls.append(path)
        return real(path)

    monkeypatch.setattr(read_phase, "read_tags", counting)
    return calls


def test_first_scan_reads_every_format_and_lyrics(db, library):
    report = Scanner(db).scan([library])
    assert (report.added, report.failed, report.removed) == (5, 0, 0), report.failures
    repo = TrackRepository(db)
    counts = repo.counts()
    assert (counts.tracks, counts.artists, counts.with_lyrics) == (5, 3, 2)
    moon = repo.by_path(str(library / "林夕雨" / "月亮.m4a"))
    assert moon.lyrics == "你问我爱你有多深" and moon.lyrics_source == "月亮.lrc"
    rain = repo.by_path(str(library / "Anna" / "First" / "01 Rain.mp3"))
    assert rain.lyrics == "rain falls" and rain.lyrics_source == "embedded"
    assert {t.tags.codec for t in repo.iter_all()} == {"mp3", "flac", "vorbis", "opus", "aac"}


def test_rescan_without_changes_reads_nothing(db, library, monkeypatch):
    Scanner(db).scan([library])
    calls = _count_reads(monkeypatch)
    report = Scanner(db).scan([library])
    assert (report.added, report.updated, report.unchanged, report.removed) == (0, 0, 5, 0)
    assert calls == []


def test_rescan_rereads_changed_file_and_changed_sidecar(db, library, monkeypatch):
    Scanner(db).scan([library])
    sun = library / "Anna" / "First" / "02 Sun.flac"
    audio = mutagen.File(sun)
    audio["title"] = "Sunrise"
    audio.save()
    os.utime(sun, ns=(1, 1_000_000_000))  # make sure the mtime differs even on coarse clocks
    (library / "Bo" / "Night.txt").write_text("a new sidecar\nsecond line", encoding="utf-16")
    calls = _count_reads(monkeypatch)
    report = Scanner(db).scan([library])
    assert (report.added, report.updated, report.unchanged) == (0, 2, 3)
    assert sorted(p.name for p in calls) == ["02 Sun.flac", "Night.ogg"]
    repo = TrackRepository(db)
    assert repo.by_path(str(sun)).tags.title == "Sunrise"
    assert repo.by_path(str(library / "Bo" / "Night.ogg")).lyrics == "a new sidecar\nsecond line"
    # removing the sidecar is a change too
    (library / "Bo" / "Night.txt").unlink()
    report = Scanner(db).scan([library])
    assert report.updated == 1
    assert repo.by_path(str(library / "Bo" / "Night.ogg")).lyrics is None


def test_deleted_file_is_removed_but_its_history_is_kept(db, library):
    Scanner(db).scan([library])
    repo, events = TrackRepository(db), EventRepository(db)
    dawn = library / "Bo" / "Dawn.opus"
    tid = repo.by_path(str(dawn)).id
    events.record(Event(tid, EventKind.LIKE))
    backup = library.parent / "Dawn.opus.bak"
    shutil.move(dawn, backup)
    report = Scanner(db).scan([library])
    assert (report.removed, report.unchanged) == (1, 4)
    assert repo.by_path(str(dawn)) is None and events.count() == 1
    shutil.move(backup, dawn)  # the file comes back: so does its like
    report = Scanner(db).scan([library])
    assert report.added == 1
    assert [e.kind for e in events.for_track(repo.by_path(str(dawn)).id)] == [EventKind.LIKE]


def test_moved_and_renamed_files_keep_their_id_and_history(db, library):
    Scanner(db).scan([library])
    repo, events = TrackRepository(db), EventRepository(db)
    night = library / "Bo" / "Night.ogg"
    tid = repo.by_path(str(night)).id
    events.record(Event(tid, EventKind.COMPLETE, 1.0))
    target = library / "Sorted" / "Bo - Night (2020).ogg"
    target.parent.mkdir()
    shutil.move(night, target)
    report = Scanner(db).scan([library])
    assert (report.moved, report.added, report.removed) == (1, 0, 0)
    moved = repo.by_path(str(target))
    assert moved.id == tid
    assert [e.kind for e in events.for_track(tid)] == [EventKind.COMPLETE]


def test_bad_files_are_skipped_and_reported(db, library, tmp_path):
    bad = library / "bad"
    bad.mkdir()
    (bad / "empty.mp3").write_bytes(b"")
    (bad / "noise.mp3").write_bytes(os.urandom(4096))
    (bad / "letter.flac").write_text("Dear friend, this is not a FLAC file.\n" * 50)
    truncated = (library / "Anna" / "First" / "02 Sun.flac").read_bytes()[:100]
    (bad / "truncated.flac").write_bytes(truncated)
    m4a = (library / "林夕雨" / "月亮.m4a").read_bytes()
    (bad / "truncated.m4a").write_bytes(m4a[:200])
    (bad / "loop").symlink_to(bad)  # a folder linking to itself
    (bad / "dangling.mp3").symlink_to(bad / "missing.mp3")
    bad_name = os.path.join(os.fsencode(bad), b"caf\xe9.mp3")
    shutil.copyfile(library / "Anna" / "First" / "01 Rain.mp3", bad_name)
    report = Scanner(db).scan([library])
    reasons = {os.path.basename(f.path): f.reason for f in report.failures}
    assert report.added == 5
    assert reasons["empty.mp3"] == "empty file (0 bytes)"
    assert "loop" in reasons and "symlink loop" in reasons["loop"]
    assert reasons["dangling.mp3"] == "broken symlink"
    assert reasons["caf\\xe9.mp3"] == "file name is not valid UTF-8"
    for name in ("noise.mp3", "letter.flac", "truncated.flac", "truncated.m4a"):
        assert name in reasons and reasons[name], name
    assert len(report.failures) == 8
    # and a rescan reports them again without touching the good ones
    again = Scanner(db).scan([library])
    assert (again.unchanged, again.failed) == (5, 8)


def test_unreadable_file_is_reported_and_existing_row_kept(db, library, monkeypatch):
    Scanner(db).scan([library])
    sun = library / "Anna" / "First" / "02 Sun.flac"
    os.utime(sun, ns=(1, 2_000_000_000))
    real_open = open

    def guarded_open(file, *args, **kwargs):
        if os.fspath(file) == str(sun):
            raise PermissionError(13, "Permission denied", str(sun))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr("builtins.open", guarded_open)
    report = Scanner(db).scan([library])
    assert [os.path.basename(f.path) for f in report.failures] == ["02 Sun.flac"]
    assert "permission" in report.failures[0].reason.lower()
    assert TrackRepository(db).by_path(str(sun)) is not None  # nothing lost


SCAN = """
import json, sys
from player_plugin.library.scanner import Scanner
from player_plugin.store import Database
report = Scanner(Database(sys.argv[1])).scan([sys.argv[2]])
print(json.dumps({"added": report.added, "failures": [[f.path, f.reason] for f in report.failures]}))
"""


def test_unreadable_permissions_for_real(db, library, tmp_path):
    """A folder and a new file the kernel refuses (mode 000), scanned by a process the modes bind (as
    root too): each reported by name, the readable rest read, and nothing lost — a known file whose
    mode changed is unchanged on disk, so it is kept without being read."""
    Scanner(db).scan([library])
    album = library / "Anna" / "First"
    locked, known = library / "Bo", album / "02 Sun.flac"
    new = make_track(album, "03 Moon", "mp3", title="Moon", artist="Anna")
    make_track(album, "04 Stars", "mp3", title="Stars", artist="Anna")
    for path in (locked, known, new):
        os.chmod(path, 0)
    try:
        got = json.loads(run_mode_bound(SCAN, str(tmp_path / "db" / "lib.db"), str(library)))
    finally:
        os.chmod(locked, 0o755)
        os.chmod(known, 0o644)
        os.chmod(new, 0o644)
    reasons = sorted((os.path.basename(p), r) for p, r in got["failures"])
    assert reasons == [("03 Moon.mp3", "permission denied"), ("Bo", "cannot list folder: permission denied")]
    assert got["added"] == 1  # 04 Stars
    tracks = TrackRepository(db)
    for path in (locked / "Night.ogg", locked / "Dawn.opus", known, album / "04 Stars.mp3"):
        assert tracks.by_path(str(path)) is not None
    assert tracks.by_path(str(new)) is None


def test_file_vanishing_during_scan(db, library, monkeypatch):
    real = read_phase.read_tags
    victim = library / "Bo" / "Night.ogg"

    def vanish_then_read(path):
        if path == victim:
            victim.unlink()
        return real(path)

    monkeypatch.setattr(read_phase, "read_tags", vanish_then_read)
    report = Scanner(db).scan([library])
    assert report.added == 4
    assert [os.path.basename(f.path) for f in report.failures] == ["Night.ogg"]


def test_missing_root_is_reported_and_removes_nothing(db, library, tmp_path):
    Scanner(db).scan([library])
    gone = tmp_path / "unplugged"
    report = Scanner(db).scan([gone])
    assert [f.reason for f in report.failures] == ["folder not found"]
    shutil.move(library, gone)  # the drive is "unplugged": its root disappears
    report = Scanner(db).scan([library])
    assert report.removed == 0 and TrackRepository(db).count() == 5


def test_progress_is_reported_in_batches_and_cancel_stops(db, tmp_path):
    root = tmp_path / "many"
    for i in range(30):
        make_track(root, f"t{i:02d}", "mp3", title=f"Track {i}")
    seen = []
    report = Scanner(db, batch_size=7).scan([root], progress=seen.append)
    assert report.added == 30
    read = [p for p in seen if p.phase == "read"]
    assert [p.done for p in read] == sorted(p.done for p in read)
    assert read[-1].done == read[-1].total == 30
    assert seen[-1].phase == "done" and seen[-1].added == 30
    assert 4 <= len(read) <= 7  # one per batch, not one per file

    db2 = Database(tmp_path / "other.db")
    cancel = threading.Event()

    def stop_after_first_batch(p):
        if p.phase == "read" and p.done >= 7:
            cancel.set()

    report = Scanner(db2, batch_size=7).scan([root], progress=stop_after_first_batch, cancel=cancel)
    assert report.cancelled and report.added == 7
    assert TrackRepository(db2).count() == 7
    report = Scanner(db2, batch_size=7).scan([root])
    assert (report.added, report.unchanged, report.removed) == (23, 7, 0)


def test_nested_and_repeated_roots_scan_once(db, library):
    report = Scanner(db).scan([library, library / "Bo", str(library) + "/"])
    assert report.added == 5


def test_worker_processes_give_the_same_library_as_one_process(tmp_path, library):
    (library / "bad.mp3").write_bytes(os.urandom(2048))
    one = Database(tmp_path / "one.db")
    many = Database(tmp_path / "many.db")
    r1 = Scanner(one, workers=1).scan([library])
    r2 = Scanner(many, workers=2, parallel_threshold=1).scan([library])
    assert r1.as_dict() | {"seconds": 0} == r2.as_dict() | {"seconds": 0}

    def rows(db):
        return [(t.path, t.tags, t.lyrics, t.lyrics_source) for t in TrackRepository(db).iter_all()]

    assert rows(one) == rows(many) and len(rows(one)) == 5


def test_cancel_stops_worker_processes_promptly(tmp_path):
    root = tmp_path / "many"
    for i in range(300):
        make_track(root, f"t{i:03d}", "ogg", title=f"Track {i}")
    cancel = threading.Event()

    def stop_early(p):
        if p.phase == "read" and p.done >= 64:
            cancel.set()

    db = Database(tmp_path / "c.db")
    report = Scanner(db, workers=2, parallel_threshold=1, batch_size=32).scan(
        [root], progress=stop_early, cancel=cancel
    )
    assert report.cancelled and 64 <= report.added < 300
    assert TrackRepository(db).count() == report.added
    assert Scanner(db).scan([root]).added == 300 - report.added
