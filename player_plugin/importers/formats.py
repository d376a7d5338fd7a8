"""ListenBrainz and Last.fm entries → :class:`Listen`: JSON listens and pages, CSV rows, dates.

Every number read is bounded: a timestamp must be unix seconds (or milliseconds) between
:data:`MIN_TS` and :data:`MAX_TS`, or a date in that range; anything else (a 400-digit number,
``1e400``, ``NaN``) skips the listen and is counted as malformed.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from datetime import UTC, datetime

from player_plugin.importers.model import LASTFM, LISTENBRAINZ, Listen, ParseStats, quoted

MIN_TS = 946_684_800  # 2000-01-01: older "dates" are placeholders (lastfm-to-csv writes 01 Jan 1970)
MAX_TS = 4_102_444_800  # 2100-01-01
MILLISECONDS_ABOVE = 1e11  # a "timestamp" this large is in milliseconds
MAX_TIMESTAMP_CHARS = 64  # longer text is no date
MAX_FIELD_CHARS = 1024  # an artist, title or album longer than this is cut


def listenbrainz(entry: object, at: str, stats: ParseStats) -> Listen | None:
    if not isinstance(entry, dict):
        stats.bad(f"{at}: expected a listen object, got {type(entry).__name__}")
        return None
    meta = entry.get("track_metadata")
    if not isinstance(meta, dict):
        stats.bad(f'{at}: expected "track_metadata" with artist_name and track_name')
        return None
    raw_ts = entry.get("listened_at")
    if raw_ts in (None, "") and entry.get("playing_now"):
        stats.now_playing += 1
        return None
    artist, title = text(meta.get("artist_name")), text(meta.get("track_name"))
    if not artist or not title:
        stats.bad(f"{at}: missing artist_name or track_name")
        return None
    ts = timestamp(raw_ts)
    if ts is None:
        stats.bad(f'{at}: "listened_at" {quoted(raw_ts)} is not a time (unix seconds or ISO-8601, 2000 to 2100)')
        return None
    return Listen(artist, title, text(meta.get("release_name")) or None, ts, LISTENBRAINZ)


def is_lastfm_page(entry: object) -> bool:
    return isinstance(entry, dict) and ("recenttracks" in entry or "track" in entry) and "track_metadata" not in entry


def lastfm_page(page: dict, where: str, label: str, stats: ParseStats) -> Iterator[Listen]:
    body = page.get("recenttracks", page)
    tracks = body.get("track") if isinstance(body, dict) else None
    if isinstance(tracks, dict):  # a page of one track, as the XML→JSON conversion writes it
        tracks = [tracks]
    if not isinstance(tracks, list):
        if isinstance(body, dict) and tracks is None and "recenttracks" in page:
            return  # an empty page
        stats.bad(f'{where}: {label}: expected "recenttracks": {{"track": [...]}}')
        return
    for i, t in enumerate(tracks, 1):
        at = f"{where}: {label}, track {i}"
        if not isinstance(t, dict):
            stats.bad(f"{at}: expected a track object, got {type(t).__name__}")
            continue
        attr = t.get("@attr")
        date = t.get("date")
        if (isinstance(attr, dict) and str(attr.get("nowplaying", "")).lower() == "true") or date in (None, ""):
            stats.now_playing += 1
            continue
        artist, title = text(t.get("artist")), text(t.get("name"))
        if not artist or not title:
            stats.bad(f"{at}: missing artist or name")
            continue
        raw = date.get("uts") if isinstance(date, dict) else date
        if raw in (None, "") and isinstance(date, dict):
            raw = date.get("#text")
        ts = timestamp(raw)
        if ts is None:
            stats.bad(f'{at}: "date" {quoted(date)} has no usable "uts"')
            continue
        yield Listen(artist, title, text(t.get("album")) or None, ts, LASTFM)


def text(value: object) -> str:
    """A string field, or the ``#text``/``name`` of a Last.fm object (``{"#text": "Artist"}``)."""
    if isinstance(value, dict):
        value = value.get("#text") or value.get("name")
    if isinstance(value, str):
        return value.strip()[:MAX_FIELD_CHARS]
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return str(value)[:MAX_FIELD_CHARS]
    return ""


# Dates -----------------------------------------------------------------------------------------

_MONTHS = {
    m: i for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1)
}
_LASTFM_DATE = re.compile(
    r"^(\d{1,2})\s+([A-Za-z]{3})[A-Za-z]*\.?\s+(\d{4}),?\s+(\d{1,2}):(\d{2})(?::(\d{2}))?(?:\s*(am|pm))?$", re.I
)
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_MAX_INT = 10**20  # larger integers are not converted to float at all


def timestamp(value: object) -> float | None:
    """Unix seconds from unix seconds/milliseconds (number or digits), ISO-8601, or "31 Jan 2021 12:34" (UTC);
    None when it is not a time between 2000 and 2100."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        if abs(value) >= _MAX_INT:
            return None
        ts = float(value)
    elif isinstance(value, float):
        ts = value
    elif isinstance(value, str):
        s = value.strip()
        if not s or len(s) > MAX_TIMESTAMP_CHARS:
            return None
        if _NUMBER.fullmatch(s):
            ts = float(s)
        else:
            parsed = _parse_date(s)
            if parsed is None:
                return None
            ts = parsed
    else:
        return None
    if not math.isfinite(ts):
        return None
    if ts > MILLISECONDS_ABOVE:
        ts /= 1000.0
    if not (MIN_TS <= ts < MAX_TS):
        return None
    return ts


def _parse_date(s: str) -> float | None:
    m = _LASTFM_DATE.match(s)
    if m:
        day, mon, year, hour, minute, sec, ampm = m.groups()
        month = _MONTHS.get(mon.casefold())
        if month is None:
            return None
        hour = int(hour)
        if ampm:
            hour = hour % 12 + (12 if ampm.lower() == "pm" else 0)
        try:
            dt = datetime(int(year), month, int(day), hour, int(minute), int(sec or 0), tzinfo=UTC)
        except ValueError:
            return None
        return dt.timestamp()
    try:
        dt = datetime.fromisoformat(s.replace(" UTC", "+00:00"))
    except ValueError:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    try:
        return dt.timestamp()
    except (OverflowError, ValueError, OSError):
        return None
