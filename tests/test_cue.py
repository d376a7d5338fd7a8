"""CUE sheets: a CD image (one real FLAC of the whole disc) cut into its tracks by a sheet beside it
or one in its tags; rescans, edits, a sheet taken away, moves and sheets that cannot be used."""

from __future__ import annotations

import shutil
from pathlib import Path

import mutagen
import pytest

from player_plugin.library.cue import CueError, parse_cue, read_cue_bytes, segment_path
from player_plugin.library.scanner import Scanner
from player_plugin.models import Event, EventKind
from player_plugin.store import Database
from player_plugin.store.events import EventRepository
from player_plugin.store.tracks import TrackRepository
from tests.cd_image import make_image

pytestmark = pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="needs ffmpeg to encode the CD image")

TONES = (440, 550, 660)  # one tone per track, 4 s each
TRACK_S = 4.0

SHEET = """REM GENRE Pop
REM DATE 1998
REM DISCID 2A0B3C04
PERFORMER "王菲"
TITLE "唱游"
FILE "{name}" WAVE
  TRACK 01 AUDIO
    TITLE "打错了"
    INDEX 01 00:00:00
  TRACK 02 AUDIO
    TITLE "不留"
    PERFORMER "王菲 & 陈奕迅"
    REM REPLAYGAIN_TRACK_GAIN -3.20 dB
    INDEX 00 00:03:50
    INDEX 01 00:04:00
  TRACK 03 AUDIO
    TITLE "人间"
    INDEX 01 00:08:00
"""


@pytest.fixture(scope="module")
def image(tmp_path_factory) -> Path:
    """A real FLAC holding three 4-second tones one after another, no tags."""
    return make_image(tmp_path_factory.mktemp("image") / "CDImage.flac", TONES, TRACK_S)


def album(tmp_path: Path, image: Path, sheet: str | None = SHEET, encoding: str = "gbk", name: str = "CDImage.flac"):
    folder = tmp_path / "music" / "王菲 - 唱游"
    folder.mkdir(parents=True)
    shutil.copyfile(image, folder / name)
    if sheet is not None:
        (folder / "CDImage.cue").write_bytes(sheet.format(name=name).encode(encoding))
    return tmp_path / "music", folder


def scan(db: Database, root: Path):
    return Scanner(db).scan([root])


def tracks(db: Database):
    return sorted(TrackRepository(db).iter_all(), key=lambda t: t.tags.track_number or 0)


def test_a_gbk_sheet_cuts_the_image_into_its_tracks(tmp_path, image):
    root, folder = album(tmp_path, image)
    db = Database(tmp_path / "lib.db")
    report = scan(db, root)
    assert (report.added, report.failed, report.warnings) == (3, 0, [])
    got = tracks(db)
    assert [t.tags.title for t in got] == ["打错了", "不留", "人间"]
    assert [t.tags.artists for t in got] == [("王菲",), ("王菲 & 陈奕迅",), ("王菲",)]
    assert {(t.tags.album, t.tags.album_artist, t.tags.genres, t.tags.year) for t in got} == {
        ("唱游", "王菲", ("Pop",), 1998)
    }
    assert [t.tags.track_number for t in got] == [1, 2, 3] and {t.tags.track_total for t in got} == {3}
    assert [t.start_s for t in got] == [0.0, 4.0, 8.0]
    assert [t.end_s for t in got] == [4.0, 8.0, None]  # the last one plays to the end of the file
    assert [t.tags.duration_s for t in got] == pytest.approx([4.0, 4.0, 4.0], abs=0.05)
    assert got[1].tags.track_gain_db == pytest.approx(-3.2)
    assert all(t.file == str(folder / "CDImage.flac") and t.file_path == t.file and t.is_segment for t in got)
    assert [t.path for t in got] == [segment_path(str(folder / "CDImage.cue"), n) for n in (1, 2, 3)]
    assert got[0].path.endswith("CDImage.cue/track0001")  # MPD's name for it
    assert {t.tags.codec for t in got} == {"flac"}


def test_a_rescan_reads_nothing_and_an_edited_sheet_keeps_ids_and_history(tmp_path, image):
    root, folder = album(tmp_path, image)
    db = Database(tmp_path / "lib.db")
    scan(db, root)
    before = {t.tags.track_number: t.id for t in tracks(db)}
    events = EventRepository(db)
    with db.transaction():
        events.record(Event(before[2], EventKind.LIKE, timestamp=1.0))
    again = scan(db, root)
    assert (again.added, again.updated, again.unchanged, again.removed) == (0, 0, 1, 0)

    sheet = folder / "CDImage.cue"
    sheet.write_bytes(SHEET.format(name="CDImage.flac").replace("人间", "人间 (Live)").encode("gbk"))
    edited = scan(db, root)
    assert (edited.added, edited.updated, edited.removed) == (0, 3, 0)
    after = tracks(db)
    assert {t.tags.track_number: t.id for t in after} == before
    assert after[2].tags.title == "人间 (Live)"
    assert [e.track_id for e in events.recent(10)] == [before[2]]


def test_taking_the_sheet_away_leaves_one_track_and_a_sheet_added_cuts_it_again(tmp_path, image):
    root, folder = album(tmp_path, image)
    db = Database(tmp_path / "lib.db")
    scan(db, root)
    (folder / "CDImage.cue").unlink()
    report = scan(db, root)
    assert (report.added, report.removed) == (1, 3)
    (whole,) = tracks(db)
    assert (whole.path, whole.file, whole.is_segment) == (str(folder / "CDImage.flac"), None, False)
    assert whole.tags.duration_s == pytest.approx(12.0, abs=0.05)
    (folder / "CDImage.cue").write_bytes(SHEET.format(name="CDImage.flac").encode("utf-8-sig"))
    report = scan(db, root)
    assert (report.added, report.removed) == (3, 1)
    assert [t.tags.title for t in tracks(db)] == ["打错了", "不留", "人间"]


def test_a_sheet_made_for_the_wav_cuts_the_flac_it_was_packed_into(tmp_path, image):
    root, _folder = album(tmp_path, image, SHEET.replace("{name}", "CDImage.wav"))
    db = Database(tmp_path / "lib.db")
    assert scan(db, root).added == 3


def test_a_sheet_in_the_tags_cuts_the_file(tmp_path, image):
    root, folder = album(tmp_path, image, sheet=None)
    audio = mutagen.File(folder / "CDImage.flac")
    audio["CUESHEET"] = SHEET.format(name="CDImage.wav")
    audio["ARTIST"] = "Faye Wong"
    audio.save()
    db = Database(tmp_path / "lib.db")
    assert scan(db, root).added == 3
    got = tracks(db)
    assert [t.path for t in got] == [segment_path(str(folder / "CDImage.flac"), n) for n in (1, 2, 3)]
    assert got[0].tags.title == "打错了"


def test_a_folder_moved_keeps_the_history_of_its_tracks(tmp_path, image):
    root, folder = album(tmp_path, image)
    db = Database(tmp_path / "lib.db")
    scan(db, root)
    liked = tracks(db)[1]
    events = EventRepository(db)
    with db.transaction():
        events.record(Event(liked.id, EventKind.LIKE, timestamp=1.0))
    folder.rename(root / "Faye Wong - Sing and Play")
    report = scan(db, root)
    assert (report.moved, report.added, report.removed) == (3, 0, 0)
    moved = tracks(db)[1]
    assert moved.id == liked.id and moved.file == str(root / "Faye Wong - Sing and Play" / "CDImage.flac")


@pytest.mark.parametrize(
    ("sheet", "reason"),
    [
        ("\x00\x01binary\xff" * 50, "CUE sheet not used"),
        ("REM nothing but remarks\n", "CUE sheet not used: names no audio track"),
        (
            'FILE "CDImage.flac" WAVE\n  TRACK 01 AUDIO\n    INDEX 01 10:00:00\n'
            "  TRACK 02 AUDIO\n    INDEX 01 11:00:00\n",
            "fewer than two of its tracks lie in the audio",
        ),
    ],
)
def test_a_sheet_that_cannot_be_used_leaves_the_file_whole_with_a_warning(tmp_path, image, sheet, reason):
    root, folder = album(tmp_path, image, sheet=None)
    (folder / "CDImage.cue").write_bytes(sheet.encode("latin-1"))
    db = Database(tmp_path / "lib.db")
    report = scan(db, root)
    assert report.added == 1 and report.failed == 0
    assert {w.path for w in report.warnings} == {str(folder / "CDImage.cue")}
    assert reason in report.warnings[-1].reason and all("\n" not in w.reason for w in report.warnings)


def test_a_sheet_of_one_track_is_no_image(tmp_path, image):
    sheet = 'FILE "CDImage.flac" WAVE\n  TRACK 01 AUDIO\n    TITLE "All"\n    INDEX 01 00:00:00\n'
    root, _folder = album(tmp_path, image, sheet)
    db = Database(tmp_path / "lib.db")
    report = scan(db, root)
    assert (report.added, report.warnings) == (1, [])
    assert not tracks(db)[0].is_segment


def test_tracks_past_the_end_of_the_audio_are_left_out_with_a_warning(tmp_path, image):
    sheet = SHEET + '  TRACK 04 AUDIO\n    TITLE "Ghost"\n    INDEX 01 05:00:00\n'
    root, _folder = album(tmp_path, image, sheet)
    db = Database(tmp_path / "lib.db")
    report = scan(db, root)
    assert report.added == 3
    assert len(report.warnings) == 1 and "track 4 starts at 300 s, past the end" in report.warnings[0].reason
    assert tracks(db)[-1].end_s is None


def test_the_parser_reads_what_rippers_write():
    sheet = parse_cue(
        read_cue_bytes(
            b"\xef\xbb\xbfREM DISCNUMBER 2\r\nREM TOTALDISCS 3\r\nPERFORMER Unquoted Name\r\n"
            b'TITLE "Don\'t Stop"\r\nFILE "C:\\rips\\a.wav" WAVE\r\n  TRACK 01 MODE1/2352\r\n'
            b'    TITLE "data"\r\n    INDEX 01 00:00:00\r\n  TRACK 02 AUDIO\r\n    INDEX 01 01:02:37\r\n'
            b'  TRACK 03 AUDIO\r\n    TITLE "x"\r\n    INDEX 01 02:00:00\r\n'
        )
    )
    assert (sheet.performer, sheet.title, sheet.disc_number, sheet.disc_total) == ("Unquoted Name", "Don't Stop", 2, 3)
    assert [(t.number, t.title) for t in sheet.files["C:\\rips\\a.wav"]] == [(2, None), (3, "x")]  # no data track
    assert sheet.files["C:\\rips\\a.wav"][0].start_s == pytest.approx(62 + 37 / 75)
    assert len(sheet.tracks_for("a.flac")) == 2
    with pytest.raises(CueError):
        parse_cue("")
    with pytest.raises(CueError, match="KiB"):
        read_cue_bytes(b"REM " * 100_000)


def test_an_image_deleted_while_watched_takes_its_tracks_with_it(tmp_path, image):
    """The watch saw the image deleted (library/watch.py): its folder, now holding only the sheet,
    is emptied in the library too, not kept as a possible empty mount point."""
    root, folder = album(tmp_path, image)
    db = Database(tmp_path / "lib.db")
    scan(db, root)
    (folder / "CDImage.flac").unlink()
    report = Scanner(db).scan([folder], library_roots=[root], deleted=[str(folder / "CDImage.flac")])
    assert (report.removed, tracks(db)) == (3, [])


def test_a_saved_up_next_of_image_tracks_reads_back_as_the_same_tracks(tmp_path, image):
    """M3U8 cannot point inside a file: a sheet's track is written by its own name (``CDImage.cue/
    track0002``, which MPD reads too), and our reader finds the track by it."""
    from player_plugin.playlist_files import read_playlist
    from player_plugin.ui.playlist import write_m3u8

    root, _folder = album(tmp_path, image)
    db = Database(tmp_path / "lib.db")
    scan(db, root)
    got = tracks(db)
    playlist = root / "mix.m3u8"
    write_m3u8(playlist, [got[2], got[0]])
    assert "王菲 - 唱游/CDImage.cue/track0003" in playlist.read_text(encoding="utf-8")
    back = [TrackRepository(db).by_path(p) for p in read_playlist(playlist).paths]
    assert [t.id for t in back] == [got[2].id, got[0].id]


def test_a_playlist_naming_the_image_or_its_sheet_continues_with_its_tracks(tmp_path, image):
    """Other players write a CD image's tracks as the image (or the sheet) itself: such an entry
    stands for all of its tracks, in order."""
    from player_plugin.engine import Engine

    root, folder = album(tmp_path, image)
    engine = Engine(Database(tmp_path / "lib.db"))
    try:
        engine.scan([root])
        repo = engine.tracks
        ids = [t.id for t in tracks(engine.db)]
        assert repo.ids_at(str(folder / "CDImage.flac")) == ids
        assert repo.ids_at(str(folder / "CDImage.cue")) == ids
        assert repo.ids_at(segment_path(str(folder / "CDImage.cue"), 2)) == [ids[1]]
        assert repo.ids_at(str(folder)) == []  # a folder is not a track
        plan = engine.db.conn.execute(
            "EXPLAIN QUERY PLAN SELECT id FROM tracks WHERE file = ?", (str(folder / "CDImage.flac"),)
        ).fetchall()
        assert "tracks_file" in " ".join(str(r[-1]) for r in plan)  # no walk over a big library
    finally:
        engine.close()


def test_each_track_of_an_image_takes_the_lyrics_file_named_after_it(tmp_path, image):
    root, folder = album(tmp_path, image)
    (folder / "02 不留.lrc").write_bytes("[00:01.00]不留 第一句\n[00:02.00]第二句\n".encode("gbk"))
    (folder / "王菲 - 人间.txt").write_text("人间 的 歌词\n", encoding="utf-16")
    (folder / "CDImage.lrc").write_text("[00:01.00]the whole disc\n", encoding="utf-8")  # no track's
    db = Database(tmp_path / "lib.db")
    scan(db, root)
    got = tracks(db)
    assert [(t.lyrics, t.lyrics_source) for t in got] == [
        (None, None),
        ("不留 第一句\n第二句", "02 不留.lrc"),
        ("人间 的 歌词", "王菲 - 人间.txt"),
    ]
    (folder / "打错了.LRC").write_text("[00:01.00]打错了\n", encoding="utf-8")  # a lyrics tool saves one more
    report = scan(db, root)
    assert (report.updated, report.added, report.removed) == (3, 0, 0)
    assert tracks(db)[0].lyrics == "打错了" and [t.id for t in tracks(db)] == [t.id for t in got]


def test_a_sheet_in_a_wavpack_images_apev2_tag_cuts_it(tmp_path):
    """foobar2000 embeds the sheet of an APE or WavPack image as an APEv2 ``Cuesheet`` item."""
    from mutagen.apev2 import APEv2

    folder = tmp_path / "music" / "Image"
    path = make_image(folder / "CDImage.wv", TONES, TRACK_S)
    tags = APEv2()
    tags["Cuesheet"] = SHEET.format(name="CDImage.wav")
    tags["Album"] = "from the file"
    tags.save(path)
    db = Database(tmp_path / "lib.db")
    assert scan(db, tmp_path / "music").added == 3
    got = tracks(db)
    assert [t.tags.title for t in got] == ["打错了", "不留", "人间"] and {t.tags.codec for t in got} == {"wavpack"}
    assert got[0].path == segment_path(str(path), 1) and got[2].end_s is None


def test_a_sheet_named_otherwise_cuts_the_file_it_names_and_no_other(tmp_path, image):
    """Exact Audio Copy's ``Range.cue`` beside ``王菲 - 唱游.flac``: read for the file it names."""
    root, folder = album(tmp_path, image, sheet=None, name="王菲 - 唱游.flac")
    (folder / "Range.cue").write_bytes(SHEET.format(name="王菲 - 唱游.flac").encode("gbk"))
    shutil.copyfile(image, folder / "Bonus.flac")  # another file of the folder: not the sheet's
    db = Database(tmp_path / "lib.db")
    report = scan(db, root)
    assert (report.added, report.warnings) == (4, [])
    cut = [t for t in tracks(db) if t.is_segment]
    assert len(cut) == 3 and {t.file for t in cut} == {str(folder / "王菲 - 唱游.flac")}
    assert cut[0].path == segment_path(str(folder / "Range.cue"), 1)
