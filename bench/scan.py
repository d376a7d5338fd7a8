"""Scan throughput: first scan and no-change rescan, side by side with a bare mutagen loop.

Builds an N-file library from the committed fixtures (each copy retagged with distinct tags, a
tenth with an .lrc sidecar), then alternates, ``--repeats`` times:

* a bare loop of ``mutagen.File(path)`` over every file (the floor any scanner has to pay),
* a first scan into a fresh database (default settings: tag reading in worker processes),
* a first scan with one process (``workers=1``: the scanner's own overhead over mutagen),
* a no-change rescan of that database.

Best-of-repeats figures are compared as ratios measured in the same run, so a noisy shared
machine moves both sides. The last line of output is one JSON object.

    python bench/scan.py [--files 10000] [--repeats 2] [--dir PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import mutagen

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from player_plugin.library.scanner import Scanner, default_workers  # noqa: E402
from player_plugin.store import Database  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures" / "audio"
SOURCES = ["tone.mp3", "tone.flac", "tone.ogg", "tone.m4a", "tone.opus"]


def build_library(root: Path, n: int) -> list[Path]:
    """N tagged copies of the fixtures in ~100-file album folders; reuses a complete earlier build."""
    marker = root / f".built-{n}"
    files: list[Path] = []
    for i in range(n):
        src = SOURCES[i % len(SOURCES)]
        ext = Path(src).suffix
        files.append(root / f"artist{i // 500:03d}" / f"album{i // 100:04d}" / f"{i:05d} song{ext}")
    if marker.exists():
        return files
    for i, dest in enumerate(files):
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(FIXTURES / SOURCES[i % len(SOURCES)], dest)
        audio = mutagen.File(dest, easy=True)
        if audio.tags is None:
            audio.add_tags()
        audio["title"] = f"Song {i}"
        audio["artist"] = f"Artist {i // 500}"
        audio["album"] = f"Album {i // 100}"
        audio["genre"] = ["Rock", "Jazz", "Pop", "Folk"][i % 4]
        audio["tracknumber"] = str(i % 100 + 1)
        audio.save()
        if i % 10 == 0:
            dest.with_suffix(".lrc").write_text(f"[ti:Song {i}]\n[00:01.00]line one of {i}\n", encoding="utf-8")
    marker.touch()
    return files


def bare_mutagen(files: list[Path]) -> float:
    t0 = time.perf_counter()
    for f in files:
        mutagen.File(f)
    return time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--files", type=int, default=10_000)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--workers", type=int, default=None, help="tag-reading processes (default: the scanner's)")
    ap.add_argument("--dir", type=Path, help="where to build the library (kept); default: a temp dir")
    args = ap.parse_args()

    tmp = None
    if args.dir is None:
        tmp = tempfile.TemporaryDirectory(prefix="scan-bench-")
        lib_root = Path(tmp.name) / "lib"
    else:
        lib_root = args.dir
    t0 = time.perf_counter()
    files = build_library(lib_root, args.files)
    print(f"library: {len(files)} files under {lib_root} (built in {time.perf_counter() - t0:.1f} s)")
    bare_mutagen(files)  # warm the page cache so every measured pass reads from memory

    bare, first, first_single, rescan = [], [], [], []
    with tempfile.TemporaryDirectory(prefix="scan-bench-db-") as dbdir:
        for rep in range(args.repeats):
            bare.append(bare_mutagen(files))
            db_path = Path(dbdir) / f"run{rep}.db"
            db = Database(db_path)
            t0 = time.perf_counter()
            report = Scanner(db, workers=args.workers).scan([lib_root])
            first.append(time.perf_counter() - t0)
            if report.added != len(files) or report.failed:
                print(f"unexpected first scan: {report.as_dict()}", file=sys.stderr)
                return 1
            t0 = time.perf_counter()
            report = Scanner(db).scan([lib_root])
            rescan.append(time.perf_counter() - t0)
            if report.unchanged != len(files):
                print(f"unexpected rescan: {report.as_dict()}", file=sys.stderr)
                return 1
            single = Database(Path(dbdir) / f"single{rep}.db")
            t0 = time.perf_counter()
            report = Scanner(single, workers=1).scan([lib_root])
            first_single.append(time.perf_counter() - t0)
            if report.added != len(files):
                print(f"unexpected single-process scan: {report.as_dict()}", file=sys.stderr)
                return 1
            single.close()
            db.close()
            os.remove(db_path)

    n = len(files)
    mutagen_fps = n / min(bare)
    first_fps = n / min(first)
    single_fps = n / min(first_single)
    result = {
        "files": n,
        "first_scan_files_per_s": round(first_fps, 1),
        "mutagen_files_per_s": round(mutagen_fps, 1),
        "first_scan_ratio": round(first_fps / mutagen_fps, 3),
        "rescan_s": round(min(rescan), 3),
        "workers": args.workers or default_workers(),
        "single_process_files_per_s": round(single_fps, 1),
        "single_process_ratio": round(single_fps / mutagen_fps, 3),
    }
    print()
    print(f"| {'pass':<28} | {'seconds (best)':>14} | {'files/s':>9} |")
    print(f"|{'-' * 30}|{'-' * 16}|{'-' * 11}|")
    print(f"| {'bare mutagen.File() loop':<28} | {min(bare):>14.2f} | {mutagen_fps:>9.0f} |")
    print(f"| {'first scan, ' + str(result['workers']) + ' workers':<28} | {min(first):>14.2f} | {first_fps:>9.0f} |")
    print(f"| {'first scan, one process':<28} | {min(first_single):>14.2f} | {single_fps:>9.0f} |")
    print(f"| {'no-change rescan':<28} | {min(rescan):>14.2f} | {n / min(rescan):>9.0f} |")
    print(
        f"\nfirst scan / bare mutagen = {result['first_scan_ratio']:.2f} (target >= 0.7; one process: "
        f"{result['single_process_ratio']:.2f}); "
        f"rescan {result['rescan_s']:.2f} s (target < 2 s for 10,000 files)"
    )
    print(json.dumps(result))
    if tmp is not None:
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
