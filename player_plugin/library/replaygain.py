"""ReplayGain from tags: each format's spelling, parsed and bounded (player_plugin/levelling.py uses it).

ReplayGain 2.0 tags give each track (and its album) the gain in dB that brings it to a common
loudness (-18 LUFS) and its peak sample (1.0 = full scale). They are written by loudness scanners
(foobar2000, rsgain, beets' replaygain plugin, Picard's plugin, Quod Libet) as:

* ID3 (MP3, WAV, AIFF): ``TXXX:REPLAYGAIN_TRACK_GAIN`` = ``"-6.48 dB"``, ``…_TRACK_PEAK``, ``…_ALBUM_…``;
* Vorbis comments (FLAC, Ogg Vorbis, Opus): ``REPLAYGAIN_TRACK_GAIN`` and the rest, any case;
* Opus also (RFC 7845): ``R128_TRACK_GAIN`` / ``R128_ALBUM_GAIN``, a whole number of 1/256 dB
  relative to EBU R128's -23 LUFS — 5 dB quieter than ReplayGain's reference;
* MP4: freeform atoms ``----:com.apple.iTunes:replaygain_track_gain`` and the rest.

A value that is not a number, or not a plausible one, counts as missing.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

MAX_GAIN_DB = 60.0  # |gain| beyond this is no loudness measurement
MAX_PEAK = 10.0  # a peak above full scale happens (lossy decoding overshoots); this much is garbage
R128_OFFSET_DB = 5.0  # ReplayGain's reference is -18 LUFS, R128's -23 LUFS: the same track, 5 dB more gain
R128_STEPS_PER_DB = 256  # RFC 7845: the R128 gains are Q7.8 fixed point

_NUMBER = re.compile(r"^\s*([+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+))\s*(?:db)?\s*$", re.IGNORECASE)

TAG_NAMES = {  # the field -> its name in ID3 TXXX, Vorbis comments and MP4 freeform atoms (case-folded)
    "track_gain_db": "replaygain_track_gain",
    "track_peak": "replaygain_track_peak",
    "album_gain_db": "replaygain_album_gain",
    "album_peak": "replaygain_album_peak",
}


def _number(values: Iterable[object]) -> float | None:
    for value in values:
        match = _NUMBER.match(str(value).replace("\x00", ""))
        if match:
            number = float(match.group(1).replace(",", "."))
            if math.isfinite(number):
                return number
    return None


def gain_db(values: Iterable[object]) -> float | None:
    """The first value that reads as a gain ("-6.48 dB", "+1.2", "-6,48 dB"), within ±MAX_GAIN_DB."""
    number = _number(values)
    return number if number is not None and abs(number) <= MAX_GAIN_DB else None


def peak(values: Iterable[object]) -> float | None:
    """The first value that reads as a peak (0.987654), above 0 and at most MAX_PEAK."""
    number = _number(values)
    return number if number is not None and 0.0 < number <= MAX_PEAK else None


def r128_gain_db(values: Iterable[object]) -> float | None:
    """An Opus ``R128_*_GAIN`` (whole 1/256 dB steps against -23 LUFS) as a ReplayGain gain."""
    for value in values:
        text = str(value).strip()
        if re.fullmatch(r"[+-]?\d{1,6}", text):
            db = int(text) / R128_STEPS_PER_DB + R128_OFFSET_DB
            return db if abs(db) <= MAX_GAIN_DB else None
    return None


def gain_fields(lookup, r128: bool = False) -> dict[str, float | None]:
    """The four fields from ``lookup(name)`` (the values of one case-folded tag name); with ``r128``
    (Opus), an R128 gain stands in where the ReplayGain one is missing."""
    out: dict[str, float | None] = {
        "track_gain_db": gain_db(lookup(TAG_NAMES["track_gain_db"])),
        "track_peak": peak(lookup(TAG_NAMES["track_peak"])),
        "album_gain_db": gain_db(lookup(TAG_NAMES["album_gain_db"])),
        "album_peak": peak(lookup(TAG_NAMES["album_peak"])),
    }
    if r128:
        for field, name in (("track_gain_db", "r128_track_gain"), ("album_gain_db", "r128_album_gain")):
            if out[field] is None:
                out[field] = r128_gain_db(lookup(name))
    return out
