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

Text is UTF-8 with or without BOM (UTF-16 and the Chinese code pages work too, told from the first
64 KiB by ``decode_text``). A file that is not one of these raises :class:`HistoryImportError`
naming the file, the line or entry and what was expected; a few malformed rows in an otherwise good
file are skipped and counted. Parsing lives in ``player_plugin.importers`` and is bounded (see
there): streamed, so memory does not grow with the file; sizes, zip members, nesting and numbers
capped; only regular files opened.

Matched listens become ``complete`` events at their original time, context
``{"source": "lastfm"|"listenbrainz", "imported": true}``. A listen whose track already has a
``complete`` event at the same second is a duplicate, so importing a file twice adds nothing.

The file is read twice: first to check it (a file that turns out bad is refused before anything is
written), then to store it in batches of :data:`IMPORT_BATCH_SIZE` listens, one short transaction
each, so another process (a ``feedback``, the app) waits at most one batch for the write lock.
An error during the second pass leaves the batches before it, which a re-import skips as duplicates.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from player_plugin.importers import (
    LASTFM,
    LISTENBRAINZ,
    SPOTIFY,
    SPOTIFY_EXTENDED,
    HistoryImportError,
    Listen,
    ParseStats,
    parse_history,
)
from player_plugin.models import EventKind, Track
from player_plugin.recommend.queue import version_key
from player_plugin.store.db import Database
from player_plugin.store.imported import ImportedListens, ImportRow
from player_plugin.store.tracks import TrackRepository
from player_plugin.text_norm import normalise

__all__ = [
    "LASTFM",
    "LISTENBRAINZ",
    "SPOTIFY",
    "SPOTIFY_EXTENDED",
    "HistoryImportError",
    "ImportReport",
    "LibraryIndex",
    "Listen",
    "ParseStats",
    "import_history",
    "parse_history",
]

TOP_UNMATCHED = 10
IMPORT_BATCH_SIZE = 5_000  # listens per write transaction (about 50 ms of the write lock)
MAX_UNMATCHED_KEPT = 50_000  # distinct unmatched songs counted exactly; beyond, the rarest are dropped
MAX_MATCH_MEMO = 100_000  # (artist, title) pairs whose match is remembered


@dataclass
class ImportReport:
    """Counts of one import. ``total = matched + unmatched``; ``duplicates`` are matched listens
    already in the database (or repeated in the file); ``imported`` events were written (0 on a
    dry run, where ``matched - duplicates`` is what a real run would write). ``first_ts`` and
    ``last_ts`` are the earliest and latest listen (unix seconds) or None."""

    path: str
    source: str
    total: int = 0
    matched: int = 0
    unmatched: int = 0
    duplicates: int = 0
    imported: int = 0
    skipped_malformed: int = 0
    skipped_now_playing: int = 0
    skipped_not_music: int = 0  # Spotify podcast episodes and audiobooks
    skips: int = 0  # matched listens that are skips (FORMAT.md's rule); the others are completions
    dry_run: bool = False
    top_unmatched: list[tuple[str, str, int]] = field(default_factory=list)  # (artist, title, count)
    malformed_examples: list[str] = field(default_factory=list)
    first_ts: float | None = None
    last_ts: float | None = None

    def as_dict(self) -> dict:
        data = asdict(self)
        data["top_unmatched"] = [list(t) for t in self.top_unmatched]
        return data


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
        if len(self._memo) >= MAX_MATCH_MEMO:
            self._memo.clear()
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


class _Unmatched:
    """Counts of unmatched songs in bounded memory: past MAX_UNMATCHED_KEPT distinct songs, the
    half seen least often is dropped (the top ten of a real history are never near that cut)."""

    def __init__(self) -> None:
        self.counts: Counter[tuple[str, str]] = Counter()
        self.shown: dict[tuple[str, str], tuple[str, str]] = {}

    def add(self, listen: Listen) -> None:
        key = (normalise(listen.artist), normalise(listen.title))
        self.counts[key] += 1
        self.shown.setdefault(key, (listen.artist, listen.title))
        if len(self.counts) > MAX_UNMATCHED_KEPT:
            kept = self.counts.most_common(MAX_UNMATCHED_KEPT // 2)
            self.counts = Counter(dict(kept))
            self.shown = {k: self.shown[k] for k, _ in kept}

    def top(self, n: int) -> list[tuple[str, str, int]]:
        return [(*self.shown[k], c) for k, c in self.counts.most_common(n)]


def _check(path: Path, report: ImportReport) -> ParseStats:
    """The first pass: parse the whole file (raising if it is bad), note its counts and dates."""
    stats = ParseStats()
    for listen in parse_history(path, stats):
        report.total += 1
        report.first_ts = listen.ts if report.first_ts is None else min(report.first_ts, listen.ts)
        report.last_ts = listen.ts if report.last_ts is None else max(report.last_ts, listen.ts)
    report.skipped_malformed = stats.malformed
    report.skipped_now_playing = stats.now_playing
    report.skipped_not_music = stats.not_music
    report.malformed_examples = list(stats.examples)
    return stats


def import_history(path: str | Path, db: Database, *, dry_run: bool = False) -> ImportReport:
    """Match every listen of the export at ``path`` against the library and store the matches.

    A file that is bad (unreadable, unknown, beyond the bounds, more bad rows than good) is refused
    before anything is written. The matches are stored IMPORT_BATCH_SIZE at a time, one transaction
    per batch.
    """
    path = Path(path)
    report = ImportReport(path=str(path), source="", dry_run=dry_run)
    _check(path, report)
    index = LibraryIndex(TrackRepository(db).iter_all())
    writer = ImportedListens(db)
    sources: Counter[str] = Counter()
    unmatched = _Unmatched()
    contexts = {
        s: json.dumps({"source": s, "imported": True}) for s in (LASTFM, LISTENBRAINZ, SPOTIFY, SPOTIFY_EXTENDED)
    }
    batch: list[ImportRow] = []

    def flush() -> None:
        stored = writer.count_new(batch) if dry_run else writer.add_new(batch)
        report.duplicates += len(batch) - stored
        if not dry_run:
            report.imported += stored
        batch.clear()

    try:
        for listen in parse_history(path):
            sources[listen.source] += 1
            track_id = index.match(listen.artist, listen.title)
            if track_id is None:
                report.unmatched += 1
                unmatched.add(listen)
                continue
            report.matched += 1
            report.skips += listen.skip
            duration = index.duration.get(track_id) or None
            # A skip is where it stopped; a completion its track's length (or how long it played).
            position = listen.played_s if listen.skip or not duration else duration
            context = contexts.get(listen.source) or json.dumps({"source": listen.source, "imported": True})
            kind = EventKind.SKIP.value if listen.skip else EventKind.COMPLETE.value
            batch.append((track_id, kind, None if position is None else round(position, 3), listen.ts, context))
            if len(batch) >= IMPORT_BATCH_SIZE:
                flush()
        if batch:
            flush()
    finally:
        if dry_run:
            writer.end_dry_run()
    report.source = "+".join(s for s, _ in sources.most_common()) or "unknown"
    report.top_unmatched = unmatched.top(TOP_UNMATCHED)
    return report
