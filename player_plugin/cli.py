"""``player-plugin``: the command-line host of the engine.

With no subcommand it starts the desktop app; the subcommands work without Qt.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
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

    p = sub.add_parser("embed", help="give every new or changed track a vector (resumable)")
    p.add_argument("--model", metavar="ID", help="model id (default: the library's, else multilingual-e5-small)")
    p.add_argument("--json", action="store_true", help="print one JSON object with the counts")
    p.add_argument("--cpu", action="store_true", help="do not use a GPU even when one is available")
    _add_db(p, argparse.SUPPRESS)

    p = sub.add_parser("similar", help="rank library tracks for a free-text query")
    p.add_argument("text", metavar="TEXT", help='e.g. "rainy night, mellow" or "伤心的情歌"')
    p.add_argument("--count", "-n", type=int, default=10, metavar="N")
    p.add_argument("--model", metavar="ID", help="model id (default: the library's)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    _add_db(p, argparse.SUPPRESS)

    p = sub.add_parser("up-next", help="show Up Next, filled with recommendations and their reasons")
    p.add_argument("--count", "-n", type=int, default=10, metavar="N", help="queue length to fill to (default 10)")
    p.add_argument("--prompt", metavar="TEXT", help='steer with free text ("rainy night, no vocals"); "" clears it')
    p.add_argument("--seed", metavar="TRACK_OR_ARTIST", help="start a fresh mix from a track (id or title) or artist")
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

    p = sub.add_parser("import-history", help="warm the recommender with a Last.fm or ListenBrainz export")
    p.add_argument("file", type=Path, metavar="FILE", help="ListenBrainz .json/.jsonl/.zip or Last.fm .csv/.json")
    p.add_argument("--dry-run", action="store_true", help="match and report, store nothing")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    _add_db(p, argparse.SUPPRESS)

    p = sub.add_parser("evaluate", help="score recommenders on a playlist dataset (continuation task)")
    p.add_argument("--dataset", required=True, type=Path, metavar="DIR", help="folder with tracks.tsv, playlists.jsonl")
    p.add_argument("--split", default="test", choices=["validation", "test"])
    p.add_argument("--recommenders", metavar="LIST", help="comma-separated (default: all)")
    p.add_argument("--model", metavar="ID", help="encoder for the track vectors (default multilingual-e5-small)")
    p.add_argument(
        "--compare",
        metavar="A:B[,C:D]",
        help="NDCG@10 difference A − B per view, with a 95%% interval from a bootstrap over playlists",
    )
    p.add_argument("--json", action="store_true", help="one JSON object instead of the table")
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


@dataclass
class _Phase:
    phase: str
    done: int
    total: int | None
    current: str = ""
    seen: int = 0


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
        elif p.phase == "embed":
            text = f"embedding: {p.done}/{p.total}  {p.current[-60:]}"
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


@contextlib.contextmanager
def _long_work(engine, interrupted: str) -> Iterator[_ProgressLine]:
    """A progress line for long work; Ctrl-C prints ``interrupted`` and exits 130 (finished work is
    already committed); the line is cleared and the engine closed however it ends."""
    line = _ProgressLine()
    try:
        yield line
    except KeyboardInterrupt:
        line.close()
        print(interrupted, file=sys.stderr)
        raise SystemExit(130) from None
    finally:
        line.close()
        engine.close()


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
    with _long_work(engine, "scan interrupted; finished batches are saved, run the scan again to finish") as line:
        report = engine.scan(roots, progress=line, cancel=cancel, remember=not args.no_remember)
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


def _model_engine(args: argparse.Namespace):
    from player_plugin.engine import Engine
    from player_plugin.nlp.encoder import Encoder
    from player_plugin.store import Database, StoreError

    prefer_gpu = not getattr(args, "cpu", False)
    try:
        db = Database(_db_path(args))
        _ = db.conn
    except StoreError as exc:
        print(f"player-plugin: {exc}", file=sys.stderr)
        raise SystemExit(1) from exc
    return Engine(db, encoder_factory=lambda mid: Encoder.load(mid, prefer_gpu=prefer_gpu), model_id=args.model)


def cmd_embed(args: argparse.Namespace) -> int:
    from player_plugin.nlp.manifest import ModelError

    engine = _model_engine(args)
    try:
        with _long_work(engine, "embedding interrupted; finished tracks are saved, run it again to go on") as line:
            _ = engine.encoder  # load (and verify) the model before making it the library's
            if args.model:
                engine.settings.set("model_id", args.model)
            report = engine.embed(progress=lambda p: line(_Phase("embed", p.done, p.total, p.current)))
    except ModelError as exc:
        print(f"player-plugin: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(report.as_dict(), ensure_ascii=False))
    else:
        print(
            f"embedded {report.embedded} tracks ({report.texts} texts), {report.unchanged} up to date; "
            f"model {report.model_id} on {report.provider}"
        )
    return 0


def cmd_similar(args: argparse.Namespace) -> int:
    from player_plugin.nlp.manifest import ModelError

    engine = _model_engine(args)
    try:
        results = engine.similar(args.text, args.count)
        model_id = engine.model_id
    except ModelError as exc:
        print(f"player-plugin: {exc}", file=sys.stderr)
        return 1
    finally:
        engine.close()
    if args.json:
        data = {
            "query": args.text,
            "model": model_id,
            "results": [
                {"track_id": t.id, "title": t.tags.title, "artist": t.tags.artist, "score": round(s, 4)}
                for t, s in results
            ],
        }
        print(json.dumps(data, ensure_ascii=False))
        return 0
    if not results:
        print("no track vectors yet: run `player-plugin embed` first", file=sys.stderr)
        return 1
    for track, score in results:
        print(f"{score:6.3f}  {track.tags.artist} — {track.tags.title}")
    return 0


def _entries_json(engine, entries) -> list[dict]:
    out = []
    for e in entries:
        t = engine.tracks.get(e.track_id)
        out.append(
            {
                "track_id": e.track_id,
                "title": t.tags.title if t else None,
                "artist": t.tags.artist if t else None,
                "reason": e.reason,
                "manual": e.manual,
                "score": None if e.score is None else round(e.score, 4),
            }
        )
    return out


def cmd_up_next(args: argparse.Namespace) -> int:
    from player_plugin.nlp.manifest import ModelError
    from player_plugin.recommend.service import NoVectorsError

    engine = _model_engine(args)
    try:
        if args.prompt is not None:
            engine.set_prompt(args.prompt)
        if args.seed:
            entries = engine.start_mix(args.seed, args.count)
        elif args.refill or args.prompt is not None:
            entries = engine.refill(args.count)
        else:
            entries = engine.up_next(args.count)
        data = _entries_json(engine, entries[: args.count])  # a longer queue (e.g. filled by the app) shows its head
        prompt = engine.prompt
    except (ModelError, NoVectorsError, LookupError) as exc:
        print(f"player-plugin: {exc}", file=sys.stderr)
        return 1
    finally:
        engine.close()
    if args.json:
        print(json.dumps({"prompt": prompt, "queue": data}, ensure_ascii=False))
        return 0
    if prompt:
        print(f"prompt: {prompt}")
    for i, d in enumerate(data, 1):
        print(f"{i:2d}. {d['artist']} — {d['title']}  [{d['track_id']}]")
        print(f"      {d['reason']}")
    return 0


def cmd_feedback(args: argparse.Namespace) -> int:
    from player_plugin.engine import Engine

    engine = _open_engine(args)
    assert isinstance(engine, Engine)
    try:
        matches = engine.tracks.find(args.track)
        if not matches:
            print(f"player-plugin: no track matches {args.track!r}", file=sys.stderr)
            return 1
        if len(matches) > 1:
            print(f"player-plugin: {args.track!r} matches several tracks; use an id:", file=sys.stderr)
            for t in matches:
                print(f"  {t.id}: {t.tags.artist} — {t.tags.title}", file=sys.stderr)
            return 2
        track = matches[0]
        engine.record(track.id, args.kind, args.position)
        if args.comment:
            engine.comment(track.id, args.comment)
    finally:
        engine.close()
    print(f"recorded {args.kind} for {track.tags.artist} — {track.tags.title}")
    return 0


def cmd_import_history(args: argparse.Namespace) -> int:
    from player_plugin.recommend.history_import import HistoryImportError, import_history

    engine = _open_engine(args)
    try:
        report = import_history(args.file, engine.db, dry_run=args.dry_run)
    except (HistoryImportError, OSError) as exc:
        print(f"player-plugin: {exc}", file=sys.stderr)
        return 1
    finally:
        engine.close()
    data = report.as_dict() if hasattr(report, "as_dict") else vars(report)
    if args.json:
        print(json.dumps(data, ensure_ascii=False, default=str))
    else:
        print(", ".join(f"{k} {v}" for k, v in data.items() if not isinstance(v, list | dict)))
        for item in data.get("top_unmatched", [])[:10]:
            print(f"  not in your library: {item}")
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from player_plugin.nlp.encoder import DEFAULT_MODEL_ID, Encoder
    from player_plugin.nlp.manifest import ModelError
    from player_plugin.recommend.dataset import DatasetError, load_dataset
    from player_plugin.recommend.evaluate import (
        RECOMMENDERS,
        build_recommenders,
        evaluate,
        format_comparisons,
        format_table,
    )
    from player_plugin.recommend.vector_cache import dataset_vectors

    names = [n.strip() for n in (args.recommenders or ",".join(RECOMMENDERS)).split(",") if n.strip()]
    compare = []
    for pair in (args.compare or "").split(","):
        if pair.strip():
            a, sep, b = pair.strip().partition(":")
            if not sep or a not in names or b not in names:
                print(f"player-plugin: --compare wants A:B, both evaluated; got {pair!r}", file=sys.stderr)
                return 2
            compare.append((a, b))
    try:
        dataset = load_dataset(args.dataset)
    except (DatasetError, OSError) as exc:
        print(f"player-plugin: {exc}", file=sys.stderr)
        return 1
    model_id = args.model or DEFAULT_MODEL_ID
    vectors = None
    if any(n == "content" or n.startswith(("upnext", "seq2seq")) for n in names):
        try:
            encoder = Encoder.load(model_id)
        except ModelError as exc:
            print(f"player-plugin: {exc}", file=sys.stderr)
            return 1

        def progress(done: int, total: int) -> None:
            print(f"embedding {dataset.name}: {done}/{total}", file=sys.stderr)

        vectors = dataset_vectors(dataset, encoder, progress=progress)
    try:
        recs = build_recommenders(names, vectors=vectors)
    except ValueError as exc:
        print(f"player-plugin: {exc}", file=sys.stderr)
        return 2
    result = evaluate(dataset, recs, args.split, model=model_id if vectors is not None else None, compare=compare)
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        print(format_table(result))
        if compare:
            print(format_comparisons(result))
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
    handlers = {
        "scan": cmd_scan,
        "library": cmd_library,
        "doctor": cmd_doctor,
        "embed": cmd_embed,
        "similar": cmd_similar,
        "up-next": cmd_up_next,
        "feedback": cmd_feedback,
        "import-history": cmd_import_history,
        "evaluate": cmd_evaluate,
        "app": cmd_app,
        None: cmd_app,
    }
    try:
        return handlers[args.command](args)
    except BrokenPipeError:
        os._exit(0)  # output piped into `head`: not an error


if __name__ == "__main__":
    raise SystemExit(main())
