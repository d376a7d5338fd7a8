"""Which format an export is, told by content, and its listens one at a time (see ``history_import``).

Nothing is read whole: a JSON array is read item by item, JSON Lines and CSV line by line, zip
members streamed (``importers.source``); only a single JSON object (an API response) is read as
one value, of at most ``json_stream.MAX_JSON_VALUE_CHARS``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

from player_plugin.importers.csv_history import csv_dialect, first_line, parse_csv
from player_plugin.importers.formats import is_lastfm_page, lastfm_page, listenbrainz
from player_plugin.importers.json_stream import (
    MAX_JSON_VALUE_CHARS,
    InvalidJsonError,
    JsonReader,
    TooDeepError,
    nests_deeper_than,
    parse_value,
)
from player_plugin.importers.model import HistoryImportError, Listen, ParseStats
from player_plugin.importers.source import Part, bounded_lines, file_parts
from player_plugin.importers.spotify import account, extended, is_account, is_extended

HEAD_CHARS = 64 * 1024  # the text a format is told from
_JSON_START = re.compile(r'[\[{]\s*(?:["{\[\]}]|$)')


def parse_history(path: str | Path, stats: ParseStats | None = None) -> Iterator[Listen]:
    """Every dated listen of the export at ``path``, in file order.

    Malformed rows are skipped and counted in ``stats``; raises :class:`HistoryImportError` when
    the file is unreadable, of no known format, beyond the bounds, or has no good row at all (or
    more bad than good).
    """
    path = Path(path)
    stats = stats if stats is not None else ParseStats()
    good = 0
    for part in file_parts(path):
        for listen in _parse_part(part, stats):
            good += 1
            yield listen
    if good == 0 and stats.malformed:
        raise HistoryImportError(f"no usable listen; first problem: {stats.examples[0]}")
    if stats.malformed > good:
        raise HistoryImportError(
            f"{path}: {stats.malformed} malformed entries and only {good} good ones — is this really a "
            f"Last.fm, ListenBrainz or Spotify export? First problem: {stats.examples[0]}"
        )


def _head(part: Part) -> str:
    """The part's text from its first non-blank character (up to HEAD_CHARS), '' when it is blank."""
    with part.text() as text:
        skipped = 0
        while True:
            chunk = text.read(HEAD_CHARS)
            if not chunk:
                return ""
            stripped = chunk.lstrip()
            if stripped:
                return stripped + text.read(HEAD_CHARS - len(stripped))
            skipped += len(chunk)
            if skipped > MAX_JSON_VALUE_CHARS:
                raise HistoryImportError(f"{part.where}: nothing but blanks in its first {skipped} characters")


def _parse_part(part: Part, stats: ParseStats) -> Iterator[Listen]:
    head = _head(part)
    if not head:
        if part.in_zip:  # an empty member of a zip is no error
            return
        raise HistoryImportError(f"{part.where}: the file is empty")
    if head[0] == "[" and _JSON_START.match(head):
        with part.text() as text:
            yield from _json_array(JsonReader(text, part.where), part.where, stats)
        return
    if head[0] == "{":
        kind, doc, error = _first_object(part)
        if kind == "document":
            yield from _json_document(doc, part.where, stats)
            return
        if kind == "lines" or first_line(head).strip().endswith("}"):
            with part.text() as text:
                yield from _json_lines(text, part.where, stats)
            return
        if _JSON_START.match(head) or csv_dialect(first_line(head)) is None:
            raise error
    elif head[0] == "[" and csv_dialect(first_line(head)) is None:
        with part.text() as text:  # not JSON either: let the reader say where it breaks
            yield from _json_array(JsonReader(text, part.where), part.where, stats)
        return
    with part.text() as text:  # a CSV, or nothing we know (parse_csv says so)
        yield from parse_csv(text, head, part.where, stats)


def _first_object(part: Part) -> tuple[str, Any, HistoryImportError | None]:
    """("document", the object, None) when the part is one JSON object; ("lines", None, None) when
    more values follow it; ("invalid", None, the error) when the first value is not JSON."""
    with part.text() as text:
        reader = JsonReader(text, part.where)
        try:
            doc = reader.value()
        except InvalidJsonError as exc:
            return "invalid", None, _expected(exc)
        return ("document", doc, None) if reader.peek() == "" else ("lines", None, None)


def _expected(exc: HistoryImportError) -> HistoryImportError:
    return HistoryImportError(
        f"{exc}; expected a ListenBrainz export (JSON array or JSON Lines), Last.fm API pages or a Spotify "
        "streaming history (JSON array)"
    )


def _json_document(doc: Any, where: str, stats: ParseStats) -> Iterator[Listen]:
    """One JSON object: a Last.fm page, a ListenBrainz API response, or a single listen."""
    if is_lastfm_page(doc) and ("recenttracks" in doc or isinstance(doc.get("track"), list | dict)):
        yield from lastfm_page(doc, where, "page 1", stats)
        return
    payload = doc.get("payload")
    if isinstance(payload, dict) and isinstance(payload.get("listens"), list):
        yield from _entries(iter(payload["listens"]), where, stats)
    elif "track_metadata" in doc or "listened_at" in doc:
        yield from _entries(iter([doc]), where, stats)
    else:
        raise HistoryImportError(
            f"{where}: unrecognised JSON object (keys {', '.join(sorted(map(str, doc))[:6]) or 'none'}); "
            'expected ListenBrainz listens ("listened_at", "track_metadata") or Last.fm "recenttracks" pages'
        )


def _json_array(reader: JsonReader, where: str, stats: ParseStats) -> Iterator[Listen]:
    try:
        yield from _entries(reader.array_items(), where, stats)
    except InvalidJsonError as exc:
        raise _expected(exc) from None


def _entries(items: Iterator[Any], where: str, stats: ParseStats) -> Iterator[Listen]:
    """ListenBrainz listens, Last.fm pages or Spotify rows, told apart by the first object."""
    pages: bool | None = None
    spotify = None
    for i, item in enumerate(items, 1):
        if isinstance(item, TooDeepError):
            stats.bad(str(item))
            continue
        if pages is None and isinstance(item, dict):
            pages = is_lastfm_page(item)
            spotify = account if is_account(item) else extended if is_extended(item) else None
            if not pages and spotify is None and "track_metadata" not in item and "listened_at" not in item:
                raise HistoryImportError(
                    f'{where}: entry {i}: expected a ListenBrainz listen with "listened_at" and "track_metadata", '
                    'Last.fm "recenttracks" pages, or a Spotify listen ("endTime", "msPlayed" or "ts", '
                    f'"ms_played"); got keys {", ".join(sorted(map(str, item))[:6]) or "none"}'
                )
        if spotify is not None:
            listen = spotify(item, f"{where}: entry {i}", stats)
            if listen is not None:
                yield listen
            continue
        if pages:
            if isinstance(item, dict):
                yield from lastfm_page(item, where, f"page {i}", stats)
            else:
                stats.bad(f"{where}: page {i}: expected a Last.fm page object, got {type(item).__name__}")
            continue
        listen = listenbrainz(item, f"{where}: entry {i}", stats)
        if listen is not None:
            yield listen


def _json_lines(text: TextIO, where: str, stats: ParseStats) -> Iterator[Listen]:
    """One listen per line; a bad line (invalid, too long, too deep) is skipped and counted."""
    for lineno, line in bounded_lines(text, MAX_JSON_VALUE_CHARS):
        if line is None:
            stats.bad(f"{where}: line {lineno}: longer than {MAX_JSON_VALUE_CHARS} characters")
            continue
        if not line.strip():
            continue
        if nests_deeper_than(line):
            stats.bad(f"{where}: line {lineno}: JSON nested too deep")
            continue
        ok, entry, message = parse_value(line)
        if not ok:
            stats.bad(f"{where}: line {lineno}: invalid JSON ({message})")
            continue
        listen = listenbrainz(entry, f"{where}: line {lineno}", stats)
        if listen is not None:
            yield listen
