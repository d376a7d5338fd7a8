"""``player-plugin``: the command-line host of the engine.

With no subcommand it starts the desktop app; the subcommands work without Qt.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

from player_plugin import __version__, paths


def _add_db(parser: argparse.ArgumentParser, default: object = None) -> None:
    parser.add_argument(
        "--db",
        metavar="PATH",
        type=Path,
        default=default,
        help=f"library database (default: {paths.default_db_path()}; env PLAYER_PLUGIN_DB)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="player-plugin",
        description="On-device Up Next for your own music. With no command, starts the desktop app.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    _add_db(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("scan", help="scan music folders into the library")
    p.add_argument("paths", nargs="*", metavar="PATH", help="folders to scan (default: the library's folders)")
    p.add_argument("--json", action="store_true", help="print one JSON object with counts and failures")
    p.add_argument("--demo", action="store_true", help="scan the built-in demo library")
    p.add_argument("--no-remember", action="store_true", help="do not add the folders to the library")
    _add_db(p, argparse.SUPPRESS)

    p = sub.add_parser("library", help="show what the library holds")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    _add_db(p, argparse.SUPPRESS)

    p = sub.add_parser("doctor", help="versions, database, models and execution providers")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    _add_db(p, argparse.SUPPRESS)

    p = sub.add_parser("app", help="start the desktop app (the default)")
    _add_db(p, argparse.SUPPRESS)
    return parser


def _db_path(args: argparse.Namespace) -> Path:
    return (args.db or paths.default_db_path()).expanduser()


def _open_engine(args: argparse.Namespace):
    from player_plugin.engine import Engine
    from player_plugin.store import StoreError

    try:
        return Engine.open(_db_path(args))
    except StoreError as exc:
        print(f"player-plugin: {exc}", file=sys.stderr)
        raise SystemExit(1) from exc


class _ProgressLine:
    """One self-rewriting status line on stderr, only when stderr is a terminal."""

    def __init__(self) -> None:
        self.enabled = sys.stderr.isatty()
        self.width = 0

    def __call__(self, p) -> None:
        if not self.enabled:
            return
        if p.total is None:
            text = f"looking for music… {p.seen} files"
        else:
            text = f"{p.phase}: {p.done}/{p.total}  {p.current[-60:]}"
        pad = max(0, self.width - len(text))
        self.width = len(text)
        sys.stderr.write("\r" + text + " " * pad)
        sys.stderr.flush()

    def close(self) -> None:
        if self.enabled and self.width:
            sys.stderr.write("\r" + " " * self.width + "\r")
            sys.stderr.flush()


def cmd_scan(args: argparse.Namespace) -> int:
    roots = list(args.paths)
    if args.demo:
        roots.append(str(paths.demo_library_dir()))
    engine = _open_engine(args)
    if not roots:
        roots = engine.roots()
        if not roots:
            print(
                "player-plugin: no folders given and none in the library yet; "
                "try: player-plugin scan ~/Music   (or --demo)",
                file=sys.stderr,
            )
            return 2
    cancel = threading.Event()
    line = _ProgressLine()
    try:
        report = engine.scan(roots, progress=line, cancel=cancel, remember=not args.no_remember)
    except KeyboardInterrupt:
        line.close()
        print("scan interrupted; finished batches are saved, run the scan again to finish", file=sys.stderr)
        return 130
    finally:
        line.close()
        engine.close()
    if args.json:
        print(json.dumps(report.as_dict(), ensure_ascii=False))
    else:
        print(
            f"added {report.added}, updated {report.updated + report.moved} "
            f"(moved {report.moved}), unchanged {report.unchanged}, removed {report.removed}, "
            f"failed {report.failed}  [{report.seconds:.2f} s]"
        )
        for f in report.failures:
            print(f"  failed: {f.path}: {f.reason}")
        for w in report.warnings:
            print(f"  warning: {w.path}: {w.reason}")
    all_roots_failed = (
        report.failures
        and all(f.reason in ("folder not found", "not a folder") for f in report.failures)
        and report.added + report.updated + report.unchanged + report.moved == 0
    )
    return 1 if all_roots_failed else 0


def cmd_library(args: argparse.Namespace) -> int:
    engine = _open_engine(args)
    try:
        counts = engine.library_counts()
        roots = engine.roots()
    finally:
        engine.close()
    data = {
        "tracks": counts.tracks,
        "artists": counts.artists,
        "albums": counts.albums,
        "with_lyrics": counts.with_lyrics,
        "total_duration_s": round(counts.total_duration_s, 1),
        "folders": roots,
        "database": str(_db_path(args)),
    }
    if args.json:
        print(json.dumps(data, ensure_ascii=False))
    else:
        hours, rem = divmod(int(counts.total_duration_s), 3600)
        print(
            f"{counts.tracks} tracks, {counts.artists} artists, {counts.albums} albums, "
            f"{counts.with_lyrics} with lyrics, {hours}:{rem // 60:02d}:{rem % 60:02d} of music"
        )
        for r in roots:
            print(f"  folder: {r}")
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    from player_plugin.doctor import report

    data = report(_db_path(args))
    if args.json:
        print(json.dumps(data, ensure_ascii=False, indent=None))
        return 0
    print("versions:")
    for k, v in data["versions"].items():
        print(f"  {k}: {v}")
    db = data["database"]
    print(f"database: {db['path']}")
    if not db["exists"]:
        print("  not created yet (it is made on the first scan)")
    elif "error" in db:
        print(f"  error: {db['error']}")
    else:
        print(
            f"  schema version {db['schema_version']} (latest {db['latest_schema']}), "
            f"journal {db['journal_mode']}, mode {db['mode']}, {db['tracks']} tracks"
        )
    models = data["models"]
    print(f"models: {models['folder']}")
    if not models["models"]:
        print("  none found")
    for m in models["models"]:
        print(f"  {m['model_id']}")
        for f in m["files"]:
            print(f"    {f['name']}: {f['status']}  sha256 {f['sha256'] or '-'}")
    ort = data["onnxruntime"]
    if "error" in ort:
        print(f"onnxruntime: {ort['error']}")
    else:
        print(f"onnxruntime providers available: {', '.join(ort['available'])}")
        print(f"  will use: {ort['chosen']} ({ort['reason']})")
    print(f"demo library: {data['demo_library']}")
    return 0


def cmd_app(args: argparse.Namespace) -> int:
    """Start the desktop app; until it lands, show the demo library from the command line."""
    try:
        from player_plugin.ui.app import run_app  # type: ignore[import-not-found]
    except ImportError:
        run_app = None
    if run_app is not None:
        return int(run_app(_db_path(args)))
    engine = _open_engine(args)
    try:
        if not engine.roots():
            demo = paths.demo_library_dir()
            print(f"No library configured yet: scanning the demo library at {demo}")
            report = engine.scan([demo])
            print(f"  added {report.added}, failed {report.failed}")
        counts = engine.library_counts()
    finally:
        engine.close()
    print(
        f"Library: {counts.tracks} tracks, {counts.artists} artists, {counts.albums} albums, "
        f"{counts.with_lyrics} with lyrics."
    )
    print("The desktop window is not built yet; use `player-plugin --help` for the commands.")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handlers = {"scan": cmd_scan, "library": cmd_library, "doctor": cmd_doctor, "app": cmd_app, None: cmd_app}
    try:
        return handlers[args.command](args)
    except BrokenPipeError:
        os._exit(0)  # output piped into `head`: not an error


if __name__ == "__main__":
    raise SystemExit(main())
