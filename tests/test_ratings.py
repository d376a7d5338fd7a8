"""Star ratings in tags: read from every tag system on one scale, stored by the scan, and turned
into likes and dislikes on request (``import-ratings``), which Up Next then follows."""

from __future__ import annotations

import json
import os
import shutil

import mutagen
import pytest
from mutagen.apev2 import APEv2
from mutagen.id3 import POPM, TXXX, Encoding
from mutagen.mp4 import MP4FreeForm

from player_plugin import cli
from player_plugin.engine import Engine
from player_plugin.library.ratings import rating_text
from player_plugin.library.scanner import Scanner
from player_plugin.library.tags import read_tags
from player_plugin.ratings_import import import_ratings
from player_plugin.store import Database
from tests.conftest import FIXTURES

MODEL = "all-minilm-l6-v2"


def _copy(tmp_path, name):
    path = tmp_path / name
    shutil.copyfile(FIXTURES / name, path)
    return path


def _tagged(path):
    audio = mutagen.File(path)
    if audio.tags is None:
        audio.add_tags()
    return audio


@pytest.mark.parametrize(
    ("name", "write", "expected"),
    [
        ("tone.mp3", lambda a: a.tags.add(POPM(email="Windows Media Player 9 Series", rating=196)), 196 / 255),
        ("tone.mp3", lambda a: a.tags.add(TXXX(encoding=Encoding.UTF8, desc="FMPS_Rating", text=["0.6"])), 0.6),
        ("tone.flac", lambda a: a.__setitem__("FMPS_RATING", "0.8"), 0.8),
        ("tone.ogg", lambda a: a.__setitem__("RATING:quodlibet@lists.sacredchao.net", "1.0"), 1.0),
        ("tone.flac", lambda a: a.__setitem__("RATING", "5"), 1.0),  # foobar2000's stars
        ("tone.opus", lambda a: a.__setitem__("RATING", "40"), 0.4),  # a percentage
        ("tone.m4a", lambda a: a.__setitem__("----:com.apple.iTunes:RATING", [MP4FreeForm(b"80")]), 0.8),
        ("tone.wma", lambda a: a.__setitem__("WM/SharedUserRating", [99]), 1.0),
        ("tone.flac", lambda a: a.__setitem__("RATING", "lots"), None),
        ("tone.mp3", lambda a: a.tags.add(POPM(email="x", rating=0)), None),  # 0: unrated
    ],
)
def test_ratings_of_every_tag_system_on_one_scale(tmp_path, name, write, expected):
    path = _copy(tmp_path, name)
    audio = _tagged(path)
    write(audio)
    audio.save()
    got = read_tags(path).rating
    assert got == (None if expected is None else pytest.approx(expected))


def test_an_apev2_rating_and_the_rating_scales():
    assert rating_text(["4"]) == pytest.approx(0.8) and rating_text(["0.5"]) == pytest.approx(0.5)
    assert rating_text(["1"]) == pytest.approx(0.2)  # "1" in RATING is one star, not full marks
    assert rating_text(["0"]) is None and rating_text(["-3", "250"]) is None


def test_an_apev2_rating_is_read(tmp_path):
    path = _copy(tmp_path, "tone.wv")
    tags = APEv2()
    tags["Rating"] = "4"
    tags.save(path)
    assert read_tags(path).rating == pytest.approx(0.8)


def _rate(path, stars: int) -> None:
    """As Quod Libet writes a rating: POPM for ID3, ``RATING:<email>`` for Vorbis comments, 0..1."""
    audio = _tagged(path)
    if path.suffix == ".mp3":
        audio.tags.add(POPM(email="quodlibet@lists.sacredchao.net", rating=int(stars / 5 * 255)))
    elif path.suffix in (".m4a",):
        audio["----:com.apple.iTunes:FMPS_Rating"] = [MP4FreeForm(str(stars / 5).encode())]
    else:
        audio["RATING:quodlibet@lists.sacredchao.net"] = str(stars / 5)
    audio.save()


@pytest.fixture
def rated(tmp_path):
    """The demo library, 雨夜的信's album rated five stars, a dance track one star, one track three."""
    from player_plugin.paths import demo_library_dir

    lib = tmp_path / "lib"
    shutil.copytree(demo_library_dir(), lib)
    files = {os.path.splitext(p.name)[0]: p for p in lib.rglob("*") if p.suffix in (".mp3", ".flac", ".ogg", ".opus")}
    loved = [
        p for p in lib.rglob("*") if "雨夜的信" in str(p.parent) and p.suffix in (".mp3", ".flac", ".ogg", ".opus")
    ]
    for p in loved:
        _rate(p, 5)
    hated = next(p for name, p in files.items() if p not in loved and "Ballad" not in name)
    _rate(hated, 1)
    middling = next(p for p in files.values() if p not in loved and p != hated)
    _rate(middling, 3)
    os.utime(hated, (1_000_000_000, 1_000_000_000))  # rated long ago: the dislike is dated so
    db = Database(tmp_path / "library.db")
    Scanner(db).scan([lib])
    return db, loved, hated


def test_import_turns_ratings_into_likes_and_dislikes_once(rated, capsys):
    db, loved, hated = rated
    assert import_ratings(db, dry_run=True).as_dict() == {
        "rated": len(loved) + 2, "liked": len(loved), "disliked": 1, "already": 0, "dry_run": True,
    }  # fmt: skip
    assert db.conn.execute("SELECT count(*) FROM events").fetchone()[0] == 0  # a dry run stores nothing
    report = import_ratings(db, now=2_000_000_000.0)
    assert (report.liked, report.disliked) == (len(loved), 1)
    rows = db.conn.execute("SELECT t.path, e.kind, e.ts, e.context FROM events e JOIN tracks t ON t.id = e.track_id")
    got = {r["path"]: (r["kind"], r["ts"], json.loads(r["context"])) for r in rows}
    assert {p for p, (k, _, _) in got.items() if k == "like"} == {str(p) for p in loved}
    kind, ts, context = got[str(hated)]
    assert (kind, ts, context) == ("dislike", 1_000_000_000.0, {"source": "ratings", "imported": True})
    again = import_ratings(db)
    assert (again.liked, again.disliked, again.already) == (0, 0, len(loved) + 1)  # nothing twice

    code = cli.main(["import-ratings", "--db", str(db.path), "--json"])
    assert code == 0 and json.loads(capsys.readouterr().out)["already"] == len(loved) + 1


def test_up_next_follows_the_imported_ratings(rated):
    db, loved, hated = rated
    engine = Engine(db, model_id=MODEL)
    try:
        engine.embed()
        before = engine.up_next(10)
        import_ratings(engine.db)
        after = engine.refill(10)
        titles = {t.id: t for t in engine.tracks.iter_all()}
        loved_ids = {t.id for t in titles.values() if t.path in {str(p) for p in loved}}
        hated_id = next(t.id for t in titles.values() if t.path == str(hated))
        assert hated_id not in {e.track_id for e in after}
        assert len(loved_ids & {e.track_id for e in after}) >= len(loved_ids & {e.track_id for e in before})
        assert any("you liked" in e.reason for e in after)
    finally:
        engine.close()


def test_a_library_without_ratings_says_so(tmp_path, capsys):
    lib = tmp_path / "lib"
    lib.mkdir()
    _copy(lib, "tone.mp3")
    db = str(tmp_path / "library.db")
    assert cli.main(["scan", str(lib), "--db", db]) == 0
    capsys.readouterr()
    assert cli.main(["import-ratings", "--db", db]) == 0
    assert capsys.readouterr().out.startswith("no track of the library has a star rating")


def test_a_rating_written_just_now_is_dated_before_the_session_going_on(rated):
    db, loved, _hated = rated
    written = max(os.stat(p).st_mtime for p in loved)
    import_ratings(db, now=written + 10)
    newest = db.conn.execute("SELECT max(ts) FROM events").fetchone()[0]
    assert newest <= written + 10 - 1800  # a like inside the session would steer it as if just given
