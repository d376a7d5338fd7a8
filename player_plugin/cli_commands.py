"""The commands of ``player-plugin`` other than the app: each takes the parsed arguments, returns an
exit status, and raises for ``cli.main``'s error boundary to turn into one line."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from player_plugin import paths
from player_plugin.cli_errors import EXIT_USAGE, UserError, check_model, missing_step, print_error, printable
from player_plugin.cli_errors import SCAN_FIRST as _SCAN_FIRST


def _db_path(args: argparse.Namespace) -> Path:
    return (args.db or paths.default_db_path()).expanduser()


def _open_engine(args: argparse.Namespace):
    """The engine on ``--db``, its database opened now so that a bad file fails here (``main``
    turns the StoreError into one line)."""
    from player_plugin.engine import Engine

    engine = Engine.open(_db_path(args))
    _ = engine.db.conn
    return engine


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
            text = f"embedding: {p.done}/{p.total}  {printable(p.current)[-60:]}"
        else:
            text = f"{p.phase}: {p.done}/{p.total}  {printable(p.current)[-60:]}"
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
    if any(not p.strip() for p in roots):  # Path("") is the current folder: never scan (and remember) that by accident
        raise UserError(
            "a folder argument is empty: give the folder to scan, e.g. player-plugin scan ~/Music", EXIT_USAGE
        )
    if args.demo:
        roots.append(str(paths.demo_library_dir()))
    engine = _open_engine(args)
    if not roots:
        roots = engine.roots()
        if not roots:
            engine.close()
            raise UserError(
                "no folders given and none in the library yet; try: player-plugin scan ~/Music   (or --demo)",
                EXIT_USAGE,
            )
    try:
        engine.db.check_intact()  # a scan writes its folders first: find a damaged page before that
    except BaseException:
        engine.close()
        raise
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
            print(printable(f"  failed: {f.path}: {f.reason}"))
        for w in report.warnings:
            print(printable(f"  warning: {w.path}: {w.reason}"))
    all_roots_failed = (
        report.failures
        and all(f.reason in ("folder not found", "not a folder") for f in report.failures)
        and report.added + report.updated + report.unchanged + report.moved == 0
    )
    return 1 if all_roots_failed else 0


def cmd_library(args: argparse.Namespace) -> int:
    from player_plugin.cli_library import library

    return library(args, _open_engine(args), _db_path(args))


def cmd_doctor(args: argparse.Namespace) -> int:
    from player_plugin.doctor import report

    data = report(_db_path(args))
    status = _doctor_status(data)
    if args.json:
        print(json.dumps(data, ensure_ascii=False, indent=None))
        return status
    print("versions:")
    for k, v in data["versions"].items():
        print(f"  {k}: {v}")
    db = data["database"]
    print(f"database: {printable(db['path'])}")
    if not db["exists"]:
        print("  not created yet (it is made on the first scan)")
    elif "error" in db:
        print(f"  error: {printable(db['error'])}")
    else:
        print(
            f"  schema version {db['schema_version']} (latest {db['latest_schema']}), "
            f"journal {db['journal_mode']}, mode {db['mode']}, {db['tracks']} tracks"
        )
    models = data["models"]
    print(f"models: {printable(models['folder'])}")
    if not models["models"]:
        print("  none found")
    for m in models["models"]:
        print(f"  {printable(m['model_id'])}")
        if m.get("error"):
            print(f"    error: {printable(m['error'])}")
        for f in m["files"]:
            print(printable(f"    {f['name']}: {f['status']}  sha256 {f['sha256'] or '-'}"))
        if run := m.get("runs"):
            where = "GPU (CUDA)" if run["provider"].startswith("CUDA") else "CPU"
            gpu = run["gpu_variant"]
            state = run["gpu_variant_state"]
            note = f"; GPU variant {gpu}: {state}" if gpu else ""
            if gpu and state == "not built":
                note += " (player-plugin models build --gpu)"
            print(printable(f"    runs: {run['file']} on {where}{note}"))
    ort = data["onnxruntime"]
    if "error" in ort:
        print(f"onnxruntime: {printable(ort['error'])}")
    else:
        print(f"onnxruntime providers available: {', '.join(ort['available'])}")
        print(f"  will use: {ort['chosen']} ({ort['reason']})")
    print(f"demo library: {printable(data['demo_library'])}")
    return status


def _doctor_status(data: dict) -> int:
    """Doctor reports everything, and exits non-zero (one line per problem) when the database is unusable or
    a model's manifest is broken."""
    from player_plugin.doctor import problems

    found = problems(data)
    for line in found:
        print_error(line)
    return 1 if found else 0


def _model_engine(args: argparse.Namespace):
    from player_plugin.engine import Engine
    from player_plugin.nlp.encoder import Encoder
    from player_plugin.store import Database

    if args.model:
        check_model(args.model)
    prefer_gpu = not getattr(args, "cpu", False)
    db = Database(_db_path(args))
    _ = db.conn  # a bad database fails here, before any model is loaded
    return Engine(db, encoder_factory=lambda mid: Encoder.load(mid, prefer_gpu=prefer_gpu), model_id=args.model)


def cmd_embed(args: argparse.Namespace) -> int:
    engine = _model_engine(args)
    with _long_work(engine, "embedding interrupted; finished tracks are saved, run it again to go on") as line:
        if not args.model:
            check_model(engine.model_id)  # the library's (or the default) model must be installed too
        _ = engine.encoder  # load (and verify) the model before making it the library's
        if args.model:
            from player_plugin.store.settings import MODEL_KEY

            engine.settings.set(MODEL_KEY, args.model)
        report = engine.embed(progress=lambda p: line(_Phase("embed", p.done, p.total, p.current)))
    if args.json:
        print(json.dumps(report.as_dict(), ensure_ascii=False))
    else:
        print(
            f"embedded {report.embedded} tracks ({report.texts} texts), {report.unchanged} up to date; "
            f"model {report.model_id} on {report.provider}"
        )
        if report.embedded + report.unchanged == 0:
            print(f"  {_SCAN_FIRST}")
    return 0


def cmd_similar(args: argparse.Namespace) -> int:
    if not args.text.strip():
        raise UserError('the query is empty: say what to look for, e.g. similar "rainy night"', EXIT_USAGE)
    engine = _model_engine(args)
    try:
        results = engine.similar(args.text.strip(), args.count)
        model_id = engine.model_id
        if not results:
            raise UserError(missing_step(engine))
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
    for track, score in results:
        print(f"{score:6.3f}  {_name(track)}")
    return 0


def _name(track) -> str:
    """``artist — title``, or the title alone for an untagged file (whose title is its file name),
    ``printable``: for the human-readable lines only."""
    return printable(f"{track.tags.artist} — {track.tags.title}" if track.tags.artist else track.tags.title)


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
    from player_plugin.playlist_files import PlaylistError, is_playlist
    from player_plugin.recommend.service import NoVectorsError

    engine = _model_engine(args)
    try:
        if engine.library_counts().tracks == 0:
            raise UserError(_SCAN_FIRST)
        if args.prompt is not None:
            engine.set_prompt(args.prompt)
        if args.seed and is_playlist(args.seed):
            entries, _name = engine.continue_playlist(args.seed, args.count)
        elif args.seed:
            entries = engine.start_mix(args.seed, args.count)
        elif args.refill or args.prompt is not None:
            entries = engine.refill(args.count)
        else:
            entries = engine.up_next(args.count)
        data = _entries_json(engine, entries[: args.count])  # a longer queue (e.g. filled by the app) shows its head
        prompt = engine.prompt
        tracks, last = engine.library_counts().tracks, engine.recommender.config().no_repeat_last
    except NoVectorsError:
        raise UserError(missing_step(engine)) from None
    except LookupError as exc:
        raise UserError(str(exc.args[0]) if exc.args else str(exc)) from None
    except PlaylistError as exc:
        raise UserError(str(exc)) from None
    finally:
        engine.close()
    if args.json:
        print(json.dumps({"prompt": prompt, "queue": data}, ensure_ascii=False))
        return 0
    if prompt:
        print(f"prompt: {printable(prompt)}")
    if not data:  # a small library, all of it heard just now: say so rather than print nothing
        print(
            f"Up Next is empty: each of the library's {tracks} tracks is playing, among your last {last} plays, "
            "or blocked; add music with `player-plugin scan DIR`"
        )
    for i, d in enumerate(data, 1):
        print(printable(f"{i:2d}. {d['artist']} — {d['title']}  [{d['track_id']}]"))
        print(f"      {printable(d['reason'])}")
    return 0


def cmd_feedback(args: argparse.Namespace) -> int:
    from player_plugin.engine import Engine

    engine = _open_engine(args)
    assert isinstance(engine, Engine)
    try:
        matches = engine.tracks.find(args.track)
        if not matches:
            empty = engine.library_counts().tracks == 0
            raise UserError(_SCAN_FIRST if empty else f"no track matches {args.track!r} (list them: library --tracks)")
        if len(matches) > 1:
            print(f"player-plugin: {args.track!r} matches several tracks; use an id:", file=sys.stderr)
            for t in matches:
                print(f"  {t.id}: {_name(t)}", file=sys.stderr)
            return 2
        track = matches[0]
        engine.record(track.id, args.kind, args.position)
        if args.comment:
            engine.comment(track.id, args.comment)
    finally:
        engine.close()
    print(f"recorded {args.kind} for {_name(track)}")
    return 0


def cmd_import_ratings(args: argparse.Namespace) -> int:
    engine = _open_engine(args)
    try:
        if engine.library_counts().tracks == 0:
            raise UserError(_SCAN_FIRST)
        report = engine.import_ratings(dry_run=args.dry_run)
    finally:
        engine.close()
    if args.json:
        print(json.dumps(report.as_dict()))
        return 0
    if not report.rated:
        print("no track of the library has a star rating in its tags (rescan after rating them)")
        return 0
    verb = "would store" if report.dry_run else "stored"
    print(
        f"{report.rated} rated tracks: {verb} {report.liked} likes (4-5 stars) and {report.disliked} dislikes "
        f"(1 star); {report.already} already had a like or dislike"
    )
    return 0


def cmd_import_history(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from player_plugin.cli_library import print_import
    from player_plugin.recommend.history_import import HistoryImportError, import_history

    engine = _open_engine(args)
    try:
        report = import_history(args.file, engine.db, dry_run=args.dry_run)
        tracks = engine.library_counts().tracks
        first, last = (
            None if ts is None else datetime.fromtimestamp(ts, UTC).date().isoformat()
            for ts in (report.first_ts, report.last_ts)
        )
    except (HistoryImportError, OSError) as exc:
        raise UserError(str(exc)) from None
    finally:
        engine.close()
    data = {**report.as_dict(), "first_listen": first, "last_listen": last}
    if args.json:
        print(json.dumps(data, ensure_ascii=False, default=str))
    else:
        print_import(data, tracks)
    return 0
