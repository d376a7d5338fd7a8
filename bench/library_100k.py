#!/usr/bin/env python3
"""A 100,000-track library end to end: build, first scan, embed, first Up Next fill, app start, app embed.

    python bench/library_100k.py [--tracks 100000] [--startup-runs 3] [--app-embed 90] [--keep DIR]

The library: ``--tracks`` real audio files, copies of the committed fixtures (tests/fixtures/audio:
one format per album, MP3 40 %, FLAC 25 %, M4A 20 %, Ogg Vorbis 10 %, Opus 5 %), each retagged
with mutagen (title, artists, album, genre, year, track number; deterministic, seed 0): about
10,000 albums of 6-14 tracks by about 6,000 artists (a quarter with Chinese names and titles; one
track in 17 with a second artist), laid out ``<artist>/<album>/<nn> <title>.<ext>``. One track in
ten gets a lyrics sidecar (``.lrc`` with time stamps or plain ``.txt``, alternately) of 4-16 English
or Chinese lines.

Every step after the build is its own child process running the product as a user does, on a fresh
database and with empty caches (``PLAYER_PLUGIN_HOME`` / ``PLAYER_PLUGIN_CACHE`` point into the
work folder, so nothing of the user's is read or written):

1. ``build``    — writing the library (the bench's own cost, not the product's);
2. ``scan``     — ``player-plugin --db DB scan --json LIB``: the first scan (the files were just
                   written, so they are read from the page cache);
3. ``embed``    — ``player-plugin --db DB embed --json``: every track's metadata text and lyric
                   windows through the default model (int8 multilingual-e5-small on the CPU here);
4. ``up-next``  — ``player-plugin --db DB up-next --json``: the first fill of 10 (loads the catalog);
5. ``app start``— the desktop app on that database (offscreen Qt unless a DISPLAY is set), from
                   spawning the process to ``READY`` (``PLAYER_PLUGIN_EXIT_WHEN_READY=1``: the window
                   shown with all the library's rows, the event loop idle); median of
                   ``--startup-runs``;
6. ``app embed``— the app on a copy of the database as the scan left it (no vectors): it rescans,
                   then embeds on its library worker as after a user's first scan. For ``--app-embed``
                   seconds of embedding (or to the end, if sooner) it records a 50 ms heartbeat
                   ``QTimer`` on the UI thread (the largest gap = the longest the window could not
                   repaint or take input), the progress signals and the progress bar's paint events;
                   halfway through it presses Refill (``MainWindow.refill``, as Ctrl+R does) and
                   records how long until Up Next shows entries and how many tracks had vectors then;
                   whether Up Next filled by itself before the embed ended is recorded too. Then it
                   closes the window (the embed is cancelled) and times the shut-down.
                   ``--app-embed 0`` skips it; ``--gap-dump FILE`` writes every thread's Python
                   stack there while the UI thread is more than 250 ms late (to see what a gap was).

Seconds are wall time from spawn to exit (interpreter start and imports included). Peak RSS per
step is that child's ``ru_maxrss`` from ``os.wait4`` (this parent imports nothing heavy, so the
figure is the step's own). Tracks/minute: tracks in the library / step seconds. The last line of
output is one JSON object. The library and the database are deleted at the end unless ``--keep DIR``
(a later run with the same ``--keep DIR`` and ``--tracks`` reuses the built files, never the
database).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
FIXTURES = ROOT / "tests" / "fixtures" / "audio"
FORMATS = [("tone.mp3", 40), ("tone.flac", 25), ("tone.m4a", 20), ("tone.ogg", 10), ("tone.opus", 5)]
SEED = 0
BYTES_PER_TRACK = 24_000  # disk needed per track: the file's blocks, a tenth of a sidecar, the database


# ------------------------------------------------------------------------------------------ the library
def _words(text: str) -> list[str]:
    return text.split()


EN_FIRST = _words(
    "Mira Elena June Harper Noah Theo Iris Felix Nora Owen Ada Rowan Leo Clara Silas Maya Jonah Ivy Hugo "
    "Lena Ezra Ruby Milo Hazel Jude Alma Caspar Wren Otis Freya Arlo Esme Nico Greta Abel Luz Ines Omar "
    "Tess Kai"
)
EN_LAST = _words(
    "Vale Voss Hart Lane Reyes Moreau Quinn Park Sato Brandt Okafor Lind Novak Costa Hale Ferris Marsh "
    "Ibarra Kowal Achterberg Winter Holm Duarte Falk Ng Roux Baird Castellan Ode Sorensen Pike Amari Wolfe "
    "Esposito Thorne Brook Kade Nakamura Laurent Day"
)
EN_ADJ = _words(
    "Quiet Neon Paper Static Velvet Northern Hollow Silver Broken Golden Electric Lonely Midnight Slow "
    "Crimson Wild Tiny Burning Frozen Distant Amber Gentle Heavy Blue Secret Restless Last Empty Bright "
    "Salt Iron Faded Sleepy Rusty Lucky Wandering Sunken Glass Pale Summer"
)
EN_NOUN = _words(
    "Engines Tide Atlas Satellites Harbour Lanterns Kites Gardens Wolves Rivers Ghosts Sparrows Radios "
    "Hours Echoes Mirrors Trains Islands Horses Signals Comets Bridges Orchards Pilots Foxes Motels "
    "Towers Lights Waves Shadows Embers Clouds Meadows Rooms Stations Letters Roads Bells Moths "
    "Strangers"
)
EN_WORDS = _words(
    "rain night city river light summer heart road fire glass ocean dream shadow silver morning winter "
    "street window letter train harbour radio kitchen mirror satellite garden highway lantern ghost "
    "honey smoke thunder static weather island bridge fever echo velvet"
)
ENSEMBLES = ["Trio", "Quartet", "Band", "Orchestra", "Collective", "Ensemble", "Sound System", "& the Night Shift"]
ZH_SURNAMES = list("林陈周古苏白夏王李张刘黄吴赵孙徐朱胡郭何高罗郑梁谢宋唐许韩冯邓")
ZH_GIVEN = list("夕雨默晴月念鹭至风云星河海山川远安宁然静雪梅兰竹秋春晨曦光影歌声心语梦遥岚墨一言青禾")
ZH_BAND = ["乐队", "乐团", "组合", "合唱团"]
ZH_TITLE_CHARS = list("月亮雨夜信旧街灯不说再见你我之间半城烟火南方以北火车慢外婆院子霓虹心跳周末回家竹影渔舟归涨潮")
ZH_TITLE_CHARS += list("城市下沉回声星河晚风候鸟十七岁春天离别远方故乡梦醒花开时光海边")
GENRES_EN = ["Indie rock", "Ambient folk", "Synthwave", "Hip hop", "Jazz trio", "Classical piano", "Lo-fi beats",
             "Doom metal", "Dream pop", "Singer-songwriter", "Deep house", "Country", "Post-rock", "Trip hop",
             "Soul", "Funk", "Bossa nova", "Shoegaze", "Drum and bass", "Techno", "Blues", "Reggae", "Punk",
             "Chamber pop", "Bluegrass", "Afrobeat", "Emo", "Grunge", "Disco", "Big band"]  # fmt: skip
GENRES_ZH = ["华语流行", "民谣", "电子舞曲", "古风", "独立摇滚", "国风器乐", "城市民谣", "Mandopop"]
# the lyric lines of the embed bench's corpus (bench/embed.py): the same language mix, one source
from bench.embed import EN_LINES, ZH_LINES  # noqa: E402


def _artist_name(rng, zh: bool, taken: set[str]) -> str:
    while True:
        if zh:
            kind = rng.random()
            if kind < 0.7:
                name = rng.choice(ZH_SURNAMES) + "".join(rng.choice(ZH_GIVEN) for _ in range(rng.randint(1, 2)))
            else:
                name = rng.choice(ZH_GIVEN) + rng.choice(ZH_GIVEN) + rng.choice(ZH_BAND)
        else:
            kind = rng.random()
            if kind < 0.4:
                name = f"{rng.choice(EN_FIRST)} {rng.choice(EN_LAST)}"
            elif kind < 0.65:
                name = f"The {rng.choice(EN_ADJ)} {rng.choice(EN_NOUN)}"
            elif kind < 0.85:
                name = f"{rng.choice(EN_ADJ)} {rng.choice(EN_NOUN)}"
            else:
                name = f"{rng.choice(EN_LAST)} {rng.choice(ENSEMBLES)}"
        if name not in taken:
            taken.add(name)
            return name


def _title(rng, zh: bool) -> str:
    if zh:
        return "".join(rng.choice(ZH_TITLE_CHARS) for _ in range(rng.randint(2, 5)))
    pattern = rng.random()
    a, b = rng.choice(EN_WORDS), rng.choice(EN_WORDS)
    if pattern < 0.35:
        return f"{rng.choice(EN_ADJ)} {b.title()}"
    if pattern < 0.6:
        return f"{a.title()} of the {b.title()}"
    if pattern < 0.8:
        return f"{a.title()} {b}"
    return f"{rng.choice(EN_ADJ)} {a} {b}".capitalize()


def plan_library(n: int, seed: int = SEED) -> list[dict]:
    """The tracks to write, deterministic: relative path, tags, the fixture to copy, the sidecar's text."""
    import random

    rng = random.Random(seed)
    weights = [w for _, w in FORMATS]
    taken: set[str] = set()
    tracks: list[dict] = []
    artist = ""
    zh = False
    genre = ""
    albums: set[str] = set()
    while len(tracks) < n:
        if not artist or rng.random() < 0.6:  # a new artist, else another album of the same one
            zh = rng.random() < 0.25
            artist = _artist_name(rng, zh, taken)
            genre = rng.choice(GENRES_ZH if zh and rng.random() < 0.6 else GENRES_EN)
            albums = set()
        album = _title(rng, zh)
        while album in albums:
            album = _title(rng, zh)
        albums.add(album)
        year = rng.randint(1965, 2025)
        src = rng.choices([f for f, _ in FORMATS], weights)[0]
        ext = Path(src).suffix
        for no in range(1, min(rng.randint(6, 14), n - len(tracks)) + 1):
            i = len(tracks)
            title = _title(rng, zh)
            artists = [artist]
            if i % 17 == 5:
                artists.append(_artist_name(rng, rng.random() < 0.25, set()))
            lyrics = None
            if i % 10 == 0:
                pool = ZH_LINES if zh else EN_LINES
                lines = [rng.choice(pool) for _ in range(rng.randint(4, 16))]
                if (i // 10) % 2 == 0:
                    stamped = (f"[{k * 7 // 60:02d}:{k * 7 % 60:02d}.00]{line}\n" for k, line in enumerate(lines))
                    lyrics = (".lrc", f"[ti:{title}]\n" + "".join(stamped))
                else:
                    lyrics = (".txt", "\n".join(lines) + "\n")
            rel = f"{artist}/{album}/{no:02d} {title}{ext}"
            tracks.append({"rel": rel, "src": src, "title": title, "artists": artists, "album": album,
                           "genre": genre, "year": year, "no": no, "lyrics": lyrics})  # fmt: skip
    return tracks


def build_library(root: Path, n: int) -> dict:
    """Write the planned files under ``root`` (a complete earlier build of the same size is reused)."""
    import mutagen

    marker = root / f".built-{n}-seed{SEED}"
    if marker.exists():
        return json.loads(marker.read_text())
    if root.exists():
        shutil.rmtree(root)
    t0 = time.perf_counter()
    plan = plan_library(n)
    made: set[Path] = set()
    sidecars = 0
    for t in plan:
        dest = root / t["rel"]
        if dest.parent not in made:
            dest.parent.mkdir(parents=True, exist_ok=True)
            made.add(dest.parent)
        shutil.copyfile(FIXTURES / t["src"], dest)
        audio = mutagen.File(dest, easy=True)
        if audio.tags is None:
            audio.add_tags()
        audio["title"] = t["title"]
        audio["artist"] = t["artists"]
        audio["album"] = t["album"]
        audio["genre"] = t["genre"]
        audio["date"] = str(t["year"])
        audio["tracknumber"] = str(t["no"])
        audio.save()
        if t["lyrics"] is not None:
            suffix, text = t["lyrics"]
            dest.with_suffix(suffix).write_text(text, encoding="utf-8")
            sidecars += 1
    disk = sum(os.lstat(os.path.join(d, f)).st_blocks * 512 for d, _, fs in os.walk(root) for f in fs)
    info = {"files": n, "sidecars": sidecars, "folders": len(made), "disk_mb": round(disk / 2**20, 1),
            "artists": len({t["artists"][0] for t in plan}), "seconds": round(time.perf_counter() - t0, 1)}  # fmt: skip
    marker.write_text(json.dumps(info))
    return info


# --------------------------------------------------------------------------------------- child scripts
_APP_START = """
import sys
from pathlib import Path
from player_plugin.ui.app import run_app
sys.exit(run_app(Path(sys.argv[1]), scan_demo=False))
"""

# The app as run_app builds it (minus the preflight and Ctrl-C handling), with probes on the UI thread.
_APP_EMBED = r"""
import json, sys, threading, time, traceback
from pathlib import Path
T0 = time.perf_counter()
from player_plugin.ui.app import ensure_application
from player_plugin.shared_encoder import make_engine
app = ensure_application()
from PySide6.QtCore import QEvent, QObject, QTimer
from player_plugin.ui.main_window import MainWindow

db, seconds = Path(sys.argv[1]), float(sys.argv[2])
dump = open(sys.argv[3], "w") if len(sys.argv) > 3 and sys.argv[3] else None
engine = make_engine(db)
window = MainWindow(engine, scan_demo=False, silent_audio=True, mpris=False)
now = time.perf_counter
st = {"ticks": [], "paints": [], "progress": [], "embed_submitted": None, "embed_first": None, "done": None,
      "refill_at": None, "refill_embedded": None, "refill_shown": None, "refill_entries": 0,
      "auto_fill": None, "auto_fill_embedded": None, "close_at": None, "finished": None, "ready": None}

class Paints(QObject):
    def eventFilter(self, obj, ev):
        if ev.type() == QEvent.Type.Paint and st["embed_first"] is not None and st["close_at"] is None:
            st["paints"].append(now())
        return False

paints = Paints()
window.progress.installEventFilter(paints)
heartbeat = QTimer()
heartbeat.setInterval(50)
heartbeat.timeout.connect(lambda: st["ticks"].append(now()))

def sampler():  # --gap-dump: every thread's stack while the UI thread is 250 ms late (Python frames only)
    main = threading.main_thread().ident
    while st["close_at"] is None:
        time.sleep(0.05)
        late = now() - st["ticks"][-1] if st["ticks"] else 0
        if late > 0.25:
            at = now() - (st["embed_submitted"] or T0)
            for tid, frame in sys._current_frames().items():
                where = " < ".join(f"{f.name} ({f.filename.rsplit('/', 2)[-1]}:{f.lineno})"
                                   for f in reversed(traceback.extract_stack(frame)[-7:]))
                print(f"{at:7.2f} s {late * 1000:5.0f} ms late  {'UI' if tid == main else tid}: {where}", file=dump)
            dump.flush()

if dump is not None:
    threading.Thread(target=sampler, daemon=True).start()

def embedded():
    return st["progress"][-1][1] if st["progress"] else 0

def on_work(text, done, total):
    if text.startswith("Understanding"):
        if st["embed_first"] is None:
            st["embed_first"] = now()
            QTimer.singleShot(int(seconds * 1000), stop)
            QTimer.singleShot(int(seconds * 500), refill)
        st["progress"].append((now(), done or 0, total or 0))

def refill():
    if st["close_at"] is None and st["finished"] is None:
        st["refill_at"], st["refill_embedded"] = now(), embedded()
        window.refill()

def on_entries(entries, _tracks):
    if not entries or st["close_at"] is not None:
        return
    if st["refill_at"] is not None and st["refill_shown"] is None:
        st["refill_shown"], st["refill_entries"] = now(), len(entries)
    elif st["refill_at"] is None and st["auto_fill"] is None:
        st["auto_fill"], st["auto_fill_embedded"] = now(), embedded()

def on_embed_finished(report):
    if st["finished"] is None and st["close_at"] is None and not getattr(report, "cancelled", False):
        st["finished"] = now()
        st["report"] = report.as_dict() if hasattr(report, "as_dict") else str(report)
        QTimer.singleShot(2000, stop)  # let the fill after the embed (model_ready) show

def stop():
    if st["close_at"] is None:
        st["close_at"] = now()
        window.close()

start_embed = window.jobs.start_embed
def mark_embed():
    st["embed_submitted"] = now()
    return start_embed()
window.jobs.start_embed = mark_embed
window.jobs.work_shown.connect(on_work)
window.jobs.embed_finished.connect(on_embed_finished)
window.upnext.entries_shown.connect(on_entries)
window.show()
window.start()
QTimer.singleShot(0, lambda: st.__setitem__("ready", now()))
heartbeat.start()
app.exec()
window.shutdown()
engine.close()
exited = now()

def pairs(ticks, lo, hi, by):  # (gap, start) of the gaps between ticks that began in [lo, hi) and ended by `by`
    return [(b - a, a) for a, b in zip(ticks, ticks[1:]) if lo <= a < hi and b <= by]

def gaps(ticks, lo, hi, by=float("inf")):  # shortest first
    return sorted(g for g, _ in pairs(ticks, lo, hi, by))

def worst(ticks, lo, hi, k=3):  # the k longest gaps: [seconds after lo when it began, ms]
    return [[round(a - lo, 1), round(g * 1000)] for g, a in sorted(pairs(ticks, lo, hi, hi), reverse=True)[:k]]

end = st["close_at"] or exited
emb = gaps(st["ticks"], st["embed_submitted"] or end, end, end)  # not the close, which waits for the worker
before = gaps(st["ticks"], T0, st["embed_submitted"] or end)
paint_gaps = gaps(st["paints"], 0, end)
ms = lambda x: round(x * 1000, 1)
p = st["progress"]
out = {
    "ready_s": round(st["ready"] - T0, 2) if st["ready"] else None,
    "embed_started_s": round(st["embed_submitted"] - T0, 2) if st["embed_submitted"] else None,
    "pending_s": round(st["embed_first"] - st["embed_submitted"], 2) if st["embed_first"] else None,
    "embed_window_s": round(end - st["embed_first"], 1) if st["embed_first"] else None,
    "embedded": p[-1][1] if p else 0, "total": p[-1][2] if p else 0,
    "tracks_per_min": round(60 * (p[-1][1] - p[0][1]) / (p[-1][0] - p[0][0])) if len(p) > 1 else None,
    "finished": st["finished"] is not None,
    "heartbeats": len(emb) + 1 if emb else 0,
    "max_gap_ms": ms(emb[-1]) if emb else None,
    "p99_gap_ms": ms(emb[int(0.99 * (len(emb) - 1))]) if emb else None,
    "gaps_over_200ms": sum(g > 0.2 for g in emb),
    "worst_gaps": worst(st["ticks"], st["embed_submitted"] or end, end),
    "max_gap_before_embed_ms": ms(before[-1]) if before else None,
    "progress_signals": len(p),
    "progress_paints": len(st["paints"]),
    "max_paint_gap_s": round(paint_gaps[-1], 2) if paint_gaps else None,
    "auto_fill_during_embed": st["auto_fill"] is not None
    and (st["finished"] is None or st["auto_fill"] < st["finished"]),
    "filled_after_end_s": round(st["auto_fill"] - st["finished"], 2)
    if st["auto_fill"] and st["finished"] and st["auto_fill"] >= st["finished"] else None,
    "refill_embedded": st["refill_embedded"],
    "refill_s": round(st["refill_shown"] - st["refill_at"], 2) if st["refill_shown"] else None,
    "refill_entries": st["refill_entries"],
    "shutdown_s": round(exited - end, 2),
}
print("APP_EMBED " + json.dumps(out), flush=True)
"""


# ------------------------------------------------------------------------------------------ the steps
def run_step(cmd: list[str], env: dict[str, str], timeout: float, ready: str | None = None) -> dict:
    """Run ``cmd`` to its end: wall seconds, peak RSS (MB, its own ru_maxrss), stdout, and the time to
    the first stdout line starting with ``ready`` when given."""
    with tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=err, text=True)
        killer = threading.Timer(timeout, proc.kill)
        killer.start()
        ready_s = None
        lines = []
        assert proc.stdout is not None
        for line in proc.stdout:
            if ready and ready_s is None and line.startswith(ready):
                ready_s = time.perf_counter() - started
            lines.append(line)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
        killer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        stderr = err.read().decode("utf-8", "replace")
    if proc.returncode != 0:
        what = " ".join(c if len(c) < 200 else "<script>" for c in cmd)
        raise SystemExit(f"{what} failed ({proc.returncode}):\n{''.join(lines)[-2000:]}\n{stderr[-3000:]}")
    return {"s": seconds, "rss_mb": usage.ru_maxrss / 1024, "out": "".join(lines), "ready_s": ready_s}


def cli() -> list[str]:
    exe = Path(sys.executable).with_name("player-plugin")
    return [str(exe)] if exe.is_file() else [sys.executable, "-m", "player_plugin"]


def copy_db(src: Path, dest: Path) -> None:
    """A byte copy of a closed database (and its WAL, if one was left)."""
    for suffix in ("", "-wal"):
        if Path(f"{src}{suffix}").exists():
            shutil.copyfile(f"{src}{suffix}", f"{dest}{suffix}")


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tracks", type=int, default=100_000)
    ap.add_argument("--startup-runs", type=int, default=3)
    ap.add_argument("--app-embed", type=float, default=90.0, help="seconds of in-app embedding to watch (0: skip)")
    ap.add_argument("--keep", type=Path, help="build (or reuse) the library here and keep it with the databases")
    ap.add_argument(
        "--gap-dump", type=Path, help="app embed: write every thread's stack here while the UI thread is late"
    )
    ap.add_argument("--timeout", type=float, default=3 * 3600, help="seconds any one step may take")
    ap.add_argument("--build-child", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.build_child:
        print("BUILT " + json.dumps(build_library(args.build_child, args.tracks)), flush=True)
        return 0

    n = args.tracks
    t_all = time.perf_counter()
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        work = args.keep.resolve()
    else:
        work = Path(tempfile.mkdtemp(prefix="library-100k-"))
    free = shutil.disk_usage(work).free
    if free < n * BYTES_PER_TRACK + 2**30:
        print(f"not enough disk under {work}: {free / 2**30:.1f} GiB free, need ~{n * BYTES_PER_TRACK / 2**30 + 1:.1f}")
        return 2
    lib, db, app_db = work / "lib", work / "library.db", work / "app-embed.db"
    for stale in (db, app_db, work / "cache", work / "home"):
        for p in (stale, Path(f"{stale}-wal"), Path(f"{stale}-shm")):
            shutil.rmtree(p) if p.is_dir() else p.unlink(missing_ok=True)
    env = dict(os.environ)
    env.update(PLAYER_PLUGIN_HOME=str(work / "home"), PLAYER_PLUGIN_CACHE=str(work / "cache"), PYTHONWARNINGS="ignore")
    env.pop("PLAYER_PLUGIN_DB", None)
    app_env = dict(env, QT_LOGGING_RULES="qt.multimedia*=false")
    app_env.setdefault("QT_QPA_PLATFORM", "xcb" if env.get("DISPLAY") else "offscreen")
    print(f"work folder {work}; {os.cpu_count()} cores, {cpu_model()}; {free / 2**30:.0f} GiB free", flush=True)

    steps: dict[str, dict] = {}
    r = run_step([sys.executable, __file__, "--tracks", str(n), "--build-child", str(lib)], env, args.timeout)
    built = json.loads(r["out"].split("BUILT ", 1)[1])
    steps["build"] = {"s": r["s"], "rss_mb": r["rss_mb"]}
    print(f"built: {built}", flush=True)

    r = run_step([*cli(), "--db", str(db), "scan", "--json", str(lib)], env, args.timeout)
    scan = json.loads(r["out"])
    if scan["added"] != n or scan["failed"]:
        raise SystemExit(f"unexpected scan: {scan}")
    steps["scan"] = {"s": r["s"], "rss_mb": r["rss_mb"], "own_s": scan["seconds"]}
    print(f"scan: {r['s']:.1f} s, {r['rss_mb']:.0f} MB", flush=True)
    if args.app_embed > 0:
        copy_db(db, app_db)

    r = run_step([*cli(), "--db", str(db), "embed", "--json"], env, args.timeout)
    embed = json.loads(r["out"])
    if embed["embedded"] != n or embed["cancelled"]:
        raise SystemExit(f"unexpected embed: {embed}")
    steps["embed"] = {"s": r["s"], "rss_mb": r["rss_mb"], "texts": embed["texts"], "provider": embed["provider"]}
    print(f"embed: {r['s']:.1f} s, {r['rss_mb']:.0f} MB, {embed['texts']} texts", flush=True)

    r = run_step([*cli(), "--db", str(db), "up-next", "--json"], env, args.timeout)
    queue = json.loads(r["out"])["queue"]
    if len(queue) != 10:
        raise SystemExit(f"the first fill has {len(queue)} entries, not 10")
    steps["up-next"] = {"s": r["s"], "rss_mb": r["rss_mb"]}
    print(f"up-next: {r['s']:.2f} s, {r['rss_mb']:.0f} MB; first: {queue[0]['title']} ({queue[0]['reason']})")

    env_ready = dict(app_env, PLAYER_PLUGIN_EXIT_WHEN_READY="1")
    starts = []
    for _ in range(args.startup_runs):
        r = run_step([sys.executable, "-c", _APP_START, str(db)], env_ready, 300, ready="READY")
        if r["ready_s"] is None:
            raise SystemExit("the app exited without READY")
        starts.append(r)
        print(f"app start: {r['ready_s']:.2f} s to READY, {r['rss_mb']:.0f} MB", flush=True)
    if starts:
        steps["app start"] = {"s": statistics.median(s["ready_s"] for s in starts),
                              "rss_mb": max(s["rss_mb"] for s in starts)}  # fmt: skip

    app_embed = None
    if args.app_embed > 0:
        r = run_step(
            [sys.executable, "-c", _APP_EMBED, str(app_db), str(args.app_embed), str(args.gap_dump or "")],
            app_env,
            args.timeout,
        )
        app_embed = json.loads(r["out"].split("APP_EMBED ", 1)[1])
        steps["app embed"] = {"s": r["s"], "rss_mb": r["rss_mb"]}
        print(f"app embed: {app_embed}", flush=True)
    total = time.perf_counter() - t_all

    tpm = {k: n * 60 / steps[k]["s"] for k in ("scan", "embed")}
    rows = [
        ("build (bench only)", steps["build"], None, f"{built['disk_mb']:.0f} MB, {built['sidecars']} sidecars"),
        ("first scan (`scan`)", steps["scan"], tpm["scan"], f"scanner's own {steps['scan']['own_s']:.1f} s"),
        ("embed (`embed`)", steps["embed"], tpm["embed"], f"{embed['texts']:,} texts, {embed['provider']}"),
        ("first Up Next fill (`up-next`)", steps["up-next"], None, "10 entries"),
    ]  # fmt: skip
    if starts:
        rows.append(("app start to interactive", steps["app start"], None, f"median of {len(starts)}"))
    if app_embed:
        a = app_embed
        rows.append(("app: rescan + embed, watched", steps["app embed"], a["tracks_per_min"],
                     f"{a['embedded']:,} of {a['total']:,} embedded; max UI gap {a['max_gap_ms']} ms"))  # fmt: skip
    print()
    print(f"{n:,} tracks, {os.cpu_count()} cores ({cpu_model()}), total wall {total / 60:.1f} min")
    print("| step | seconds | tracks/min | peak RSS (MB) | notes |")
    print("|---|---|---|---|---|")
    for name, st, rate, note in rows:
        print(f"| {name} | {st['s']:.2f} | {f'{rate:,.0f}' if rate else ''} | {st['rss_mb']:.0f} | {note} |")
    if app_embed:
        a = app_embed
        print(
            f"\napp embed: UI heartbeat (50 ms) max gap {a['max_gap_ms']} ms, p99 {a['p99_gap_ms']} ms, "
            f"{a['gaps_over_200ms']} gaps > 200 ms over {a['embed_window_s']} s; before the embed (start, rescan, "
            f"library load) max gap {a['max_gap_before_embed_ms']} ms; progress bar painted {a['progress_paints']}× "
            f"for {a['progress_signals']} progress signals (max {a['max_paint_gap_s']} s apart); Up Next filled by "
            f"itself during the embed: {a['auto_fill_during_embed']}; Refill at {a['refill_embedded']} embedded "
            f"showed {a['refill_entries']} entries in {a['refill_s']} s; shut-down {a['shutdown_s']} s"
        )
    result = {
        "tracks": n,
        "sidecars": built["sidecars"],
        "cores": os.cpu_count(),
        "build_s": round(steps["build"]["s"], 1),
        "scan_s": round(steps["scan"]["s"], 1),
        "scan_tracks_per_min": round(tpm["scan"]),
        "scan_rss_mb": round(steps["scan"]["rss_mb"]),
        "embed_s": round(steps["embed"]["s"], 1),
        "embed_tracks_per_min": round(tpm["embed"]),
        "embed_texts": embed["texts"],
        "embed_rss_mb": round(steps["embed"]["rss_mb"]),
        "up_next_s": round(steps["up-next"]["s"], 2),
        "up_next_rss_mb": round(steps["up-next"]["rss_mb"]),
    }
    if starts:
        result.update(
            app_start_s=round(steps["app start"]["s"], 2), app_start_rss_mb=round(steps["app start"]["rss_mb"])
        )
    if app_embed:
        result.update({f"app_embed_{k}": v for k, v in app_embed.items()})
        result["app_embed_rss_mb"] = round(steps["app embed"]["rss_mb"])
    result["total_s"] = round(total, 1)
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
