"""A scan must never lose data because of what a file, a folder name or a tag holds (issue 11 §2)."""

from __future__ import annotations

import os
import random
import signal
from pathlib import Path

import mutagen
import pytest
from mutagen.id3 import TPOS, TRCK

from player_plugin.library.files import NotRegularFileError, open_regular
from player_plugin.library.scanner import Scanner, ScanProgress
from player_plugin.library.walk import display_path
from player_plugin.models import Event, EventKind
from player_plugin.store import Database, EventRepository, TrackRepository
from tests.conftest import FIXTURES, make_track
from tests.crafted import HUGE, aiff_rate, wav_header_overflow


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


# -- numbers above 2^63 -------------------------------------------------------------------------


def _huge_tags(folder: Path) -> dict[str, Path]:
    mp3 = make_track(folder, "huge track", "mp3", title="Huge track")
    tags = mutagen.File(mp3)
    tags.tags.add(TRCK(encoding=3, text=[f"{HUGE}/{HUGE}"]))
    tags.tags.add(TPOS(encoding=3, text=[HUGE]))
    tags.save()
    flac = make_track(folder, "huge total", "flac", title="Huge total")
    audio = mutagen.File(flac)
    audio["TRACKNUMBER"], audio["TRACKTOTAL"], audio["DISCTOTAL"] = "1", HUGE, HUGE
    audio.save()
    m4a = make_track(folder, "huge atom", "m4a", title="Huge atom")
    audio = mutagen.File(m4a)
    audio["trkn"] = [(65535, 65535)]  # the atom's 16-bit maximum: above any real track number
    audio.save()
    return {"mp3": mp3, "flac": flac, "m4a": m4a}


def test_huge_tag_numbers_are_dropped_not_fatal(db, tmp_path):
    root = tmp_path / "lib"
    good = [make_track(root, f"good {i}", "ogg", title=f"Good {i}") for i in range(3)]
    bad = _huge_tags(root)
    report = Scanner(db).scan([root])
    assert report.failures == [] and report.added == 6
    repo = TrackRepository(db)
    for path in bad.values():
        tags = repo.by_path(str(path)).tags
        assert (tags.track_total, tags.disc_number, tags.disc_total) == (None, None, None)
    assert repo.by_path(str(bad["mp3"])).tags.track_number is None
    assert repo.by_path(str(bad["flac"])).tags.track_number == 1
    assert {str(p) for p in good} <= _paths(db)


def test_stream_headers_out_of_range_are_reported_and_the_batch_kept(db, tmp_path):
    root = tmp_path / "lib"
    good = [make_track(root, f"good {i}", "mp3", title=f"Good {i}") for i in range(3)]
    wav = wav_header_overflow(root / "overflow.wav")
    aiff = aiff_rate(root / "rate 2^100.aiff")
    report = Scanner(db).scan([root])
    assert {str(p) for p in good} == _paths(db)
    reasons = {f.path: f.reason for f in report.failures}
    assert set(reasons) == {str(wav), str(aiff)}, reasons
    assert all("\n" not in r for r in reasons.values())
    again = Scanner(db).scan([root])  # every rescan works too
    assert (again.unchanged, len(again.failures)) == (3, 2)


def test_one_row_sqlite_cannot_hold_fails_alone(db, tmp_path):
    """A number out of SQLite's range (here a real mtime past 2^63 ns, year 2262+) fails that file only."""
    root = tmp_path / "lib"
    good = [make_track(root, f"good {i}", "mp3", title=f"Good {i}") for i in range(3)]
    future = make_track(root, "future", "mp3", title="Future")
    os.utime(future, ns=(0, 2**63 + 10**18))
    if os.stat(future).st_mtime_ns < 2**63:
        pytest.skip("this file system cannot hold a timestamp past 2^63 ns")
    report = Scanner(db, batch_size=10).scan([root])
    assert _paths(db) == {str(p) for p in good}
    assert [f.path for f in report.failures] == [str(future)]
    assert "out of range" in report.failures[0].reason
    assert Scanner(db).scan([root]).unchanged == 3


# -- only regular files are opened ------------------------------------------------------------

HANG_LIMIT_S = 5  # a regression that blocks on a FIFO fails after this, instead of hanging the suite


@pytest.fixture
def no_hang():
    """Fail (instead of hanging for ever) when the test blocks longer than HANG_LIMIT_S: the
    alarm's exception interrupts a blocking open() of a FIFO."""

    def expired(_signum, _frame):
        raise TimeoutError(f"blocked for more than {HANG_LIMIT_S} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(HANG_LIMIT_S)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


def test_fifo_sidecar_is_a_warning_not_a_hang(db, tmp_path, no_hang):
    root = tmp_path / "lib"
    song = make_track(root, "song", "mp3", title="Song")
    os.mkfifo(root / "song.lrc")
    report = Scanner(db).scan([root])
    assert report.added == 1 and report.failures == []
    assert [(w.path, w.reason) for w in report.warnings] == [
        (str(root / "song.lrc"), "lyrics not read: not a regular file: a FIFO (named pipe)")
    ]
    assert TrackRepository(db).by_path(str(song)).lyrics is None


def test_fifo_and_device_named_like_audio_are_reported(db, tmp_path, no_hang):
    root = tmp_path / "lib"
    make_track(root, "song", "mp3", title="Song")
    os.mkfifo(root / "pipe.mp3")
    (root / "zero.flac").symlink_to("/dev/zero")
    report = Scanner(db).scan([root])
    assert report.added == 1
    assert {(f.path, f.reason) for f in report.failures} == {
        (str(root / "pipe.mp3"), "not a regular file: a FIFO (named pipe)"),
        (str(root / "zero.flac"), "not a regular file: a character device"),
    }


def test_audio_file_replaced_by_a_fifo_after_the_walk(db, tmp_path, no_hang):
    root = tmp_path / "lib"
    make_track(root, "keep", "mp3", title="Keep")
    swapped = make_track(root, "swapped", "mp3", title="Swapped")

    def swap_when_reading_starts(progress: ScanProgress) -> None:
        if progress.phase == "read" and swapped.is_file():
            swapped.unlink()
            os.mkfifo(swapped)

    report = Scanner(db).scan([root], progress=swap_when_reading_starts)
    assert _paths(db) == {str(root / "keep.mp3")}
    assert [(f.path, f.reason) for f in report.failures] == [(str(swapped), "not a regular file: a FIFO (named pipe)")]


def test_open_regular_refuses_a_fifo_without_blocking(tmp_path, no_hang):
    fifo = tmp_path / "x.lrc"
    os.mkfifo(fifo)
    with pytest.raises(NotRegularFileError, match="FIFO"):
        open_regular(fifo)
    with open_regular(FIXTURES / "tone.mp3") as fh:
        assert fh.read(3) == b"ID3"


# -- a root whose name is not UTF-8 ---------------------------------------------------------------


def test_root_with_an_undecodable_name_is_one_failure(db, tmp_path):
    good = tmp_path / "good"
    make_track(good, "song", "mp3", title="Song")
    bad = os.fsdecode(os.fsencode(str(tmp_path)) + b"/caf\xe9")  # latin-1 "café": not UTF-8
    os.mkdir(bad)
    make_track(Path(bad), "other", "mp3", title="Other")
    report = Scanner(db).scan([bad, good])
    assert report.added == 1
    assert [(f.path, f.reason) for f in report.failures] == [
        (display_path(bad), "folder name is not valid UTF-8 (paths are stored as UTF-8): not scanned")
    ]
    assert _paths(db) == {str(good / "song.mp3")}


def test_binary_txt_sidecar_is_a_warning_and_no_lyrics(db, tmp_path):
    root = tmp_path / "lib"
    song = make_track(root, "song", "mp3", title="Song")
    (root / "song.txt").write_bytes(random.Random(3).randbytes(3000))
    report = Scanner(db).scan([root])
    assert report.added == 1
    assert [w.reason for w in report.warnings] == ["lyrics not read: not text (binary data)"]
    assert TrackRepository(db).by_path(str(song)).lyrics is None


def test_the_engine_and_the_cli_scan_past_an_undecodable_root(db, tmp_path, capsys):
    """Engine.scan remembers the roots it scans: an undecodable one must not crash that step."""
    from player_plugin import cli
    from player_plugin.engine import Engine

    good = tmp_path / "good"
    make_track(good, "song", "mp3", title="Song")
    bad = os.fsdecode(os.fsencode(str(tmp_path)) + b"/caf\xe9")
    os.mkdir(bad)
    report = Engine(db).scan([bad, str(good)])
    assert report.added == 1 and len(report.failures) == 1
    assert cli.main(["--db", str(tmp_path / "cli.db"), "scan", bad, str(good)]) != 2
    assert "Traceback" not in capsys.readouterr().err


def test_a_scan_of_music_keeps_the_unreadable_list_of_Music(tmp_path):
    """The unreadable files of one folder are replaced by exact prefix, not by LIKE (which ignores case)."""
    from player_plugin.engine import Engine

    upper, lower = tmp_path / "Music", tmp_path / "music"
    for folder in (upper, lower):
        make_track(folder, "good", "mp3", title=f"Good {folder.name}")
        (folder / "broken.mp3").write_bytes(b"not audio at all" * 64)
    engine = Engine(Database(tmp_path / "lib.db"))
    engine.scan([str(upper), str(lower)])
    assert {u.path for u in engine.unreadable_files()} == {str(upper / "broken.mp3"), str(lower / "broken.mp3")}
    engine.scan([str(lower)])
    assert str(upper / "broken.mp3") in {u.path for u in engine.unreadable_files()}


def test_huge_text_tags_and_lyrics_are_bounded(db, tmp_path):
    """A crafted file's 3 MB title, 10,000 artists and 1 MB of embedded lyrics are cut to bounds no real
    tag reaches (an embed would otherwise tokenise all of it), and the file is still a track."""
    from mutagen.id3 import ID3, TIT2, TPE1, USLT

    from player_plugin.library.tag_bounds import MAX_LYRICS_CHARS, MAX_TAG_CHARS, MAX_TAG_VALUES

    root = tmp_path / "lib"
    path = make_track(root, "huge", "mp3", title="placeholder")
    tags = ID3(path)
    tags.add(TIT2(encoding=3, text="A" * 3_000_000))
    tags.add(TPE1(encoding=3, text=[f"artist {i}" for i in range(10_000)]))
    tags.add(USLT(encoding=3, lang="eng", desc="", text="la la la\n" * 120_000))
    tags.save(path)
    (root / "huge.lrc").write_bytes(b"x" * (2 * 1024 * 1024))  # a 2 MB "sidecar": reported, not read
    report = Scanner(db).scan([root])
    assert report.failures == [] and report.added == 1
    track = TrackRepository(db).by_path(str(path))
    assert len(track.tags.title) == MAX_TAG_CHARS and len(track.tags.artists) == MAX_TAG_VALUES
    assert track.lyrics is not None and len(track.lyrics) <= MAX_LYRICS_CHARS and track.lyrics.endswith("la la la")
    # the sidecar was not needed (embedded lyrics win); with none embedded it is a warning, not silence
    tags.delall("USLT")
    tags.save(path)
    again = Scanner(db).scan([root])
    assert [w.reason for w in again.warnings] == ["lyrics not read: larger than 1 MiB, so not lyrics"]
