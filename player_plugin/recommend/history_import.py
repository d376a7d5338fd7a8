"""Import a Last.fm or ListenBrainz listening history so the model starts warm (cold start).

Formats, told apart by content (the extension is only a hint):

* ListenBrainz: a JSON array of listens, JSON Lines (one listen per line, as in the zip exports),
  an API response (``{"payload": {"listens": [...]}}``), or a ``.zip`` holding such files
  (``listens/2023/5.jsonl``; other members such as ``user.json`` or ``feedback.jsonl`` are ignored
  when a ``listens/`` folder exists). ``listened_at`` is unix seconds or an ISO-8601 string.
* Last.fm: the headerless CSV of lastfm-to-csv (artist, album, track, "31 Jan 2021 12:34"), CSVs
  with a header (``uts``/``utc_time``/``date``, ``artist``, ``album``, ``track``/``title``/``name``
  in any order, any case; ``,``, ``;`` or tab separated), and the API's JSON pages
  (``{"recenttracks": {"track": [...]}}``, or a JSON array of such pages). "Now playing" entries
  (no date, ``@attr.nowplaying``, ListenBrainz ``playing_now``) are skipped, not counted as errors.

Text is UTF-8 with or without BOM (UTF-16 and the Chinese code pages work too, via ``decode_text``).
A file that is not one of these raises :class:`HistoryImportError` naming the file, the line or
entry and what was expected; a few malformed rows in an otherwise good file are skipped and counted.

Matched listens become ``complete`` events at their original time, context
``{"source": "lastfm"|"listenbrainz", "imported": true}``. A listen whose track already has a
``complete`` event at the same second is a duplicate, so importing a file twice adds nothing.
"""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from player_plugin.library.lyrics import decode_text
from player_plugin.models import Event, EventKind, Track
from player_plugin.recommend.queue import normalise, version_key
from player_plugin.store.db import Database
from player_plugin.store.events import EventRepository
from player_plugin.store.tracks import TrackRepository

LASTFM = "lastfm"
LISTENBRAINZ = "listenbrainz"
TOP_UNMATCHED = 10
_MAX_EXAMPLES = 5  # malformed-row messages kept in the report


class HistoryImportError(Exception):
    """The file is not a listening history this module understands (or cannot be read)."""


@dataclass(frozen=True, slots=True)
class Listen:
    artist: str
    title: str
    album: str | None
    ts: float  # unix seconds, UTC
    source: str = ""  # "lastfm" or "listenbrainz"


@dataclass
class ParseStats:
    """What :func:`parse_history` skipped on the way (filled in while iterating)."""

    malformed: int = 0
    now_playing: int = 0
    examples: list[str] = field(default_factory=list)  # the first few malformed-row messages

    def bad(self, message: str) -> None:
        self.malformed += 1
        if len(self.examples) < _MAX_EXAMPLES:
            self.examples.append(message)


@dataclass
class ImportReport:
    """Counts of one import. ``total = matched + unmatched``; ``duplicates`` are matched listens
    already in the database (or repeated in the file); ``imported`` events were written (0 on a
    dry run, where ``matched - duplicates`` is what a real run would write)."""

    path: str
    source: str
    total: int = 0
    matched: int = 0
    unmatched: int = 0
    duplicates: int = 0
    imported: int = 0
    skipped_malformed: int = 0
    skipped_now_playing: int = 0
    dry_run: bool = False
    top_unmatched: list[tuple[str, str, int]] = field(default_factory=list)  # (artist, title, count)
    malformed_examples: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        data = asdict(self)
        data["top_unmatched"] = [list(t) for t in self.top_unmatched]
        return data


# -- parsing ------------------------------------------------------------------------------------


def parse_history(path: str | Path, stats: ParseStats | None = None) -> Iterator[Listen]:
    """Every dated listen of the export at ``path``, in file order.

    Malformed rows are skipped and counted in ``stats``; raises :class:`HistoryImportError` when
    the file is unreadable, of no known format, or has no good row at all (or more bad than good).
    """
    path = Path(path)
    stats = stats if stats is not None else ParseStats()
    try:
        with open(path, "rb") as fh:
            head = fh.read(4)
    except OSError as exc:
        raise HistoryImportError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    good = 0
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        listens = _parse_zip(path, stats)
    else:
        listens = _parse_bytes(path.read_bytes(), str(path), stats)
    for listen in listens:
        good += 1
        yield listen
    if good == 0 and stats.malformed:
        raise HistoryImportError(f"no usable listen; first problem: {stats.examples[0]}")
    if stats.malformed > good:
        raise HistoryImportError(
            f"{path}: {stats.malformed} malformed entries and only {good} good ones — is this really a "
            f"Last.fm or ListenBrainz export? First problem: {stats.examples[0]}"
        )


def _parse_zip(path: Path, stats: ParseStats) -> Iterator[Listen]:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise HistoryImportError(f"{path}: not a readable zip archive ({exc})") from exc
    with archive:
        names = [
            i.filename
            for i in archive.infolist()
            if not i.is_dir()
            and i.filename.lower().endswith((".json", ".jsonl", ".csv"))
            and not i.filename.startswith("__MACOSX/")
        ]
        listens = [n for n in names if "listens" in n.lower().split("/")[:-1]]
        chosen = sorted(listens or names, key=_natural_key)
        if not chosen:
            raise HistoryImportError(f"{path}: the zip holds no .json, .jsonl or .csv file of listens")
        for name in chosen:
            try:
                data = archive.read(name)
            except (zipfile.BadZipFile, OSError, RuntimeError) as exc:
                raise HistoryImportError(f"{path}!{name}: cannot extract ({exc})") from exc
            if data.strip():
                yield from _parse_bytes(data, f"{path}!{name}", stats)


def _natural_key(name: str) -> list:
    """``listens/2023/10.jsonl`` after ``listens/2023/9.jsonl``."""
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", name)]


_JSON_START = re.compile(r'[\[{]\s*(?:["{\[\]}]|$)')


def _parse_bytes(data: bytes, where: str, stats: ParseStats) -> Iterator[Listen]:
    text = decode_text(data).lstrip("\ufeff")
    stripped = text.lstrip()
    if not stripped:
        raise HistoryImportError(f"{where}: the file is empty")
    if stripped[0] in "[{":
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
            first_line = stripped.split("\n", 1)[0].strip()
            if stripped[0] == "{" and (exc.msg == "Extra data" or first_line.endswith("}")):
                return _parse_jsonl(text, where, stats)  # one object per line; bad lines are skipped
            if not _JSON_START.match(stripped) and _csv_dialect(text) is not None:
                return _parse_csv(text, where, stats)  # a headerless CSV whose first artist is "[unknown]"
            raise HistoryImportError(
                f"{where}: line {exc.lineno}, column {exc.colno}: invalid JSON ({exc.msg}); expected a "
                "ListenBrainz export (JSON array or JSON Lines) or Last.fm API pages"
            ) from exc
        return _parse_json_doc(doc, where, stats)
    return _parse_csv(text, where, stats)


# ListenBrainz / Last.fm JSON ------------------------------------------------------------------


def _parse_json_doc(doc, where: str, stats: ParseStats) -> Iterator[Listen]:
    if isinstance(doc, dict):
        if "recenttracks" in doc or ("track" in doc and isinstance(doc.get("track"), list | dict)):
            yield from _lastfm_page(doc, where, "page 1", stats)
            return
        payload = doc.get("payload")
        if isinstance(payload, dict) and isinstance(payload.get("listens"), list):
            doc = payload["listens"]
        elif "track_metadata" in doc or "listened_at" in doc:
            doc = [doc]
        else:
            raise HistoryImportError(
                f"{where}: unrecognised JSON object (keys {', '.join(sorted(map(str, doc))[:6]) or 'none'}); "
                'expected ListenBrainz listens ("listened_at", "track_metadata") or Last.fm "recenttracks" pages'
            )
    if not isinstance(doc, list):
        raise HistoryImportError(f"{where}: expected a JSON array or object, got {type(doc).__name__}")
    first = next((e for e in doc if isinstance(e, dict)), None)
    if first is not None and ("recenttracks" in first or "track" in first) and "track_metadata" not in first:
        for i, page in enumerate(doc, 1):
            if isinstance(page, dict):
                yield from _lastfm_page(page, where, f"page {i}", stats)
            else:
                stats.bad(f"{where}: page {i}: expected a Last.fm page object, got {type(page).__name__}")
        return
    if first is not None and "track_metadata" not in first and "listened_at" not in first:
        raise HistoryImportError(
            f'{where}: entry 1: expected a ListenBrainz listen with "listened_at" and "track_metadata" '
            f'or Last.fm "recenttracks" pages; got keys {", ".join(sorted(map(str, first))[:6]) or "none"}'
        )
    for i, entry in enumerate(doc, 1):
        listen = _listenbrainz(entry, f"{where}: entry {i}", stats)
        if listen is not None:
            yield listen


def _parse_jsonl(text: str, where: str, stats: ParseStats) -> Iterator[Listen]:
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except json.JSONDecodeError as exc:
            stats.bad(f"{where}: line {lineno}: invalid JSON ({exc.msg})")
            continue
        listen = _listenbrainz(entry, f"{where}: line {lineno}", stats)
        if listen is not None:
            yield listen


def _listenbrainz(entry, at: str, stats: ParseStats) -> Listen | None:
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
    artist, title = _text(meta.get("artist_name")), _text(meta.get("track_name"))
    if not artist or not title:
        stats.bad(f"{at}: missing artist_name or track_name")
        return None
    ts = _timestamp(raw_ts)
    if ts is None:
        stats.bad(f'{at}: "listened_at" {raw_ts!r} is not a time (unix seconds or ISO-8601, after 2000)')
        return None
    return Listen(artist, title, _text(meta.get("release_name")) or None, ts, LISTENBRAINZ)


def _lastfm_page(page: dict, where: str, label: str, stats: ParseStats) -> Iterator[Listen]:
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
        artist, title = _text(t.get("artist")), _text(t.get("name"))
        if not artist or not title:
            stats.bad(f"{at}: missing artist or name")
            continue
        raw = date.get("uts") if isinstance(date, dict) else date
        if raw in (None, "") and isinstance(date, dict):
            raw = date.get("#text")
        ts = _timestamp(raw)
        if ts is None:
            stats.bad(f'{at}: "date" {date!r} has no usable "uts"')
            continue
        yield Listen(artist, title, _text(t.get("album")) or None, ts, LASTFM)


def _text(value) -> str:
    """A string field, or the ``#text``/``name`` of a Last.fm object (``{"#text": "Artist"}``)."""
    if isinstance(value, dict):
        value = value.get("#text") or value.get("name")
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return ""


# Last.fm CSV -----------------------------------------------------------------------------------

_TIME_COLUMNS = ("uts", "timestamp", "date_uts", "listened_at", "utc_time", "date", "time", "datetime", "played_at")
_ARTIST_COLUMNS = ("artist", "artist_name", "artistname", "artist name")
_ALBUM_COLUMNS = ("album", "album_name", "albumname", "album name", "release", "release_name")
_TITLE_COLUMNS = ("track", "title", "name", "track_name", "trackname", "track name", "song")


def _csv_dialect(text: str) -> str | None:
    """The delimiter giving the first line the most fields (at least 3), or None: not a CSV."""
    first = next((ln for ln in text.splitlines() if ln.strip()), "")
    best, best_n = None, 2
    for delim in (",", "\t", ";"):
        try:
            n = len(next(csv.reader([first], delimiter=delim)))
        except (csv.Error, StopIteration):
            continue
        if n > best_n:
            best, best_n = delim, n
    return best


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


def _parse_csv(text: str, where: str, stats: ParseStats) -> Iterator[Listen]:
    delim = _csv_dialect(text)
    if delim is None:
        first = next((ln for ln in text.splitlines() if ln.strip()), "")[:80]
        raise HistoryImportError(
            f"{where}: line 1: not a recognised listening history: expected JSON (ListenBrainz, Last.fm API) "
            f"or a Last.fm CSV (artist, album, track, date like '31 Jan 2021 12:34'); got {first!r}"
        )
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim)
    columns: tuple[int, int | None, int, int] | None = None
    first_row = True
    for row in _rows(reader, where):
        lineno, row = row
        if not any(c.strip() for c in row):
            continue
        if first_row:
            first_row = False
            columns = _header(row)
            if columns is not None:
                continue
            if (len(row) != 4 or _timestamp(row[3]) is None) and not (len(row) == 4 and not row[3].strip()):
                # Neither a header nor a lastfm-to-csv row: say what was expected (this message is the
                # one raised when the whole file turns out bad).
                stats.bad(
                    f"{where}: line {lineno}: expected a header naming artist, track and date (uts/utc_time) "
                    f"columns, or a headerless Last.fm row: artist, album, track, date like '31 Jan 2021 "
                    f"12:34'; got {delim.join(row)[:100]!r}"
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
        ts = _timestamp(when)
        if ts is None:
            stats.bad(f"{where}: line {lineno}: cannot read the date {when!r}")
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


# Dates -----------------------------------------------------------------------------------------

_MONTHS = {
    m: i for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1)
}
_LASTFM_DATE = re.compile(
    r"^(\d{1,2})\s+([A-Za-z]{3})[A-Za-z]*\.?\s+(\d{4}),?\s+(\d{1,2}):(\d{2})(?::(\d{2}))?(?:\s*(am|pm))?$", re.I
)
_MIN_TS = 946_684_800  # 2000-01-01: older "dates" are placeholders (lastfm-to-csv writes 01 Jan 1970)


def _timestamp(value) -> float | None:
    """Unix seconds from unix seconds/milliseconds (number or digits), ISO-8601, or "31 Jan 2021 12:34" (UTC)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        ts = float(value)
    elif isinstance(value, str):
        s = value.strip()
        if not s:
            return None
        if re.fullmatch(r"\d+(?:\.\d+)?", s):
            ts = float(s)
        else:
            ts = _parse_date(s)
            if ts is None:
                return None
    else:
        return None
    if ts > 1e11:  # milliseconds
        ts /= 1000.0
    if not (_MIN_TS <= ts < 4_102_444_800):  # 2000 … 2100
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
    return dt.timestamp()


# -- matching -----------------------------------------------------------------------------------

_FEAT_BRACKET = re.compile(r"\s*[\(\[（【]\s*(?:feat\.?|ft\.?|featuring|with)\s[^\)\]）】]*[\)\]）】]", re.I)
_FEAT_TAIL = re.compile(r"\s+(?:feat\.?|ft\.?|featuring)\s.*$", re.I)
_ARTIST_SPLIT = re.compile(
    r"\s*(?:;|/|,|＆|、|\s&\s|\sx\s|\sand\s|\s(?:feat\.?|ft\.?|featuring|vs\.?|with)\s)\s*", re.I
)


def _strip_feat(text: str) -> str:
    return _FEAT_TAIL.sub("", _FEAT_BRACKET.sub("", text)).strip() or text


def _title_keys(title: str) -> list[str]:
    """Normalised forms of a title, most exact first: as is, without "feat. X", without version words."""
    keys = [normalise(title)]
    plain = _strip_feat(title)
    keys.append(normalise(plain))
    keys.append(version_key("", plain)[1:])
    keys.append(version_key("", title)[1:])
    return list(dict.fromkeys(k for k in keys if k))


def _artist_set(names: Iterable[str]) -> str:
    parts = {normalise(p) for n in names for p in _ARTIST_SPLIT.split(n)}
    return "|".join(sorted(p for p in parts if p))


def _artist_keys(artists: Iterable[str]) -> list[str]:
    """Each credited artist, the joined display artist, each without "feat. X", and the set of all of them."""
    artists = [a for a in artists if a and a.strip()]
    if not artists:
        return []
    keys = [normalise("; ".join(artists))]
    for a in artists:
        keys.append(normalise(a))
        keys.append(normalise(_strip_feat(a)))
    keys.append("\x1e" + _artist_set(artists))  # "A & B" == "B; A"
    return list(dict.fromkeys(k for k in keys if k and k != "\x1e"))


class LibraryIndex:
    """Normalised (artist, title) → track, built once from the library."""

    def __init__(self, tracks: Iterable[Track]) -> None:
        self.exact: dict[tuple[str, str], int] = {}
        self.loose: dict[tuple[str, str], int] = {}
        self.duration: dict[int, float] = {}
        self._memo: dict[tuple[str, str], int | None] = {}
        for t in tracks:
            self.duration[t.id] = float(t.tags.duration_s or 0.0)
            artists = list(t.tags.artists) or ([t.tags.album_artist] if t.tags.album_artist else [])
            akeys = _artist_keys(artists)
            tkeys = _title_keys(t.tags.title)
            for a in akeys:
                self.exact.setdefault((a, tkeys[0]), t.id)
                for k in tkeys:
                    self.loose.setdefault((a, k), t.id)

    def match(self, artist: str, title: str) -> int | None:
        key = (artist, title)
        if key in self._memo:
            return self._memo[key]
        akeys, tkeys = _artist_keys([artist]), _title_keys(title)
        found = None
        for a in akeys:
            found = self.exact.get((a, tkeys[0])) if tkeys else None
            if found is not None:
                break
        if found is None:
            found = next((self.loose[(a, k)] for a in akeys for k in tkeys if (a, k) in self.loose), None)
        self._memo[key] = found
        return found


# -- import -------------------------------------------------------------------------------------


def import_history(path: str | Path, db: Database, *, dry_run: bool = False) -> ImportReport:
    """Match every listen of the export at ``path`` against the library and store the matches.

    All new events are written in one transaction: a failure leaves the database as it was.
    """
    path = Path(path)
    stats = ParseStats()
    index = LibraryIndex(TrackRepository(db).iter_all())
    events = EventRepository(db)
    seen = {(int(r[0]), round(float(r[3]), 3)) for r in events.history() if r[1] == EventKind.COMPLETE.value}
    report = ImportReport(path=str(path), source="", dry_run=dry_run)
    sources: Counter[str] = Counter()
    unmatched: Counter[tuple[str, str]] = Counter()
    shown: dict[tuple[str, str], tuple[str, str]] = {}
    new: list[Event] = []
    for listen in parse_history(path, stats):
        report.total += 1
        sources[listen.source] += 1
        track_id = index.match(listen.artist, listen.title)
        if track_id is None:
            report.unmatched += 1
            key = (normalise(listen.artist), normalise(listen.title))
            unmatched[key] += 1
            shown.setdefault(key, (listen.artist, listen.title))
            continue
        report.matched += 1
        mark = (track_id, round(listen.ts, 3))
        if mark in seen:
            report.duplicates += 1
            continue
        seen.add(mark)
        duration = index.duration.get(track_id) or None
        new.append(
            Event(
                track_id,
                EventKind.COMPLETE,
                round(duration, 3) if duration else None,
                listen.ts,
                {"source": listen.source, "imported": True},
            )
        )
    if new and not dry_run:
        with db.transaction():
            for event in new:
                events.record(event)  # nests as a savepoint inside the one transaction
        report.imported = len(new)
    report.source = "+".join(s for s, _ in sources.most_common()) or "unknown"
    report.skipped_malformed = stats.malformed
    report.skipped_now_playing = stats.now_playing
    report.malformed_examples = list(stats.examples)
    report.top_unmatched = [(*shown[k], n) for k, n in unmatched.most_common(TOP_UNMATCHED)]
    return report
