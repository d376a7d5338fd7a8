"""``player-plugin library`` (counts, ``--tracks``, ``--unreadable``) and the text of ``import-history``."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from pathlib import Path

from player_plugin.cli_errors import EXIT_USAGE, PROG, SCAN_FIRST, UserError, printable

UNMATCHED_SHOWN = 10  # unmatched (artist, title) pairs the import summary lists


def library(args: argparse.Namespace, engine, db_path: Path) -> int:
    """The ``library`` command on an open engine (closed here)."""
    try:
        if args.unreadable and (args.tracks or args.search is not None):
            raise UserError("--unreadable lists files, --tracks/--search tracks: give one of them", EXIT_USAGE)
        if args.tracks or args.search is not None:
            _tracks(args, engine)
        elif args.unreadable:
            _unreadable(args, engine)
        else:
            _counts(args, engine, db_path)
    finally:
        engine.close()
    return 0


def _counts(args: argparse.Namespace, engine, db_path: Path) -> None:
    counts = engine.library_counts()
    roots = engine.roots()
    unreadable = len(engine.unreadable_files())
    data = {
        "tracks": counts.tracks,
        "artists": counts.artists,
        "albums": counts.albums,
        "with_lyrics": counts.with_lyrics,
        "total_duration_s": round(counts.total_duration_s, 1),
        "unreadable": unreadable,
        "folders": roots,
        "database": str(db_path),
    }
    if args.json:
        print(json.dumps(data, ensure_ascii=False))
        return
    print(
        f"{counts.tracks} tracks, {counts.artists} artists, {counts.albums} albums, "
        f"{counts.with_lyrics} with lyrics, {duration(counts.total_duration_s, hours=True)} of music"
    )
    for r in roots:
        print(f"  folder: {printable(r)}")
    if unreadable:
        print(f"  {plural(unreadable, 'file')} could not be read: see `{PROG} library --unreadable`")
    if not counts.tracks:
        print(f"  {SCAN_FIRST}")


def _tracks(args: argparse.Namespace, engine) -> None:
    rows, matched = engine.track_rows(args.search, args.limit)
    total = engine.library_counts().tracks
    if args.json:
        data = {"model": engine.model_id, "matched": matched, "total": total, "tracks": [r.as_dict() for r in rows]}
        print(json.dumps(data, ensure_ascii=False))
    else:
        print_tracks(rows, matched, total, args.search)


def _unreadable(args: argparse.Namespace, engine) -> None:
    files = engine.unreadable_files()
    if args.json:
        rows = [{"path": f.path, "reason": f.reason, "folder": f.root, "seen_at": f.seen_at} for f in files]
        print(json.dumps({"unreadable": rows}, ensure_ascii=False))
    elif not files and not engine.roots() and engine.library_counts().tracks == 0:
        print(SCAN_FIRST)
    else:
        print_unreadable(files)


def plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def duration(seconds: float, hours: bool = False) -> str:
    """``m:ss``, or ``h:mm:ss`` from an hour on (always with ``hours``)."""
    h, rest = divmod(int(round(seconds)), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{h}:{minutes:02d}:{secs:02d}" if h or hours else f"{minutes}:{secs:02d}"


def print_tracks(rows, matched: int, total: int, search: str | None) -> None:
    """One line per track: id, length, lyrics/vector flags, artist — title (album), path (each made
    ``printable``: a tag or file name cannot drive the terminal or break the line)."""
    if total == 0:
        print(SCAN_FIRST)
        return
    if not rows:
        print(f"no track matches {search!r} (of {total})")
        return
    width = max(len("id"), *(len(str(r.id)) for r in rows))
    print(f"{'id':>{width}}  length  lyrics vector  artist — title (album)  path")
    for r in rows:
        album = f" ({r.album})" if r.album else ""
        flags = f"{'yes' if r.has_lyrics else '-':<6} {'yes' if r.has_vector else '-':<6}"
        name = f"{r.artist} — {r.title}" if r.artist else r.title
        print(printable(f"{r.id:>{width}}  {duration(r.duration_s):>6}  {flags}  {name}{album}  {r.path}"))
    what = f"matching {search!r}" if search else "in the library"
    shown = f"{len(rows)} of {plural(matched, 'track')}" if len(rows) < matched else plural(matched, "track")
    print(f"{shown} {what}" + (f" (of {total})" if search else ""))


def print_unreadable(files) -> None:
    if not files:
        print("the last scan read every file")
        return
    for f in files:
        print(printable(f"{f.path}: {f.reason}"))
    print(f"{plural(len(files), 'file')} could not be read in the last scan; fix and run `{PROG} scan` again")


def listen_range(path) -> tuple[str | None, str | None]:
    """(first, last) listen of a history export as ISO dates (UTC), or (None, None)."""
    from player_plugin.recommend.history_import import parse_history

    first = last = None
    for listen in parse_history(path):
        first = listen.ts if first is None or listen.ts < first else first
        last = listen.ts if last is None or listen.ts > last else last
    return _day(first), _day(last)


def _day(ts: float | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC).date().isoformat()


def print_import(data: dict, library_tracks: int) -> None:
    """A readable summary of an ``ImportReport.as_dict()`` plus ``first_listen``/``last_listen``."""
    span = f" from {data['first_listen']} to {data['last_listen']}" if data.get("first_listen") else ""
    print(printable(f"{data['path']}: {data['total']} listens ({data['source']}){span}"))
    new = data["matched"] - data["duplicates"]
    stored = f"would import {new}" if data["dry_run"] else f"imported {data['imported']}"
    print(
        f"  in your library: {data['matched']} ({stored}, {data['duplicates']} already there); "
        f"not in your library: {data['unmatched']}"
    )
    if data.get("skips"):
        print(f"  of those in your library: {data['matched'] - data['skips']} played, {data['skips']} skipped")
    skipped = data["skipped_malformed"] + data["skipped_now_playing"] + data.get("skipped_not_music", 0)
    if skipped:
        not_music = f", {data['skipped_not_music']} podcast/audiobook" if data.get("skipped_not_music") else ""
        print(
            f"  skipped: {data['skipped_malformed']} malformed, {data['skipped_now_playing']} 'now playing'"
            f"{not_music} entries"
        )
        for example in data.get("malformed_examples", []):
            print(f"    {printable(example)}")
    unmatched = data.get("top_unmatched", [])[:UNMATCHED_SHOWN]
    if unmatched:
        print("  most played of those not in your library:")
        for artist, title, count in unmatched:
            print(f"    {count:>5}×  {printable(artist)} — {printable(title)}")
    if data["dry_run"]:
        print("  dry run: nothing was stored")
    if library_tracks == 0:
        print(f"  {SCAN_FIRST}, then import again")
