"""Spotify exports → :class:`Listen`: the account export and the extended streaming history.

* Account export (``StreamingHistory*.json``, ``StreamingHistory_music_*.json``): a JSON array of
  ``{"endTime": "2023-01-05 21:13", "artistName", "trackName", "msPlayed"}``.
* Extended streaming history (``Streaming_History_Audio_*.json``, ``endsong_*.json``): a JSON array of
  ``{"ts": "2021-03-04T12:34:56Z", "ms_played", "master_metadata_track_name",
  "master_metadata_album_artist_name", "master_metadata_album_album_name", "reason_end", "skipped", …}``.
  A row without a track name (a podcast episode, an audiobook) is counted, not imported.

Both give the time a play *ended*; a listen's time is when it *started* (``../shared/data/FORMAT.md``,
as Last.fm and ListenBrainz give it), so ``ts = end - ms_played``. A listen is a skip by FORMAT.md's rule
(:func:`is_skip`). Only the artist, title, album, times and the skip verdict are read: IP addresses,
platform, country, user agent, URIs and the rest of a row are never looked at, so they cannot be stored.
"""

from __future__ import annotations

import re

from player_plugin.importers.formats import MAX_TS, MIN_TS, text, timestamp
from player_plugin.importers.model import SPOTIFY, SPOTIFY_EXTENDED, Listen, ParseStats, quoted

SKIP_UNDER_MS = 30_000  # FORMAT.md: a listen that played less than this is a skip
SKIP_REASONS = frozenset({"fwdbtn"})  # FORMAT.md: reason_end "fwdbtn" (the next button) is a skip
MAX_MS_PLAYED = 24 * 3600 * 1000  # a longer "ms_played" is no play of a song
MS_PER_S = 1000.0

# The files of a Spotify export that hold music listens (the podcast and video files, Userdata.json,
# Playlist1.json and the rest are not read).
SPOTIFY_FILE = re.compile(
    r"^(?:streaminghistory\d*|streaminghistory_music_\d+|streaming_history_audio_[^/]*|endsong(?:_\d+)?)\.json$",
    re.I,
)
_ACCOUNT_KEYS = ("endTime", "msPlayed")
_EXTENDED_KEYS = ("ts", "ms_played")
_NOT_MUSIC_KEYS = ("episode_name", "spotify_episode_uri", "audiobook_title", "audiobook_uri", "episodeName")


def is_account(entry: object) -> bool:
    return isinstance(entry, dict) and all(k in entry for k in _ACCOUNT_KEYS)


def is_extended(entry: object) -> bool:
    return isinstance(entry, dict) and all(k in entry for k in _EXTENDED_KEYS)


def is_skip(skipped: object, reason_end: object, ms_played: int | None) -> bool:
    """FORMAT.md: ``skipped`` is true, or ``reason_end`` is "fwdbtn", or ``ms_played`` is known and under 30 s.
    Unknown fields (missing, null) are not false: they just do not count."""
    if skipped is True:
        return True
    if isinstance(reason_end, str) and reason_end.strip().casefold() in SKIP_REASONS:
        return True
    return ms_played is not None and ms_played < SKIP_UNDER_MS


def _ms(value: object) -> int | None:
    """A play length in milliseconds (an integer or digits, 0 .. MAX_MS_PLAYED), else None."""
    if isinstance(value, str) and value.strip().isdigit() and len(value.strip()) <= len(str(MAX_MS_PLAYED)):
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or not (0 <= value <= MAX_MS_PLAYED):
        return None
    return value


def _listen(
    artist: str,
    title: str,
    album: str,
    end: object,
    ms: object,
    skipped: object,
    reason_end: object,
    at: str,
    source: str,
    stats: ParseStats,
) -> Listen | None:
    played = _ms(ms)
    if played is None:
        stats.bad(f"{at}: the play length {quoted(ms)} is not milliseconds (0 to {MAX_MS_PLAYED})")
        return None
    ended = timestamp(end)
    if ended is None or not (MIN_TS <= ended - played / MS_PER_S < MAX_TS):
        stats.bad(f"{at}: the end time {quoted(end)} is not a time (ISO-8601, 2000 to 2100)")
        return None
    return Listen(
        artist,
        title,
        album or None,
        ended - played / MS_PER_S,
        source,
        skip=is_skip(skipped, reason_end, played),
        played_s=played / MS_PER_S,
    )


def account(entry: object, at: str, stats: ParseStats) -> Listen | None:
    """One row of the account export (``StreamingHistory*.json``); it has no album and no skip flag."""
    if not isinstance(entry, dict):
        stats.bad(f"{at}: expected a listen object, got {type(entry).__name__}")
        return None
    artist, title = text(entry.get("artistName")), text(entry.get("trackName"))
    if not title and any(entry.get(k) for k in _NOT_MUSIC_KEYS):
        stats.not_music += 1
        return None
    if not artist or not title:
        stats.bad(f'{at}: missing "artistName" or "trackName"')
        return None
    return _listen(artist, title, "", entry.get("endTime"), entry.get("msPlayed"), None, None, at, SPOTIFY, stats)


def extended(entry: object, at: str, stats: ParseStats) -> Listen | None:
    """One row of the extended streaming history; a row with no track name is a podcast or an audiobook."""
    if not isinstance(entry, dict):
        stats.bad(f"{at}: expected a listen object, got {type(entry).__name__}")
        return None
    title = text(entry.get("master_metadata_track_name"))
    if not title:
        stats.not_music += 1
        return None
    artist = text(entry.get("master_metadata_album_artist_name"))
    if not artist:
        stats.bad(f'{at}: missing "master_metadata_album_artist_name"')
        return None
    album = text(entry.get("master_metadata_album_album_name"))
    skipped, reason = entry.get("skipped"), entry.get("reason_end")
    return _listen(
        artist, title, album, entry.get("ts"), entry.get("ms_played"), skipped, reason, at, SPOTIFY_EXTENDED, stats
    )
