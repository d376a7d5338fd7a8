"""Importing a Last.fm / ListenBrainz history: formats, matching, duplicates, errors, speed."""

from __future__ import annotations

import json
import time
import zipfile
from datetime import UTC, datetime

import pytest

from player_plugin.library.scanner import Scanner
from player_plugin.models import EventKind
from player_plugin.recommend.history_import import (
    HistoryImportError,
    LibraryIndex,
    Listen,
    ParseStats,
    import_history,
    parse_history,
)
from player_plugin.store import Database, EventRepository, TrackRepository
from tests.conftest import make_track

T0 = 1_609_459_200  # 2021-01-01 00:00 UTC


@pytest.fixture
def db(tmp_path):
    return Database(tmp_path / "db" / "lib.db")


@pytest.fixture
def library(tmp_path, db):
    root = tmp_path / "Music"
    make_track(root / "Anna", "Rain", "mp3", title="Rain", artist="Anna")
    make_track(root / "Anna", "Sun", "flac", title="Sun", artist="Anna")
    make_track(root / "Bo", "Night", "ogg", title="Night", artist="Bo")
    make_track(root / "Duo", "Together", "flac", title="Together", artist=["Cara", "Dan"])
    make_track(root / "林夕雨", "月亮", "m4a", title="月亮", artist="林夕雨", album="夜")
    report = Scanner(db).scan([root])
    assert report.added == 5, report.failures
    return {t.tags.title: t.id for t in TrackRepository(db).iter_all()}


def _lb(artist, title, ts, album=None):
    meta = {"artist_name": artist, "track_name": title, "additional_info": {}}
    if album:
        meta["release_name"] = album
    return {"listened_at": ts, "recording_msid": "x", "user_name": "me", "track_metadata": meta}


def _fm_date(ts):
    return datetime.fromtimestamp(ts, UTC).strftime("%d %b %Y %H:%M")


def _fm_track(artist, title, ts, album="", extended=False):
    t = {
        "artist": {"name": artist, "mbid": ""} if extended else {"#text": artist, "mbid": ""},
        "name": title,
        "album": {"#text": album, "mbid": ""},
    }
    if ts is None:
        t["@attr"] = {"nowplaying": "true"}
    else:
        t["date"] = {"uts": str(ts), "#text": _fm_date(ts)}
    return t


def _imported(db):
    return [e for e in EventRepository(db).recent(10_000) if e.context.get("imported")]


# -- formats ------------------------------------------------------------------------------------


def test_listenbrainz_json_array(tmp_path, db, library):
    f = tmp_path / "listens.json"
    listens = [
        _lb("Anna", "Rain", T0, "First"),
        _lb("Bo", "Night", T0 + 300),
        _lb("Nobody", "Missing Song", T0 + 600),
        _lb("Nobody", "Missing Song", T0 + 900),
        _lb("Anna", "Sun", "2021-01-01T01:00:00Z"),  # ISO-8601 listened_at
    ]
    f.write_text(json.dumps(listens), encoding="utf-8")
    report = import_history(f, db)
    assert (report.total, report.matched, report.unmatched, report.duplicates) == (5, 3, 2, 0)
    assert report.imported == 3 and report.source == "listenbrainz"
    assert report.top_unmatched == [("Nobody", "Missing Song", 2)]
    events = sorted(_imported(db), key=lambda e: e.timestamp)
    assert [(e.track_id, e.kind, e.timestamp) for e in events] == [
        (library["Rain"], EventKind.COMPLETE, T0),
        (library["Night"], EventKind.COMPLETE, T0 + 300),
        (library["Sun"], EventKind.COMPLETE, T0 + 3600),
    ]
    assert events[0].context == {"source": "listenbrainz", "imported": True}
    assert events[0].position_s and events[0].position_s > 0  # played to the end


def test_listenbrainz_jsonl_and_reimport_adds_nothing(tmp_path, db, library):
    f = tmp_path / "5.jsonl"
    lines = [_lb("Anna", "Rain", T0 + i * 200) for i in range(4)] + [_lb("Bo", "Night", T0 + 5000)]
    f.write_text("\n".join(json.dumps(x) for x in lines) + "\n", encoding="utf-8")
    first = import_history(f, db)
    assert (first.total, first.matched, first.imported, first.duplicates) == (5, 5, 5, 0)
    again = import_history(f, db)
    assert (again.total, again.matched, again.imported, again.duplicates) == (5, 5, 0, 5)
    assert len(_imported(db)) == 5
    assert EventRepository(db).stats(library["Rain"]).completes == 4


def test_listenbrainz_zip_export(tmp_path, db, library):
    f = tmp_path / "listenbrainz_me.zip"
    with zipfile.ZipFile(f, "w") as z:
        z.writestr("user.json", json.dumps({"user_id": 1, "username": "me"}))
        z.writestr("feedback.jsonl", json.dumps({"recording_mbid": "x", "score": 1}) + "\n")
        z.writestr("listens/2021/1.jsonl", json.dumps(_lb("Anna", "Rain", T0)) + "\n")
        z.writestr(
            "listens/2021/2.jsonl",
            "\n".join(json.dumps(_lb("Bo", "Night", T0 + 86400 * 40 + i)) for i in range(3)),
        )
        z.writestr("listens/2021/10.jsonl", json.dumps(_lb("Ghost", "Gone", T0 + 86400 * 300)) + "\n")
    listens = list(parse_history(f))
    assert [x.ts for x in listens] == sorted(x.ts for x in listens)  # 2 before 10
    report = import_history(f, db)
    assert (report.total, report.matched, report.unmatched, report.skipped_malformed) == (5, 4, 1, 0)


def test_listenbrainz_export_unzipped_reads_its_listens_folder(tmp_path, db, library):
    root = tmp_path / "listenbrainz_me"
    (root / "listens" / "2021").mkdir(parents=True)
    (root / "user.json").write_text(json.dumps({"user_id": 1, "username": "me"}), encoding="utf-8")
    (root / "feedback.jsonl").write_text(json.dumps({"recording_mbid": "x", "score": 1}) + "\n", encoding="utf-8")
    (root / "listens" / "2021" / "10.jsonl").write_text(json.dumps(_lb("Bo", "Night", T0 + 86400 * 300)) + "\n")
    (root / "listens" / "2021" / "2.jsonl").write_text(
        "\n".join(json.dumps(_lb("Anna", "Rain", T0 + 86400 * 40 + i)) for i in range(3))
    )
    listens = list(parse_history(root))
    assert [x.ts for x in listens] == sorted(x.ts for x in listens)  # month 2 before month 10
    report = import_history(root, db)
    assert (report.total, report.matched, report.imported, report.skipped_malformed) == (4, 4, 4, 0)


def test_lastfm_headerless_csv(tmp_path, db, library):
    f = tmp_path / "me.csv"
    rows = [
        f"Anna,First,Rain,{_fm_date(T0)}",
        f'"Bo","","Night","{_fm_date(T0 + 60)}"',
        f'"Someone, Else",Album,"Other, Song",{_fm_date(T0 + 120)}',
        "Anna,First,Sun,",  # now playing: no date
    ]
    f.write_bytes(("\n".join(rows) + "\n").encode("utf-8"))
    report = import_history(f, db)
    assert (report.total, report.matched, report.unmatched) == (3, 2, 1)
    assert report.skipped_now_playing == 1 and report.skipped_malformed == 0
    assert report.top_unmatched == [("Someone, Else", "Other, Song", 1)]
    events = sorted(_imported(db), key=lambda e: e.timestamp)
    assert [(e.track_id, e.timestamp) for e in events] == [(library["Rain"], T0), (library["Night"], T0 + 60)]
    assert events[0].context == {"source": "lastfm", "imported": True}


def test_lastfm_csv_with_header_any_order_and_bom(tmp_path, db, library):
    f = tmp_path / "scrobbles.csv"
    text = (
        "UTS,utc_time,artist,artist_mbid,album,album_mbid,Track,track_mbid\n"
        f'{T0},"{_fm_date(T0)}",Anna,,First,,Rain,\n'
        f'{T0 + 60},"{_fm_date(T0 + 60)}",林夕雨,,夜,,月亮,\n'
    )
    f.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    report = import_history(f, db)
    assert (report.total, report.matched) == (2, 2)
    assert {e.track_id for e in _imported(db)} == {library["Rain"], library["月亮"]}

    g = tmp_path / "other.csv"  # date column only, title called "title", semicolon separated
    g.write_text(f"title;Date;Artist\nNight;2021-01-02 10:00:00;Bo\nSun;{_fm_date(T0 + 99)};Anna\n", encoding="utf-8")
    assert [(x.artist, x.title, x.ts) for x in parse_history(g)] == [
        ("Bo", "Night", T0 + 86400 + 36000),
        ("Anna", "Sun", T0 + 60),  # minutes only in that date format
    ]


def test_lastfm_api_json_pages(tmp_path, db, library):
    page1 = {
        "recenttracks": {
            "track": [_fm_track("Anna", "Rain", None), _fm_track("Anna", "Rain", T0 + 10, "First")],
            "@attr": {"page": "1", "totalPages": "2"},
        }
    }
    page2 = {"recenttracks": {"track": [_fm_track("Bo", "Night", T0, extended=True)], "@attr": {"page": "2"}}}
    f = tmp_path / "pages.json"
    f.write_text(json.dumps([page1, page2]), encoding="utf-8")
    report = import_history(f, db)
    assert (report.total, report.matched, report.skipped_now_playing) == (2, 2, 1)
    assert report.source == "lastfm"
    g = tmp_path / "page.json"  # a single page object, and a page of one track as a bare object
    g.write_text(json.dumps({"recenttracks": {"track": _fm_track("Anna", "Sun", T0 + 20)}}), encoding="utf-8")
    assert [(x.title, x.ts) for x in parse_history(g)] == [("Sun", T0 + 20)]


# -- matching -----------------------------------------------------------------------------------


def test_variants_feat_and_chinese_match(tmp_path, db, library):
    f = tmp_path / "variants.jsonl"
    cases = [
        ("Anna", "Rain (Remastered 2011)", "Rain"),
        ("Anna", "Rain - 2011 Remaster", "Rain"),
        ("ANNA ", "  rain ", "Rain"),
        ("Anna feat. Bo", "Sun", "Sun"),
        ("Anna", "Sun (feat. Bo)", "Sun"),
        ("Bo", "Night [Live]", "Night"),
        ("Dan", "Together", "Together"),  # one of the track's artists
        ("Cara & Dan", "Together", "Together"),
        ("Cara; Dan", "Together", "Together"),  # the joined display artist
        ("林夕雨", "月亮", "月亮"),
        ("林夕雨", "月亮 (Live)", "月亮"),
        ("ＡＮＮＡ", "Ｒａｉｎ", "Rain"),  # full-width: NFKC
    ]
    f.write_text("\n".join(json.dumps(_lb(a, t, T0 + i)) for i, (a, t, _) in enumerate(cases)), encoding="utf-8")
    report = import_history(f, db)
    assert report.unmatched == 0, report.top_unmatched
    events = sorted(_imported(db), key=lambda e: e.timestamp)
    assert [e.track_id for e in events] == [library[want] for _, _, want in cases]


def test_no_false_matches():
    from player_plugin.models import Track, TrackTags

    tracks = [
        Track(1, "/a", TrackTags(title="Song", artists=("Anna",))),
        Track(2, "/b", TrackTags(title="Song (Live)", artists=("Anna",))),
        Track(3, "/c", TrackTags(title="Other", artists=("Anna feat. Bo",))),
    ]
    index = LibraryIndex(tracks)
    assert index.match("Anna", "Song") == 1
    assert index.match("Anna", "Song (Live)") == 2  # an exact title beats the version-stripped one
    assert index.match("Anna", "Song (2011 Remaster)") == 1
    assert index.match("Anna", "Other") == 3
    assert index.match("Bo", "Song") is None
    assert index.match("Anna", "Songs") is None
    assert index.match("Annabel", "Song") is None


# -- errors and robustness ----------------------------------------------------------------------


def test_bad_rows_are_skipped_and_counted(tmp_path, db, library):
    f = tmp_path / "mixed.jsonl"
    good = [json.dumps(_lb("Anna", "Rain", T0 + i)) for i in range(6)]
    bad = [
        '{"listened_at": 1609459200, "track_metadata": ',  # truncated
        json.dumps({"listened_at": "yesterday", "track_metadata": {"artist_name": "A", "track_name": "B"}}),
        json.dumps({"listened_at": T0, "track_metadata": {"artist_name": "", "track_name": "B"}}),
    ]
    f.write_text("\n".join(good[:2] + bad + good[2:]), encoding="utf-8")
    report = import_history(f, db)
    assert (report.total, report.matched, report.skipped_malformed) == (6, 6, 3)
    assert "line 3" in report.malformed_examples[0]
    assert "yesterday" in report.malformed_examples[1]

    c = tmp_path / "mixed.csv"
    c.write_text(
        f"Anna,First,Rain,{_fm_date(T0)}\nonly,three,fields\nAnna,First,Sun,not a date\n"
        f"Bo,,Night,{_fm_date(T0)}\nAnna,,Sun,{_fm_date(T0 + 1)}\n",
        encoding="utf-8",
    )
    report = import_history(c, db)
    assert (report.total, report.matched, report.skipped_malformed) == (3, 3, 2)
    assert any("line 2" in m and "4 columns" in m for m in report.malformed_examples)
    assert any("line 3" in m and "not a date" in m for m in report.malformed_examples)


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("broken.json", '[{"listened_at": 1609459200, "track_metadata": {"artist_name": "A"', "line 1, column"),
        ("other.json", json.dumps({"hello": "world"}), "unrecognised JSON object"),
        ("other2.json", json.dumps([{"foo": 1}]), "entry 1"),
        ("notes.txt", "just some notes\nnothing here\n", "not a recognised listening history"),
        ("wrong.csv", "a,b,c\n1,2,3\n4,5,6\n", "expected a header naming artist, track and date"),
        ("empty.json", "   \n", "empty"),
        ("allbad.jsonl", '{"listened_at": 1}\n{"listened_at": 2}\n', "track_metadata"),
    ],
)
def test_malformed_file_raises_useful_error(tmp_path, db, library, name, content, expected):
    f = tmp_path / name
    f.write_text(content, encoding="utf-8")
    with pytest.raises(HistoryImportError) as err:
        import_history(f, db)
    assert expected in str(err.value)
    assert name in str(err.value)
    assert EventRepository(db).count() == 0


def test_corrupt_zip_and_missing_file(tmp_path, db, library):
    f = tmp_path / "export.zip"
    f.write_bytes(b"PK\x03\x04" + b"\x00" * 40)
    with pytest.raises(HistoryImportError, match="zip"):
        import_history(f, db)
    with pytest.raises(HistoryImportError, match="cannot read"):
        import_history(tmp_path / "nope.json", db)
    empty = tmp_path / "empty.zip"
    with zipfile.ZipFile(empty, "w") as z:
        z.writestr("readme.txt", "hi")
    with pytest.raises(HistoryImportError, match="no .json"):
        import_history(empty, db)


def test_dry_run_writes_nothing(tmp_path, db, library):
    f = tmp_path / "listens.json"
    f.write_text(json.dumps([_lb("Anna", "Rain", T0), _lb("X", "Y", T0)]), encoding="utf-8")
    report = import_history(f, db, dry_run=True)
    assert (report.matched, report.unmatched, report.imported, report.dry_run) == (1, 1, 0, True)
    assert EventRepository(db).count() == 0
    data = report.as_dict()
    assert data["top_unmatched"] == [["X", "Y", 1]] and json.dumps(data)


def test_parse_history_stats_and_dates(tmp_path):
    f = tmp_path / "h.csv"
    f.write_text(
        f"[unknown],,Intro,{_fm_date(T0)}\nA,B,C,31 Jan 2021, 12:34\nA,B,C,01 Jan 1970 00:00\n"
        'A,B,C,31 Jan 2021 12:34\nA,B,C,"31 Jan 2021, 12:34"\n',
        encoding="utf-8",
    )
    stats = ParseStats()
    listens = list(parse_history(f, stats))
    assert listens == [
        Listen("[unknown]", "Intro", None, T0, "lastfm"),
        Listen("A", "C", "B", 1612096440, "lastfm"),
        Listen("A", "C", "B", 1612096440, "lastfm"),
    ]
    assert stats.malformed == 2  # 5 columns (unquoted comma), and the 1970 placeholder date

    worse = tmp_path / "worse.csv"  # more bad rows than good: the file is rejected, not half-imported
    worse.write_text(f"A,B,C,{_fm_date(T0)}\nx,y\nx,y\n", encoding="utf-8")
    with pytest.raises(HistoryImportError, match="2 malformed entries and only 1 good"):
        list(parse_history(worse))
    ms = tmp_path / "ms.json"
    ms.write_text(json.dumps([_lb("A", "B", T0 * 1000)]), encoding="utf-8")
    assert [x.ts for x in parse_history(ms)] == [T0]


def test_large_history_imports_quickly(tmp_path, db, library):
    names = [("Anna", "Rain"), ("Anna", "Sun (Remastered)"), ("Bo", "Night"), ("Zed", "Unknown")]
    n = 100_000
    f = tmp_path / "big.jsonl"
    with f.open("w", encoding="utf-8") as fh:
        for i in range(n):
            a, t = names[i % len(names)]
            fh.write(json.dumps(_lb(a, f"{t}" if i % 7 else f"{t} ", T0 + i)) + "\n")
    start = time.perf_counter()
    report = import_history(f, db)
    elapsed = time.perf_counter() - start
    assert (report.total, report.matched, report.unmatched) == (n, n * 3 // 4, n // 4)
    assert report.imported == n * 3 // 4
    assert elapsed < 20, f"{elapsed:.1f}s"
