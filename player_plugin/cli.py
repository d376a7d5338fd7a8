"""``player-plugin``: the command-line host of the engine.

With no subcommand it starts the desktop app; the subcommands work without Qt.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from pathlib import Path

from player_plugin import __version__, paths
from player_plugin.cli_commands import (
    _db_path,
    cmd_doctor,
    cmd_embed,
    cmd_feedback,
    cmd_import_history,
    cmd_import_ratings,
    cmd_library,
    cmd_scan,
    cmd_similar,
    cmd_up_next,
)
from player_plugin.cli_errors import (
    EXIT_INTERRUPTED,
    PROG,
    UserError,
    describe,
    print_error,
)
from player_plugin.cli_evaluate import cmd_evaluate
from player_plugin.cli_hosts import HANDLERS as HOST_HANDLERS
from player_plugin.cli_hosts import add_parser as add_host_parsers
from player_plugin.cli_models import add_parser as add_models_parser
from player_plugin.cli_models import cmd_models
from player_plugin.listening import ListeningConfig


def _add_db(parser: argparse.ArgumentParser, default: object = None) -> None:
    """``--db`` and ``--debug``: on the main parser, and again on each command (given after it)."""
    parser.add_argument(
        "--db",
        metavar="PATH",
        type=Path,
        default=default,
        help=f"library database (default: {paths.default_db_path()}; env PLAYER_PLUGIN_DB)",
    )
    parser.add_argument(
        "--debug",
        action="store_true",
        default=False if default is None else default,
        help="on failure, show the full traceback instead of a one-line message",
    )


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


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

    p = sub.add_parser("library", help="show what the library holds: counts, tracks, unreadable files")
    p.add_argument("--tracks", action="store_true", help="list the tracks: id, length, lyrics, vector, tags, path")
    p.add_argument("--search", metavar="TEXT", help="only tracks whose tags or path hold every word (implies --tracks)")
    p.add_argument("--limit", type=_positive, metavar="N", help="list at most N tracks")
    p.add_argument("--unreadable", action="store_true", help="list the files the last scan could not read, and why")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    _add_db(p, argparse.SUPPRESS)

    p = sub.add_parser("doctor", help="versions, database, models and execution providers")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    _add_db(p, argparse.SUPPRESS)

    p = sub.add_parser("embed", help="give every new or changed track a vector (resumable)")
    p.add_argument("--model", metavar="ID", help="model id (default: the library's, else multilingual-e5-small)")
    p.add_argument("--json", action="store_true", help="print one JSON object with the counts")
    p.add_argument("--cpu", action="store_true", help="do not use a GPU even when one is available")
    _add_db(p, argparse.SUPPRESS)

    p = sub.add_parser("similar", help="rank library tracks for a free-text query")
    p.add_argument("text", metavar="TEXT", help='e.g. "rainy night, mellow" or "伤心的情歌"')
    p.add_argument("--count", "-n", type=_positive, default=10, metavar="N")
    p.add_argument("--model", metavar="ID", help="model id (default: the library's)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    _add_db(p, argparse.SUPPRESS)

    p = sub.add_parser("up-next", help="show Up Next, filled with recommendations and their reasons")
    target = ListeningConfig().queue_target
    p.add_argument(
        "--count", "-n", type=_positive, default=target, metavar="N", help=f"queue length to fill (default {target})"
    )
    p.add_argument("--prompt", metavar="TEXT", help='steer with free text ("rainy night, no vocals"); "" clears it')
    p.add_argument(
        "--seed",
        metavar="TRACK_ARTIST_OR_PLAYLIST",
        help="start a fresh mix from a track (id or title) or artist, or continue an .m3u/.m3u8 playlist",
    )
    p.add_argument("--refill", action="store_true", help="drop the recommended entries and fill again")
    p.add_argument("--model", metavar="ID", help="model id (default: the library's)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    _add_db(p, argparse.SUPPRESS)

    p = sub.add_parser("feedback", help="tell the recommender what you thought of a track")
    p.add_argument("track", metavar="TRACK", help='track id, title or "artist - title"')
    p.add_argument("kind", choices=["like", "dislike", "skip", "complete", "play", "block"])
    p.add_argument("--position", type=float, metavar="S", help="seconds into the track (for skip)")
    p.add_argument("--comment", metavar="TEXT", help="a note on the track; counts as taste evidence")
    _add_db(p, argparse.SUPPRESS)

    p = sub.add_parser("import-history", help="warm the recommender with a Last.fm, ListenBrainz or Spotify export")
    p.add_argument(
        "file",
        type=Path,
        metavar="FILE",
        help="ListenBrainz .json/.jsonl/.zip, Last.fm .csv/.json, or a Spotify export (its zip, folder or .json)",
    )
    p.add_argument("--dry-run", action="store_true", help="match and report, store nothing")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    _add_db(p, argparse.SUPPRESS)

    p = sub.add_parser(
        "import-ratings", help="warm the recommender with the star ratings in your tags (4-5 stars: like, 1: dislike)"
    )
    p.add_argument("--dry-run", action="store_true", help="count, store nothing")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    _add_db(p, argparse.SUPPRESS)

    p = sub.add_parser(
        "evaluate", help="score recommenders: playlist continuation (--dataset) or listeners' own histories (--replay)"
    )
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--dataset", type=Path, metavar="DIR", help="folder with tracks.tsv, playlists.jsonl")
    which.add_argument(
        "--replay", type=Path, metavar="DIR", help="folder with tracks.tsv, listens.jsonl: the replay task"
    )
    p.add_argument("--users", metavar="A,B", help="with --replay: only these listeners")
    p.add_argument(
        "--task",
        default="continuation",
        choices=["continuation", "prompt"],
        help="with --dataset: continue playlists (default), or type each playlist's name as a prompt",
    )
    p.add_argument(
        "--split",
        default="test",
        choices=["validation", "test", "train+validation"],
        help="train+validation: only with --task prompt (its tuning set)",
    )
    p.add_argument("--recommenders", metavar="LIST", help="comma-separated (default: all)")
    p.add_argument("--model", metavar="ID", help="encoder for the track vectors (default multilingual-e5-small)")
    p.add_argument(
        "--compare",
        metavar="A:B[,C:D]",
        help="NDCG@10 difference A − B per view, with a 95%% interval (bootstrap over playlists, or over points "
        "within listeners with --replay)",
    )
    p.add_argument("--json", action="store_true", help="one JSON object instead of the table")
    _add_db(p, argparse.SUPPRESS)

    add_host_parsers(sub, _add_db)
    add_models_parser(sub, _add_db)

    p = sub.add_parser("app", help="start the desktop app (the default)")
    _add_db(p, argparse.SUPPRESS)
    return parser


def cmd_app(args: argparse.Namespace) -> int:
    """Start the desktop app (the default command)."""
    try:
        from player_plugin.ui.app import run_app
    except ImportError as exc:  # PySide6 missing or broken: the commands still work
        raise UserError(
            f"the desktop app cannot load Qt ({exc}); reinstall with `python3 -m pip install .`, "
            f"or use the commands: {PROG} --help"
        ) from exc
    return int(run_app(_db_path(args)))


def _check_database(args: argparse.Namespace) -> None:
    """Open (and if new, create) the app's database before any window: a bad file is one line here."""
    from player_plugin.store import Database

    db = Database(_db_path(args))
    try:
        _ = db.conn
    finally:
        db.close()


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command. The one error boundary: whatever a command raises becomes one line on
    stderr and a non-zero status (see ``cli_errors.describe``); ``--debug`` shows the traceback."""
    parser = build_parser()
    args = parser.parse_args(argv)
    handlers = {
        "scan": cmd_scan,
        "library": cmd_library,
        "doctor": cmd_doctor,
        "embed": cmd_embed,
        "similar": cmd_similar,
        "up-next": cmd_up_next,
        "feedback": cmd_feedback,
        "import-history": cmd_import_history,
        "import-ratings": cmd_import_ratings,
        "evaluate": cmd_evaluate,
        **HOST_HANDLERS,
        "models": cmd_models,
        "app": cmd_app,
        None: cmd_app,
    }
    try:
        if args.command in (None, "app"):
            _check_database(args)
        return handlers[args.command](args)
    except BrokenPipeError:
        os._exit(0)  # output piped into `head`: not an error
    except KeyboardInterrupt:
        if args.debug:
            raise
        print_error("interrupted")
        return EXIT_INTERRUPTED
    except Exception as exc:  # noqa: BLE001 - the boundary: every failure becomes one line
        if args.debug:
            raise
        message, code = describe(exc, _db_path(args) if "db" in args else None)
        print_error(message)
        return code


if __name__ == "__main__":
    raise SystemExit(main())
