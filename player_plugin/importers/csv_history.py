"""Last.fm CSV exports, read line by line: lastfm-to-csv's headerless rows, or a header in any order.

A physical line longer than :data:`MAX_LINE_CHARS` (a listen is a hundred characters) stops the
import with a message instead of being read whole; a field longer than the ``csv`` module's
``field_size_limit`` does the same.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import TextIO

from player_plugin.importers.formats import timestamp
from player_plugin.importers.model import LASTFM, HistoryImportError, Listen, ParseStats
from player_plugin.importers.source import bounded_lines

MAX_LINE_CHARS = 1024 * 1024
MAX_QUOTED_ROW_CHARS = 100
_DELIMITERS = (",", "\t", ";")
_MIN_FIELDS = 3  # a listen needs a date, an artist and a title

_TIME_COLUMNS = ("uts", "timestamp", "date_uts", "listened_at", "utc_time", "date", "time", "datetime", "played_at")
_ARTIST_COLUMNS = ("artist", "artist_name", "artistname", "artist name")
_ALBUM_COLUMNS = ("album", "album_name", "albumname", "album name", "release", "release_name")
_TITLE_COLUMNS = ("track", "title", "name", "track_name", "trackname", "track name", "song")


def csv_dialect(first_line: str) -> str | None:
    """The delimiter giving the first line the most fields (at least 3), or None: not a CSV."""
    best, best_n = None, _MIN_FIELDS - 1
    for delim in _DELIMITERS:
        try:
            n = len(next(csv.reader([first_line], delimiter=delim)))
        except (csv.Error, StopIteration):
            continue
        if n > best_n:
            best, best_n = delim, n
    return best


def first_line(head: str) -> str:
    return next((ln for ln in head.splitlines() if ln.strip()), "")


def _header(row: list[str]) -> tuple[int, int | None, int, int] | None:
    """(time, album, artist, title) column indexes when ``row`` is a recognised header."""
    names = [c.strip().lstrip("\ufeff").strip('"').casefold() for c in row]

    def find(options: tuple[str, ...]) -> int | None:
        for opt in options:  # in order of preference: "uts" beats "utc_time"
            if opt in names:
                return names.index(opt)
        return None

    when, artist, title = find(_TIME_COLUMNS), find(_ARTIST_COLUMNS), find(_TITLE_COLUMNS)
    if when is None or artist is None or title is None:
        return None
    return when, find(_ALBUM_COLUMNS), artist, title


def _lines(stream: TextIO, where: str) -> Iterator[str]:
    for lineno, line in bounded_lines(stream, MAX_LINE_CHARS):
        if line is None:  # a record cannot be skipped mid-way in CSV: refuse the file
            raise HistoryImportError(
                f"{where}: line {lineno} is longer than {MAX_LINE_CHARS} characters; not a Last.fm CSV"
            )
        yield line


def parse_csv(stream: TextIO, head: str, where: str, stats: ParseStats) -> Iterator[Listen]:
    delim = csv_dialect(first_line(head))
    if delim is None:
        raise HistoryImportError(
            f"{where}: line 1: not a recognised listening history: expected JSON (ListenBrainz, Last.fm API) "
            f"or a Last.fm CSV (artist, album, track, date like '31 Jan 2021 12:34'); got {first_line(head)[:80]!r}"
        )
    reader = csv.reader(_lines(stream, where), delimiter=delim)
    columns: tuple[int, int | None, int, int] | None = None
    first_row = True
    for lineno, row in _rows(reader, where):
        if not any(c.strip() for c in row):
            continue
        if first_row:
            first_row = False
            columns = _header(row)
            if columns is not None:
                continue
            if (len(row) != 4 or timestamp(row[3]) is None) and not (len(row) == 4 and not row[3].strip()):
                # Neither a header nor a lastfm-to-csv row: say what was expected (this message is the
                # one raised when the whole file turns out bad).
                stats.bad(
                    f"{where}: line {lineno}: expected a header naming artist, track and date (uts/utc_time) "
                    f"columns, or a headerless Last.fm row: artist, album, track, date like '31 Jan 2021 "
                    f"12:34'; got {delim.join(row)[:MAX_QUOTED_ROW_CHARS]!r}"
                )
                continue
        if columns is None:
            if len(row) != 4:
                stats.bad(f"{where}: line {lineno}: expected 4 columns (artist, album, track, date), got {len(row)}")
                continue
            artist, album, title, when = row
        else:
            ti, ai, ri, ni = columns
            if len(row) <= max(ti, ri, ni):
                stats.bad(f"{where}: line {lineno}: expected at least {max(ti, ri, ni) + 1} columns, got {len(row)}")
                continue
            artist, title, when = row[ri], row[ni], row[ti]
            album = row[ai] if ai is not None and ai < len(row) else ""
        artist, title, album, when = artist.strip(), title.strip(), album.strip(), when.strip()
        if not when:
            stats.now_playing += 1  # lastfm-to-csv writes the track playing now without a date
            continue
        if not artist or not title:
            stats.bad(f"{where}: line {lineno}: empty artist or track")
            continue
        ts = timestamp(when)
        if ts is None:
            stats.bad(f"{where}: line {lineno}: cannot read the date {when[:MAX_QUOTED_ROW_CHARS]!r}")
            continue
        yield Listen(artist, title, album or None, ts, LASTFM)


def _rows(reader, where: str) -> Iterator[tuple[int, list[str]]]:
    while True:
        start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise HistoryImportError(f"{where}: line {start}: unreadable CSV ({exc})") from exc
        yield start, row
