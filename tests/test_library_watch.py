"""The library watch (library/watch.py) on real folders with the kernel's inotify, and the scan of
what it reports (``Engine.scan_changes``), which must decide as a whole rescan would."""

from __future__ import annotations

import json
import os
import queue
import shutil
import sqlite3

import mutagen
import pytest

from player_plugin.engine import Engine
from player_plugin.library import inotify
from player_plugin.library.scanner import Scanner
from player_plugin.library.watch import ChangeBatch, Changes, FolderWatcher, scan_group
from player_plugin.models import Event, EventKind
from player_plugin.store import Database, EventRepository, TrackRepository
from tests.conftest import make_track
from tests.mode_bound import run_mode_bound

QUIET_S = 0.3  # the tests' quiet period (the app's is library/watch.WATCH_QUIET_S)
WAIT_S = 20.0  # for a batch to arrive on a loaded machine

linux_only = pytest.mark.skipif(not inotify.available(), reason="inotify is Linux's (other systems rescan on start)")


def test_a_change_names_the_top_folder_of_its_library_folder():
    roots = ["/m/Music", "/m/More"]
    assert scan_group("/m/Music/Anna/First/01.mp3", roots) == "/m/Music/Anna"
    assert scan_group("/m/Music/Anna", roots, folder=True) == "/m/Music/Anna"
    assert scan_group("/m/Music/Anna/First", roots, folder=True) == "/m/Music/Anna"
    assert scan_group("/m/Music/loose.mp3", roots) == "/m/Music"  # directly in the library folder
    assert scan_group("/m/Music", roots, folder=True) == "/m/Music"
    assert scan_group("/m/More/x/y/z.flac", roots) == "/m/More/x"
    assert scan_group("/m/Musical/a.mp3", roots) is None  # a prefix is not a parent
    assert scan_group("/elsewhere/a.mp3", roots) is None


def test_a_batch_is_due_after_a_quiet_spell_or_a_long_wait():
    batch = ChangeBatch(quiet_s=2.0, max_wait_s=10.0)
    assert batch.wait_s(0.0) is None
    batch.add("/m/A", 0.0)
    assert batch.wait_s(1.0) == pytest.approx(1.0)
    for t in range(1, 9):  # changes keep coming: no quiet spell, so the long wait decides
        batch.add("/m/B", float(t))
    assert batch.wait_s(9.0) == pytest.approx(1.0)
    assert batch.wait_s(10.0) == 0.0
    batch.add("/m", 10.0, deleted="/m/gone.mp3")
    assert batch.take() == Changes(["/m"], frozenset({"/m/gone.mp3"}))  # the library folder covers its top folders
    assert batch.wait_s(11.0) is None and batch.take() == Changes([])


class Watch:
    """A FolderWatcher on real folders whose batches land in a queue."""

    def __init__(self, roots):
        self.batches: queue.Queue[list[str]] = queue.Queue()
        self.notices: list[str] = []
        self.watcher = FolderWatcher([str(r) for r in roots], self.batches.put, self.notices.append, QUIET_S)
        self.watcher.start()
        assert self.watcher.ready.wait(WAIT_S)

    def next(self) -> list[str]:
        """The folders of the next batch (its deleted paths in ``self.deleted``)."""
        changes = self.batches.get(timeout=WAIT_S)
        self.deleted = changes.deleted
        return changes.folders

    def nothing(self, wait_s: float = 3 * QUIET_S) -> bool:
        try:
            got = self.batches.get(timeout=wait_s)
        except queue.Empty:
            return True
        raise AssertionError(f"unexpected batch {got}")

    def stop(self):
        self.watcher.stop()


@pytest.fixture
def music(tmp_path):
    root = tmp_path / "Music"
    make_track(root / "Anna" / "First", "01 Rain", "mp3", title="Rain", artist="Anna")
    make_track(root / "Bo", "Night", "ogg", title="Night", artist="Bo")
    return root


@linux_only
def test_the_watch_reports_what_a_scan_reads_and_nothing_else(music, tmp_path):
    w = Watch([music])
    try:
        assert w.watcher.watched == 4  # Music, Anna, Anna/First, Bo
        make_track(music / "Anna" / "First", "02 Sun", "flac", title="Sun", artist="Anna")  # copy + tag: one batch
        assert w.next() == [str(music / "Anna")]
        (music / "Bo" / "cover.jpg").write_bytes(b"not audio")  # what a scan never reads
        (music / "Bo" / ".Night.ogg.partial").write_bytes(b"a download under way")
        assert w.nothing()

        audio = mutagen.File(music / "Bo" / "Night.ogg", easy=True)  # a tag editor's save, in place
        audio["title"] = "Midnight"
        audio.save()
        assert w.next() == [str(music / "Bo")]
        (music / "Bo" / "Night.lrc").write_text("[00:01.00]la la\n", encoding="utf-8")  # a lyrics sidecar
        assert w.next() == [str(music / "Bo")]
        (music / "Bo" / "Night.cue").write_text('FILE "Night.ogg" WAVE\n', encoding="utf-8")  # a CUE sheet
        assert w.next() == [str(music / "Bo")]

        deep = music / "Cleo" / "Live" / "Disc 1"  # a new folder tree, then a file deep inside it
        deep.mkdir(parents=True)
        assert w.next() == [str(music / "Cleo")]
        make_track(deep, "01 Open", "opus", title="Open", artist="Cleo")
        assert w.next() == [str(music / "Cleo")]

        os.rename(music / "Cleo" / "Live", music / "Anna" / "Live")  # a move: both sides in one batch
        assert w.next() == [str(music / "Anna"), str(music / "Cleo")]
        assert w.deleted == {str(music / "Cleo" / "Live")}  # moved away from there
        make_track(music / "Anna" / "Live" / "Disc 1", "02 Close", "mp3", title="Close", artist="Cleo")
        assert w.next() == [str(music / "Anna")]  # the moved folders are watched where they are now

        outside = tmp_path / "Downloads"
        make_track(outside, "Fresh", "mp3", title="Fresh", artist="Dee")
        os.rename(outside / "Fresh.mp3", music / "Fresh.mp3")  # moved in, directly into the library folder
        assert w.next() == [str(music)]
        os.link(music / "Fresh.mp3", music / "Bo" / "Fresh again.mp3")  # a hard link is complete at once
        assert w.next() == [str(music / "Bo")]
        (music / "Bo" / "Night.ogg").unlink()
        assert w.next() == [str(music / "Bo")] and w.deleted == {str(music / "Bo" / "Night.ogg")}
        shutil.rmtree(music / "Anna")
        assert w.next() == [str(music / "Anna")] and str(music / "Anna") in w.deleted
        assert w.nothing() and not w.notices
    finally:
        w.stop()


@pytest.fixture
def engine(tmp_path, music):
    e = Engine(Database(tmp_path / "db" / "library.db"))
    e.scan([music])
    yield e
    e.close()


def _titles(engine: Engine) -> set[str]:
    return {t.tags.title for t in engine.tracks.iter_all()}


def test_a_watched_scan_reads_only_the_folders_named(engine, music):
    make_track(music / "Anna" / "First", "02 Sun", "flac", title="Sun", artist="Anna")
    make_track(music / "Bo", "Dawn", "opus", title="Dawn", artist="Bo")  # not reported: not looked at
    report = engine.scan_changes([str(music / "Anna")])
    assert (report.added, report.removed) == (1, 0)
    assert _titles(engine) == {"Rain", "Night", "Sun"}
    assert engine.scan_changes([str(music.parent / "Elsewhere")]).added == 0  # outside the library: ignored
    assert engine.scan().added == 1  # the whole rescan finds the rest
    assert engine.roots() == [str(music)]  # a watched folder is not a new library folder


def test_a_watched_scan_decides_as_a_whole_rescan_would(tmp_path, engine, music):
    make_track(music / "Anna" / "Second", "01 Sea", "mp3", title="Sea", artist="Anna")
    make_track(music / "Cleo", "Open", "ogg", title="Open", artist="Cleo")
    make_track(music / "Cleo", "Close", "ogg", title="Close", artist="Cleo")
    engine.scan()
    twin = tmp_path / "twin.db"  # the same changes, scanned whole: the reference
    with sqlite3.connect(engine.db.path) as src, sqlite3.connect(twin) as dst:
        src.backup(dst)

    (music / "Anna" / "First" / "01 Rain.mp3").unlink()  # an album folder emptied: its track goes
    shutil.rmtree(music / "Bo")  # a top folder deleted: its tracks go
    for f in (music / "Cleo").iterdir():  # a top folder emptied but there (an empty mount point?): kept
        f.unlink()
    watched = engine.scan_changes([str(music / "Anna"), str(music / "Bo"), str(music / "Cleo")])
    whole = Scanner(Database(twin)).scan([music])
    assert (watched.removed, len(watched.warnings)) == (whole.removed, len(whole.warnings)) == (2, 1)
    assert "holds no audio now" in watched.warnings[0].reason and watched.warnings[0].path.endswith("Cleo")
    assert _titles(engine) == {t.tags.title for t in TrackRepository(Database(twin)).iter_all()}
    assert _titles(engine) == {"Sea", "Open", "Close"}


def test_a_folder_emptied_by_deleting_its_music_is_emptied_in_the_library(engine, music):
    """A rescan keeps the tracks of a top folder that suddenly holds nothing (an empty mount point?);
    the watch saw the files deleted, so they go."""
    make_track(music / "Bo", "Dawn", "opus", title="Dawn", artist="Bo")
    engine.scan()
    night, dawn = music / "Bo" / "Night.ogg", music / "Bo" / "Dawn.opus"
    night.unlink()
    dawn.unlink()
    kept = engine.scan_changes([str(music / "Bo")], deleted=[str(night)])  # one deletion not seen: kept
    assert (kept.removed, len(kept.warnings)) == (1, 1) and _titles(engine) == {"Rain", "Dawn"}
    gone = engine.scan_changes([str(music / "Bo")], deleted=[str(dawn)])
    assert (gone.removed, gone.warnings) == (1, []) and _titles(engine) == {"Rain"}


def test_a_move_seen_in_one_batch_keeps_the_tracks_history(engine, music):
    (track,) = [t for t in engine.tracks.iter_all() if t.tags.title == "Night"]
    EventRepository(engine.db).record(Event(track.id, EventKind.LIKE))
    (music / "Anna" / "Bo").mkdir()
    os.rename(music / "Bo" / "Night.ogg", music / "Anna" / "Bo" / "Night.ogg")
    report = engine.scan_changes([str(music / "Anna"), str(music / "Bo")])
    assert (report.added, report.removed, report.moved) == (0, 0, 1)
    moved = engine.tracks.get(track.id)
    assert moved is not None and moved.path == str(music / "Anna" / "Bo" / "Night.ogg")


WATCHED_SCAN = """
import json, sys
from player_plugin.engine import Engine
from player_plugin.store import Database
engine = Engine(Database(sys.argv[1]))
engine.scan_changes([sys.argv[2]])
print(json.dumps([(f.path, f.root) for f in engine.unreadable_files()]))
"""


def test_what_a_watched_scan_cannot_read_is_listed_under_its_library_folder(engine, music):
    locked = make_track(music / "Bo", "Locked", "mp3", title="Locked", artist="Bo")
    locked.chmod(0)
    try:  # in a child that file modes bind, even as root (tests/mode_bound.py)
        got = json.loads(run_mode_bound(WATCHED_SCAN, str(engine.db.path), str(music / "Bo")))
    finally:
        locked.chmod(0o644)
    assert got == [[str(locked), str(music)]]


def test_a_full_kernel_queue_hands_on_every_library_folder(tmp_path):
    """The kernel says it dropped events (IN_Q_OVERFLOW): what changed is not known, so every library
    folder is scanned (an incremental rescan of each)."""
    from player_plugin.library.inotify import IN_Q_OVERFLOW, RawEvent

    roots = [str(tmp_path / "Music"), str(tmp_path / "More")]
    watcher = FolderWatcher(roots, lambda _c: None)
    watcher._handle(RawEvent(-1, IN_Q_OVERFLOW, 0, ""))
    assert watcher._batch.take() == Changes(sorted(roots))


def test_a_track_deleted_while_it_plays_leaves_what_plays_and_the_queue(engine, music):
    """The listener deletes the song playing (and one queued): the scan of that change takes them out
    of now playing and of Up Next, and the host's report of its end is no error (nothing to record)."""
    from player_plugin.listeners import EngineListener

    said: list[tuple] = []

    class Heard(EngineListener):
        def queue_changed(self, entries, refill_due):
            said.append(("queue", [e.track_id for e in entries], refill_due))

        def now_playing_changed(self, track_id):
            said.append(("now", track_id))

    ids = {t.tags.title: t.id for t in engine.tracks.iter_all()}
    engine.queue_add(ids["Night"])
    engine.track_started(ids["Rain"])
    engine.subscribe(Heard())
    rain, night = music / "Anna" / "First" / "01 Rain.mp3", music / "Bo" / "Night.ogg"
    rain.unlink()
    night.unlink()
    report = engine.scan_changes([str(music / "Anna"), str(music / "Bo")], deleted=[str(rain), str(night)])
    assert report.removed == 2 and engine.now_playing is None and engine.queue() == []
    assert ("now", None) in said and said[-1] == ("queue", [], True)  # Up Next is due a refill
    assert engine.track_ended(ids["Rain"], 100.0, 120.0) is None  # its end: nothing to record
    assert engine.previous(0.0) is None


@linux_only
def test_a_drive_unplugged_and_plugged_in_again(tmp_path):
    """A library on a drive (a real tmpfs, mounted for the test: root only): unmounted, its tracks are
    kept (the folder is gone, not the music); mounted again, it is watched anew and scanned whole."""
    import subprocess

    from tests.small_disk import ROOMY, small_disk

    usb = tmp_path / "usb"
    music = usb / "Music"
    engine = Engine(Database(tmp_path / "db" / "library.db"))
    batches: queue.Queue[Changes] = queue.Queue()
    with small_disk(usb, ROOMY):
        make_track(music / "Anna", "Rain", "mp3", title="Rain", artist="Anna")
        make_track(music / "Bo", "Night", "ogg", title="Night", artist="Bo")
        engine.scan([music])
        watcher = FolderWatcher([str(music)], batches.put, quiet_s=QUIET_S, root_check_s=0.2)
        watcher.start()
        try:
            assert watcher.ready.wait(WAIT_S)
            subprocess.run(["umount", str(usb)], check=True)  # unplugged
            changes = batches.get(timeout=WAIT_S)
            report = engine.scan_changes(changes.folders, deleted=changes.deleted)
            assert report.removed == 0 and _titles(engine) == {"Rain", "Night"}  # kept: the drive is away

            subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={ROOMY}", "tmpfs", str(usb)], check=True)
            make_track(music / "Anna", "Rain", "mp3", title="Rain", artist="Anna")  # plugged in again,
            make_track(music / "Bo", "Night", "ogg", title="Night", artist="Bo")  # with one song more
            make_track(music / "Cy", "Dawn", "opus", title="Dawn", artist="Cy")
            changes = batches.get(timeout=WAIT_S)
            while changes.folders != [str(music)]:  # the writes above may come first, then the whole folder
                engine.scan_changes(changes.folders, deleted=changes.deleted)
                changes = batches.get(timeout=WAIT_S)
            engine.scan_changes(changes.folders, deleted=changes.deleted)
            assert _titles(engine) == {"Rain", "Night", "Dawn"}
            make_track(music / "Dee", "Dusk", "mp3", title="Dusk", artist="Dee")  # and watched again
            assert batches.get(timeout=WAIT_S).folders == [str(music / "Dee")]
        finally:
            watcher.stop()
            engine.close()
