"""Numbers read from tags and stream headers, bounded to what a real file can hold.

A tag is text anyone can write ("99999999999999999999"), and a header field is whatever bytes the
file has (a WAV's channels × bits × rate, an AIFF's 80-bit sample rate of 2^100). SQLite stores
64-bit integers only, so an unbounded number would stop the scan at the insert. Every number that
reaches a :class:`~player_plugin.models.TrackTags` passes through here: a value outside its range
becomes None (unknown), never an error.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

# Track numbers: box sets reach the low thousands; beyond this a "number" is junk.
MAX_TRACK_NUMBER = 9_999
# Discs in one release (the largest box sets hold a few hundred).
MAX_DISC_NUMBER = 999
# The highest sample rate of any PCM format in use (768 kHz); Opus/MP3/AAC are far below.
MAX_SAMPLE_RATE = 768_000
# 32-bit float × 64 channels × 768 kHz is 1.6 Gbit/s; real files are below 100 Mbit/s.
MAX_BITRATE = 100_000_000
# Channels a stream may declare (WAV allows 65535; 7.1.4 layouts have 12).
MAX_CHANNELS = 255
# A single file longer than a week is a broken header, not an audiobook.
MAX_DURATION_S = 7 * 24 * 3600.0
# A stream shorter than this holds no music: a header that says so (a 0-second Opus) is broken.
MIN_DURATION_S = 0.1

_NUM_PAIR = re.compile(r"^\s*(\d+)\s*(?:(?:/|of)\s*(\d+))?", re.I)
_YEAR = re.compile(r"(?<!\d)(\d{4})(?!\d)")
_YEAR_PREFIX = re.compile(r"^\s*(\d{4})")


def bounded(value: object, maximum: int) -> int | None:
    """``value`` as an int in 1..maximum, else None (junk, zero, negative, too big, NaN)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    try:
        number = int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError, OverflowError):  # also > 4300 digits (int's str limit)
        return None
    return number if 0 < number <= maximum else None


def parse_pair(values: Iterable[object], maximum: int) -> tuple[int | None, int | None]:
    """Parse "3/12", "3 of 12", "03" → (3, 12) / (3, None); vinyl "A1" and junk → (None, None)."""
    for value in values:
        match = _NUM_PAIR.match(str(value))
        if match:
            return bounded(match.group(1), maximum), bounded(match.group(2), maximum)
    return None, None


def parse_year(values: Iterable[object]) -> int | None:
    """The first four-digit year ("2019-05-01", "20190501"); four digits bound it to 1..9999."""
    for value in values:
        match = _YEAR.search(str(value)) or _YEAR_PREFIX.match(str(value))
        if match and int(match.group(1)) > 0:
            return int(match.group(1))
    return None


def duration(value: object) -> float:
    """A stream length in seconds: finite and within 0..MAX_DURATION_S, else 0 (unknown)."""
    try:
        seconds = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        return 0.0
    return seconds if math.isfinite(seconds) and 0 < seconds <= MAX_DURATION_S else 0.0
