"""APEv2 and ASF tags → ``TrackTags`` fields (Monkey's Audio and WavPack; WMA).

Lossless CD rips are often Monkey's Audio (``.ape``) or WavPack (``.wv``): both carry APEv2 tags.
APEv2 keys are case-insensitive and mostly spelled like Vorbis comments (foobar2000, Picard and Mp3tag write ``Artist``,
``Album Artist``, ``REPLAYGAIN_TRACK_GAIN``, ``MUSICBRAINZ_TRACKID``), with four differences
handled here: ``Track``/``Disc`` for the numbers, ``Year`` for the date, several values of one key
separated by NUL, and pictures as binary items named ``Cover Art (…)``. So the items are turned into
comments and mapped by the Vorbis mapper, the one place those spellings live.

WMA files carry ASF attributes: ``Title``, ``Author`` and ``WM/…`` names (Windows Media Player's and
Picard's spellings), ``MusicBrainz/…`` ids and ReplayGain as plain attributes.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from mutagen.apev2 import APETextValue, APEv2
from mutagen.asf import ASFTags

from player_plugin.library.cover_items import APE_COVER_PREFIX
from player_plugin.library.numbers import MAX_DISC_NUMBER, MAX_TRACK_NUMBER, bounded, parse_pair, parse_year
from player_plugin.library.ratings import unit_rating, wm_rating
from player_plugin.library.replaygain import gain_fields
from player_plugin.library.tag_fields import _clean_list, _first, _first_value, _join_lyrics, _vorbis_fields

__all__ = ["ape_fields", "asf_fields"]

# APEv2 key (case-folded) -> the Vorbis comment that says the same
_APE_ALIASES = {"track": "tracknumber", "disc": "discnumber", "year": "date", "album_artist": "albumartist"}


def _ape_comments(tags: APEv2) -> Iterator[tuple[str, str]]:
    for key, value in tags.items():
        if not isinstance(value, APETextValue):  # binary items (pictures) and links are no text
            continue
        name = key.strip().casefold()
        for text in value:  # an APETextValue iterates over its NUL-separated values
            yield _APE_ALIASES.get(name, name), text


def ape_fields(tags: APEv2 | None) -> dict[str, Any]:
    """Fields of an APEv2 tag (None when the file has none)."""
    if tags is None:
        return _vorbis_fields((), False)
    cover = any(key.strip().casefold().startswith(APE_COVER_PREFIX) for key in tags)
    return _vorbis_fields(_ape_comments(tags), cover)


def _asf_texts(tags: ASFTags, name: str) -> list[str]:
    out: list[str] = []
    for key, value in tags.items():
        if key.casefold() == name.casefold():
            out.extend(str(v) for v in (value if isinstance(value, list) else [value]))
    return out


def asf_fields(tags: ASFTags | None) -> dict[str, Any]:
    """Fields of a WMA file's ASF attributes."""
    if tags is None:
        tags = ASFTags()

    def texts(*names: str) -> list[str]:
        for name in names:
            found = _asf_texts(tags, name)
            if found:
                return found
        return []

    track_number, track_total = parse_pair(texts("WM/TrackNumber"), MAX_TRACK_NUMBER)
    if track_number is None:  # the old zero-based attribute
        zero_based = bounded(_first(texts("WM/Track")), MAX_TRACK_NUMBER - 1)
        track_number = None if zero_based is None else zero_based + 1
    disc_number, disc_total = parse_pair(texts("WM/PartOfSet"), MAX_DISC_NUMBER)
    return {
        "title": _first(texts("Title")),
        "artists": _clean_list(texts("Author")) or _clean_list(texts("WM/ARTISTS")),
        "album": _first(texts("WM/AlbumTitle")),
        "album_artist": _first(texts("WM/AlbumArtist")),
        "genres": _clean_list(texts("WM/Genre")),
        "year": parse_year(texts("WM/Year", "WM/OriginalReleaseYear")),
        "track_number": track_number,
        "track_total": track_total,
        "disc_number": disc_number,
        "disc_total": disc_total,
        "mb_track_id": _first(texts("MusicBrainz/Release Track Id")),
        "mb_recording_id": _first(texts("MusicBrainz/Track Id")),
        "mb_album_id": _first(texts("MusicBrainz/Album Id")),
        "mb_artist_id": _first_value(texts("MusicBrainz/Artist Id")),
        "embedded_lyrics": _join_lyrics(texts("WM/Lyrics")),
        "has_cover": bool(texts("WM/Picture")),
        "rating": unit_rating(texts("FMPS/Rating")) or wm_rating(texts("WM/SharedUserRating")),
        **gain_fields(lambda name: texts(name)),
    }
