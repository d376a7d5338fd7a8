"""Volume levelling: ReplayGain read from real files of every format, stored, read again after an
upgrade, and the rule that turns it into how loud a track plays (player_plugin/levelling.py)."""

from __future__ import annotations

import math
import shutil

import mutagen
import mutagen.apev2
import pytest
from mutagen.id3 import TXXX

from player_plugin.engine import Engine
from player_plugin.levelling import LevellingConfig, LevellingMode, follows_on_album, gain
from player_plugin.library import replaygain
from player_plugin.library.tags import read_tags
from player_plugin.models import TrackTags
from player_plugin.store import Database
from tests.conftest import FIXTURES, database_at_version, make_track

RG = {
    "REPLAYGAIN_TRACK_GAIN": "-7.25 dB",
    "REPLAYGAIN_TRACK_PEAK": "0.988525",
    "REPLAYGAIN_ALBUM_GAIN": "-6.10 dB",
    "REPLAYGAIN_ALBUM_PEAK": "1.012000",
}
EXPECTED = {"track_gain_db": -7.25, "track_peak": 0.988525, "album_gain_db": -6.10, "album_peak": 1.012}


def _tag(path, fmt: str, values: dict[str, str]) -> None:
    """ReplayGain written as each format's taggers write it."""
    if fmt in ("mp3", "wav"):
        audio = mutagen.File(path)
        if audio.tags is None:
            audio.add_tags()
        for key, value in values.items():
            audio.tags.add(TXXX(encoding=3, desc=key, text=[value]))
        audio.save()
    elif fmt == "m4a":
        audio = mutagen.File(path)
        for key, value in values.items():
            audio.tags[f"----:com.apple.iTunes:{key.lower()}"] = [value.encode("utf-8")]
        audio.save()
    elif fmt == "wv":  # APEv2, as foobar2000 writes it
        tags = mutagen.apev2.APEv2()
        for key, value in values.items():
            tags[key] = value
        tags.save(path)
    elif fmt == "wma":
        audio = mutagen.File(path)
        for key, value in values.items():
            audio[key] = [value]
        audio.save()
    else:  # Vorbis comments, in whatever case the tagger chose
        audio = mutagen.File(path)
        for key, value in values.items():
            audio.tags[key.lower() if fmt == "ogg" else key] = [value]
        audio.save()


@pytest.mark.parametrize("fmt", ["mp3", "flac", "ogg", "opus", "m4a", "wav", "wv", "wma"])
def test_replaygain_is_read_from_every_format(tmp_path, fmt):
    if fmt in ("wav", "wv", "wma"):
        path = tmp_path / f"t.{fmt}"
        shutil.copyfile(FIXTURES / f"tone.{fmt}", path)
    else:
        path = make_track(tmp_path, "t", fmt, title="Tone")
    _tag(path, fmt, RG)
    tags = read_tags(path)
    for field, value in EXPECTED.items():
        assert getattr(tags, field) == pytest.approx(value), field


def test_opus_r128_gains_stand_in_for_missing_replaygain(tmp_path):
    path = make_track(tmp_path, "t", "opus", title="Tone")
    _tag(path, "opus", {"R128_TRACK_GAIN": "-1792", "R128_ALBUM_GAIN": "+256"})  # -7 dB and +1 dB against -23 LUFS
    tags = read_tags(path)
    assert tags.track_gain_db == pytest.approx(-7.0 + 5.0) and tags.album_gain_db == pytest.approx(1.0 + 5.0)
    assert tags.track_peak is None


@pytest.mark.parametrize(
    ("values", "gain_db", "peak"),
    [
        (["-6,48 dB"], -6.48, None),  # a decimal comma
        (["+3 dB"], 3.0, None),
        (["loud"], None, None),
        (["-900 dB"], None, None),  # no loudness measurement
        (["nan"], None, None),
        ([""], None, None),
    ],
)
def test_gain_values_that_are_not_plausible_count_as_missing(values, gain_db, peak):
    assert replaygain.gain_db(values) == (pytest.approx(gain_db) if gain_db is not None else None)
    assert replaygain.peak(["0"]) is None and replaygain.peak(["12"]) is None and replaygain.peak(["0.5"]) == 0.5


def test_a_library_scanned_before_reads_its_files_again_once(tmp_path):
    """A library scanned by a reader that knew no ReplayGain (schema 4) gets its gains at the next
    scan, though no file changed; the scan after that opens nothing."""
    music = tmp_path / "Music"
    path = make_track(music / "Anna", "Rain", "flac", title="Rain", artist="Anna")
    _tag(path, "flac", RG)
    engine = Engine(Database(database_at_version(tmp_path / "old.db", 4)))
    try:
        engine.scan([music])  # today's reader: gains stored
        engine.db.conn.execute("UPDATE tracks SET track_gain_db = NULL, tags_version = 1")  # as an old reader left it
        again = engine.scan()
        assert again.updated == 1
        (track,) = engine.all_tracks()
        assert track.tags.track_gain_db == pytest.approx(-7.25)
        assert engine.scan().unchanged == 1
    finally:
        engine.close()


def _tags(**kw) -> TrackTags:
    return TrackTags(title="t", album="A", album_artist="X", **kw)


def test_the_gain_rule():
    tagged = _tags(track_number=2, track_gain_db=-8.0, track_peak=0.5, album_gain_db=-6.0, album_peak=0.9)
    track = LevellingConfig(LevellingMode.TRACK)
    assert gain(tagged, track).factor == pytest.approx(10 ** (-8 / 20)) and gain(tagged, track).source == "track"
    album = gain(tagged, LevellingConfig(LevellingMode.ALBUM))
    assert album.source == "album" and album.factor == pytest.approx(10 ** (-6 / 20))
    assert gain(tagged, LevellingConfig(LevellingMode.OFF)).factor == 1.0

    before = _tags(track_number=1)
    auto = LevellingConfig()
    assert gain(tagged, auto, previous=before).source == "album"  # the album plays in order
    assert gain(tagged, auto, previous=_tags(track_number=5)).source == "track"  # a mix
    assert gain(tagged, auto).source == "track"

    loud = _tags(track_gain_db=+6.0, track_peak=0.8)  # +6 dB would take the 0.8 peak to 1.6
    assert gain(loud, track).factor == pytest.approx(1 / 0.8)
    assert gain(loud, LevellingConfig(LevellingMode.TRACK, prevent_clipping=False)).factor == pytest.approx(
        10 ** (6 / 20)
    )
    assert gain(_tags(album_gain_db=-3.0), track).source == "album"  # the other gain when one is missing
    untagged = gain(_tags(), LevellingConfig(untagged_db=-6.0))
    assert untagged.source == "untagged" and untagged.factor == pytest.approx(10 ** (-6 / 20))
    assert gain(tagged, LevellingConfig(LevellingMode.TRACK, preamp_db=2.0)).factor == pytest.approx(10 ** (-6 / 20))


def test_an_album_in_order_across_discs():
    end_of_one = _tags(disc_number=1, track_number=12)
    assert follows_on_album(_tags(disc_number=2, track_number=1), end_of_one)
    assert not follows_on_album(_tags(disc_number=2, track_number=2), end_of_one)
    assert not follows_on_album(TrackTags(title="t", album="B", track_number=13), end_of_one)


def test_a_stored_setting_that_is_not_understood_takes_the_defaults():
    cfg = LevellingConfig.from_settings({"mode": "loudest", "preamp_db": "x", "untagged_db": 99})
    assert cfg == LevellingConfig(LevellingMode.AUTO, 0.0, 15.0, True)
    assert LevellingConfig.from_settings(LevellingConfig(LevellingMode.ALBUM, -2.5).as_settings()).preamp_db == -2.5
    assert math.isfinite(LevellingConfig.from_settings({"preamp_db": float("nan")}).preamp_db)
