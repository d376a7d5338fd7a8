"""What CUE sheets cost a scan: a library of files, the same with CD images and their sheets beside.

Builds ``--files`` tagged copies of the committed fixtures in 100-file album folders, and ``--images``
more folders each holding one "image" (a 3-second WAV of silence) and a GBK ``.cue`` sheet of 2 tracks. Then,
in turn, ``--repeats`` times, best of each:

* a no-change rescan of the files + the images without their sheets, and with them (the walk reads
  every sheet again: the difference is its cost),
* a first scan of the images alone (sheets parsed, two rows written per image).

The last line of output is one JSON object.

    python bench/cue_scan.py [--files 10000] [--images 1000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import wave
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from scan import build_library  # noqa: E402

from player_plugin.library.scanner import Scanner  # noqa: E402
from player_plugin.store import Database  # noqa: E402

SHEET = 'PERFORMER "歌手 {i}"\nTITLE "专辑 {i}"\nFILE "CDImage.wav" WAVE\n' + "".join(
    f'  TRACK 0{n} AUDIO\n    TITLE "第{n}首 {{i}}"\n    INDEX 01 00:0{n - 1}:00\n' for n in (1, 2)
)  # two tracks: at 0 s and at 1 s of the image
IMAGE_S, RATE = 3, 8000


def build_images(root: Path, n: int, sheets: bool = True) -> None:
    marker = root / f".images-{n}"
    if marker.exists():
        return
    for i in range(n):
        folder = root / f"image{i:05d}"
        folder.mkdir(parents=True, exist_ok=True)
        with wave.open(str(folder / "CDImage.wav"), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(RATE)
            w.writeframes(b"\0\0" * RATE * IMAGE_S)
        if sheets:
            (folder / "CDImage.cue").write_bytes(SHEET.format(i=i).encode("gbk"))
    marker.touch()


def timed_scan(db: Database, roots: list[Path]) -> tuple[float, int]:
    t0 = time.perf_counter()
    report = Scanner(db, workers=1).scan(roots)
    return time.perf_counter() - t0, report.added + report.unchanged


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--files", type=int, default=10_000)
    ap.add_argument("--images", type=int, default=1_000)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="cue-bench-") as tmp:
        tmp_path = Path(tmp)
        files, images, bare = tmp_path / "files", tmp_path / "images", tmp_path / "bare"
        build_library(files, args.files)
        build_images(images, args.images)
        build_images(bare, args.images, sheets=False)
        plain = Database(tmp_path / "plain.db")
        both = Database(tmp_path / "both.db")
        timed_scan(plain, [files, bare])
        timed_scan(both, [files, images])
        rescan_plain, rescan_both, first_images = [], [], []
        for r in range(args.repeats):
            rescan_plain.append(timed_scan(plain, [files, bare])[0])
            rescan_both.append(timed_scan(both, [files, images])[0])
            seconds, _ = timed_scan(Database(tmp_path / f"images{r}.db"), [images])
            first_images.append(seconds)
        tracks = int(Database(tmp_path / "images0.db").conn.execute("SELECT count(*) FROM tracks").fetchone()[0])
    best_plain, best_both, best_first = min(rescan_plain), min(rescan_both), min(first_images)
    per_sheet_ms = (best_both - best_plain) / max(args.images, 1) * 1000
    print(f"{'pass':58} {'seconds (best)':>14}")
    print(f"{f'no-change rescan, {args.files} files + {args.images} images, no sheets':58} {best_plain:14.3f}")
    print(f"{f'no-change rescan, {args.files} files + {args.images} images with sheets':58} {best_both:14.3f}")
    print(f"{f'first scan, {args.images} images ({tracks} tracks)':58} {best_first:14.3f}")
    print(f"each sheet adds {per_sheet_ms:.3f} ms to a rescan; images scan at {tracks / best_first:.0f} tracks/s")
    print(
        json.dumps(
            {
                "files": args.files,
                "images": args.images,
                "image_tracks": tracks,
                "rescan_files_s": round(best_plain, 3),
                "rescan_with_images_s": round(best_both, 3),
                "rescan_ms_per_sheet": round(per_sheet_ms, 3),
                "first_scan_images_s": round(best_first, 3),
                "image_tracks_per_s": round(tracks / best_first, 1),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
