#!/usr/bin/env python3
"""The library watch on a 100,000-track library: its set-up, and a change scanned as the app scans it.

    python bench/watch.py [--tracks 100000] [--runs 5] [--keep DIR]

The library is bench/library_100k.py's (real audio files: copies of the committed fixtures, retagged,
``<artist>/<album>/<nn> <title>.<ext>``, a tenth with lyrics sidecars; ``--keep DIR`` builds it there
once and reuses it). It is scanned into a fresh database (the first scan, timed), then:

* **set-up** — a ``FolderWatcher`` (library/watch.py) on the library folder, until every folder is
  watched (``ready``): seconds, folders, and the resident memory it added;
* **a change**, ``--runs`` times, taken in turn with a whole rescan so both see the same machine:
  a new track copied into an album folder; the time from the file's close to the batch the watcher
  hands on (the quiet period ``WATCH_QUIET_S`` is most of it, by design), then ``Engine.scan_changes``
  of that batch (what the app runs) — and, beside it, ``Engine.scan()``, the whole incremental
  rescan that F5 runs (every file's ``stat``), which is what a change would cost without the watch
  naming its folder. The new track is deleted again after each run (that change is scanned too, and
  must remove it).

Prints a table and ends with one JSON line:
``{"tracks": n, "folders_watched": f, "watch_setup_s": s, "watch_rss_mb": m, "quiet_s": q,
"handed_on_s_p50": h, "scan_changes_ms_p50": a, "rescan_ms_p50": b, "rescan_over_scan_changes": b / a}``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import queue
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from player_plugin.engine import Engine  # noqa: E402
from player_plugin.library.watch import WATCH_QUIET_S, Changes, FolderWatcher  # noqa: E402
from player_plugin.store import Database  # noqa: E402
from tests.conftest import make_track  # noqa: E402

WAIT_S = 120.0  # for one batch, on a loaded machine


def _library_bench():
    spec = importlib.util.spec_from_file_location("library_100k", REPO / "bench" / "library_100k.py")
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


def _rss_mb() -> float:
    with open("/proc/self/statm", encoding="ascii") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tracks", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--keep", type=Path, help="build (or reuse) the library here")
    args = ap.parse_args(argv)

    work = args.keep.resolve() if args.keep else Path(tempfile.mkdtemp(prefix="watch-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    lib, db_path = work / "lib", work / "watch.db"
    for p in (db_path, Path(f"{db_path}-wal"), Path(f"{db_path}-shm")):
        p.unlink(missing_ok=True)
    t0 = time.perf_counter()
    built = _library_bench().build_library(lib, args.tracks)
    print(f"library: {built} ({time.perf_counter() - t0:.1f} s)", file=sys.stderr, flush=True)
    engine = Engine(Database(db_path))
    t0 = time.perf_counter()
    first = engine.scan([lib])
    t_scan = time.perf_counter() - t0
    if first.added != args.tracks:
        raise SystemExit(f"unexpected first scan: {first.as_dict()}")

    batches: queue.Queue[Changes] = queue.Queue()
    rss0 = _rss_mb()
    watcher = FolderWatcher([str(lib)], batches.put)
    t0 = time.perf_counter()
    watcher.start()
    if not watcher.ready.wait(600):
        raise SystemExit("the watch was not set up in 10 minutes")
    t_setup = time.perf_counter() - t0
    rss_watch = _rss_mb() - rss0

    album = next(p.parent for p in sorted(lib.rglob("*.mp3")))
    handed, watched_ms, rescan_ms = [], [], []
    try:
        for i in range(args.runs):
            # a change: a new track in an album folder, scanned as the app scans it
            t_written = time.perf_counter()
            new = make_track(album, f"99 Bench {i}", "mp3", title=f"Bench {i}", artist="Bench")
            changes = batches.get(timeout=WAIT_S)
            handed.append(time.perf_counter() - t_written)
            t0 = time.perf_counter()
            report = engine.scan_changes(changes.folders, deleted=changes.deleted)
            watched_ms.append((time.perf_counter() - t0) * 1000)
            if report.added != 1:
                raise SystemExit(f"the watched scan did not add the new track: {report.as_dict()}")
            t0 = time.perf_counter()  # ... and what F5 costs: the whole library, stat by stat
            whole = engine.scan()
            rescan_ms.append((time.perf_counter() - t0) * 1000)
            if whole.added or whole.removed:
                raise SystemExit(f"the whole rescan found what the watched one missed: {whole.as_dict()}")
            new.unlink()  # back to where it was (this change is scanned too)
            gone = batches.get(timeout=WAIT_S)
            if engine.scan_changes(gone.folders, deleted=gone.deleted).removed != 1:
                raise SystemExit("the watched scan did not remove the deleted track")
    finally:
        watcher.stop()
        engine.close()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)

    a, b = statistics.median(watched_ms), statistics.median(rescan_ms)
    rows = [
        ("tracks", f"{args.tracks:,}"),
        ("library folders", f"{built['folders']:,} album folders"),
        ("first scan", f"{t_scan:.1f} s"),
        ("folders watched", f"{watcher.watched:,}"),
        ("watch set-up", f"{t_setup:.2f} s"),
        ("watch memory", f"{rss_watch:.1f} MB"),
        ("a new file handed on after (p50)", f"{statistics.median(handed):.2f} s (quiet period {WATCH_QUIET_S} s)"),
        ("scan of the changed folder (p50)", f"{a:.1f} ms"),
        ("whole incremental rescan (p50)", f"{b:.1f} ms"),
        ("rescan / watched scan", f"{b / a:.0f}x"),
    ]
    width = max(len(k) for k, _ in rows)
    for k, v in rows:
        print(f"{k:<{width}}  {v}")
    line = {
        "tracks": args.tracks,
        "folders_watched": watcher.watched,
        "watch_setup_s": round(t_setup, 2),
        "watch_rss_mb": round(rss_watch, 1),
        "quiet_s": WATCH_QUIET_S,
        "handed_on_s_p50": round(statistics.median(handed), 2),
        "scan_changes_ms_p50": round(a, 1),
        "rescan_ms_p50": round(b, 1),
        "rescan_over_scan_changes": round(b / a, 1),
    }
    print(json.dumps(line))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
