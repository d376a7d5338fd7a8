"""Bounds on the text a file's tags may bring in.

A tag is whatever a file says: a crafted (or broken) file can carry a 30 MB title, which would be
stored whole and then tokenised whole by every embed (4.5 GB of memory for four such files). What a
real tag holds is short, so each text field is cut to a length no real one reaches, each list field
to a count no real one reaches, and lyrics to a length far above any song's; the cut is at a line
(lyrics) or simply at the bound (one-line fields). The text view (`embedding.track_text`) applies
the same bounds, so a database filled before they existed cannot blow up an embed either.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

MAX_TAG_CHARS = 1024  # a title, an album, an artist's name; real ones are far shorter
MAX_TAG_VALUES = 64  # artists or genres of one track
MAX_LYRICS_CHARS = 64 * 1024  # a song's lyrics; the longest real ones are a few thousand characters
MAX_CUESHEET_CHARS = 256 * 1024  # a CUE sheet of 99 tracks with long titles is a few KB
_ONE_LINE = ("title", "album", "album_artist", "mb_track_id", "mb_recording_id", "mb_album_id", "mb_artist_id")
_LISTS = ("artists", "genres")


def bounded_text(text: str | None, limit: int = MAX_TAG_CHARS) -> str | None:
    return text if text is None or len(text) <= limit else text[:limit]


def bounded_values(values: Iterable[str]) -> tuple[str, ...]:
    out = []
    for v in values:
        if len(out) == MAX_TAG_VALUES:
            break
        out.append(v[:MAX_TAG_CHARS])
    return tuple(out)


def bounded_lyrics(text: str | None) -> str | None:
    """``text`` cut to :data:`MAX_LYRICS_CHARS`, at the last line break before the bound if there is one."""
    if text is None or len(text) <= MAX_LYRICS_CHARS:
        return text
    cut = text[:MAX_LYRICS_CHARS]
    line = cut.rfind("\n")
    return cut[:line] if line > MAX_LYRICS_CHARS // 2 else cut


def bound_fields(fields: dict[str, Any]) -> dict[str, Any]:
    """The tag fields read from one file, each within its bound."""
    for key in _ONE_LINE:
        if isinstance(fields.get(key), str):
            fields[key] = bounded_text(fields[key])
    for key in _LISTS:
        if fields.get(key):
            fields[key] = bounded_values(fields[key])
    if isinstance(fields.get("cuesheet"), str) and len(fields["cuesheet"]) > MAX_CUESHEET_CHARS:
        fields["cuesheet"] = None  # no real sheet is this long
    if isinstance(fields.get("embedded_lyrics"), str):
        fields["embedded_lyrics"] = bounded_lyrics(fields["embedded_lyrics"])
    return fields
