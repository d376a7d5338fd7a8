#!/usr/bin/env python3
"""Up Next fill latency on a 100,000-track library.

    python bench/up_next.py [--tracks 100000] [--fills 300] [--dim 384] [--db PATH] [--load none|embed|other]

What it builds (deterministic, seed 0), in a temporary SQLite database written through the store
repositories (the real path; the build takes about a minute):

* ``--tracks`` tracks with synthetic metadata: ~8,000 artists (some tracks with two), 40 genres,
  durations 90-480 s, paths ``/music/<artist>/<album>/<n> <title>.mp3``, a few "(Live)" /
  "- 2011 Remaster" variants;
* one float32 unit vector per track (dim 384, clustered around 200 "styles" so the ranking has
  structure, and shaped like e5's: all of them share one direction, their mean's norm about 0.92 as
  measured on our listeners' libraries — a first pass must resolve the small part that differs),
  stored as the product stores them (``track_vectors``);
* a listening history of ``--events`` events (2,000: 30 days; more: proportionally longer; play +
  complete/skip pairs, likes, dislikes, queue removals) whose last 20 events form the current
  session; a prompt (its vector is injected so no encoder is loaded) and a blocklist (2 artists,
  1 genre, 1 folder).

What it times: ``RecommendService.recommend(10, [], None)`` — exactly what ``Engine.up_next``
calls to fill an empty queue to 10 entries: read the settings and the history from SQLite, build
the user model, score every track (``matrix @ w_u + b``), ``argpartition``, walk the queue rules,
write a reason per entry. The catalog (matrix + metadata) is loaded once, as in the app. The
first fills are warm-up; then ``--fills`` fills are timed one by one (``time.perf_counter``).

It also times fills that each follow a newly recorded event (the history is then folded
incrementally, not re-read). Then, for comparison under the same load, ``--fills`` calls of each, in
runs of 25 taken in turn: a fill, the exact ``matrix @ w`` (the floor an exact fill pays: 150 MB of
float32 read once), the int8 first pass alone and the taste scores as the fill gets them (first pass
+ exact rescoring of the best rows, recommend/first_pass.py) — the fill's p99 over the floor's comes
from these interleaved runs. Then the fill and the floor each after 100 ms of sleep, as a fill in
the app comes (after a track, not after another fill): what the caches hold then is not theirs.
Last, the overlap of the top 50 with the exact
ranking over 50 user vectors (taste) and 20 sessions (the generator's scores), and over 10 of the user
vectors with their 1,500 best tracks blocked (the rows the queue then walks, below the rescored best).
With ``--load``, a child process keeps both cores busy while everything is timed: the product's text
encoder embedding batches of 32 texts, either as the app's first embed runs it (``embed``: its
onnxruntime threads and its worker thread lowered, player_plugin/priority.py) or as another
program's job at normal priority (``other``).
The database is built in a child process, so the peak RSS is the engine's: loading the catalog and filling (taken before
the comparison reads the whole matrix into memory; the engine keeps a library this big in a private
file, player_plugin/matrix_file.py).

Prints a table and ends with one JSON line:
``{"tracks": 100000, "load": "none", "p50_ms": a, "p99_ms": b, "floor_p99_ms": c, "after_event_p99_ms": a2,
"after_idle_p50_ms": i, "floor_after_idle_p50_ms": j, "fill_beside_floor_p99_ms": d,
"ratio_p99": d / c, "first_pass": true, "overlap_top50": e, "overlap_top50_blocked": e2,
"generator_overlap_top50": f, "rss_mb": g}``
(overlaps: the worst user vector or session; RSS = peak resident set size).
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from player_plugin.models import Event, EventKind, TrackTags  # noqa: E402
from player_plugin.recommend.seq2seq_rec import mapped_library  # noqa: E402
from player_plugin.recommend.service import RecommendService  # noqa: E402
from player_plugin.store import (  # noqa: E402
    Database,
    EventRepository,
    SettingsRepository,
    TrackRepository,
    VectorRepository,
)
from player_plugin.store.tracks import ScannedFile  # noqa: E402

INTERLEAVE_RUN = 25  # calls of one measure in a row before the next measure's turn
# A fill in the app follows a pause (a track playing), not another fill: after this long the caches hold
# other things, and each of the fill and the floor is timed this many times after one
IDLE_GAP_S, IDLE_CALLS = 0.1, 40
BLOCKED_TOP = 1_500  # the overlap with a blocklist holding each user's best tracks: more than the first pass rescores
MODEL = "bench-384"
GENRES = [f"Genre {i}" for i in range(40)]
# e5-small's track vectors share one direction: their mean has norm 0.92 (yes + listens-dev, 121,679 tracks),
# so each is about 0.92 of it plus a residual of norm ~0.39 that tells tracks apart
SHARED, RESIDUAL = 0.92, 0.39
WORDS = [
    "rain",
    "night",
    "city",
    "river",
    "light",
    "summer",
    "heart",
    "road",
    "fire",
    "glass",
    "ocean",
    "dream",
    "shadow",
    "silver",
    "morning",
]


def build(db_path: Path, n: int, dim: int, n_events: int, now: float) -> tuple[Database, np.ndarray]:
    rng = np.random.default_rng(0)
    pyrng = random.Random(0)
    db = Database(db_path)
    tracks, vectors, settings = TrackRepository(db), VectorRepository(db), SettingsRepository(db)
    n_artists = max(1, n // 12)  # ~8,300 artists for 100k tracks
    styles = rng.standard_normal((200, dim)).astype(np.float32)
    shared = rng.standard_normal(dim).astype(np.float32)
    shared /= np.linalg.norm(shared)
    artist_style = rng.integers(0, len(styles), n_artists)
    ids = np.zeros(n, dtype=np.int64)
    t0 = time.perf_counter()
    with db.transaction():
        for i in range(n):
            a = int(rng.integers(0, n_artists))
            artists = (f"Artist {a}",) if i % 17 else (f"Artist {a}", f"Artist {(a * 7 + 1) % n_artists}")
            title = f"{pyrng.choice(WORDS).title()} {pyrng.choice(WORDS)} {i}"
            if i % 50 == 1:
                title = f"{title} (Live)"
            elif i % 50 == 2:
                title = f"{title} - 2011 Remaster"
            tags = TrackTags(
                title=title,
                artists=artists,
                album=f"Album {a}-{i % 5}",
                genres=(GENRES[int(artist_style[a]) % len(GENRES)],),
                duration_s=float(rng.integers(90, 480)),
            )
            path = f"/music/Artist {a}/Album {a}-{i % 5}/{i:06d} {title}.mp3"
            ids[i] = tracks.insert(ScannedFile(path, 1000 + i, i, "", tags, None, None), now=now, reattach=False)
            v = styles[artist_style[a]] + 0.8 * rng.standard_normal(dim).astype(np.float32)
            v = SHARED * shared + RESIDUAL * v / np.linalg.norm(v)
            vectors.put(int(ids[i]), MODEL, v / np.linalg.norm(v), "bench")
    t_tracks = time.perf_counter() - t0

    # History: listens over the last 30 days (30 more per 2,000 events beyond the first 2,000), then a
    # current session of 20 events at the end. Every event lies before the session, none in the future.
    events: list[tuple[int, str, float | None, float]] = []
    favourites = rng.choice(ids, 300, replace=False)
    span = 30 * 86400 * max(1.0, n_events / 2000)
    ts = now - 10 * 180 - 3600 - span
    mean_gap = 0.9 * span / max(1, (n_events - 20) // 2)  # two events per listen
    while len(events) < n_events - 20:
        ts += float(rng.exponential(mean_gap))
        tid = int(rng.choice(favourites) if rng.random() < 0.5 else rng.choice(ids))
        events.append((tid, "play", None, ts))
        r = rng.random()
        if r < 0.6:
            events.append((tid, "complete", None, ts + 200))
        elif r < 0.9:
            events.append((tid, "skip", float(rng.integers(5, 150)), ts + 40))
        elif r < 0.95:
            events.append((tid, "like", None, ts + 100))
        elif r < 0.98:
            events.append((tid, "dislike", None, ts + 20))
        else:
            events.append((tid, "queue_remove", None, ts + 5))
    ts = now - 10 * 180 - 60  # the last event a minute ago: the session is still going on
    for i in range(10):  # the current session: 10 listens, 20 events, 3 minutes apart
        tid = int(rng.choice(favourites))
        events.append((tid, "play", None, ts + i * 180))
        events.append((tid, "skip" if i % 4 == 3 else "complete", 20.0 if i % 4 == 3 else None, ts + i * 180 + 170))
    events = events[:n_events]
    with db.transaction() as conn:
        conn.executemany(
            "INSERT INTO events (track_id, fingerprint, kind, position_s, ts, context) "
            "SELECT id, fingerprint, ?, ?, ?, '{}' FROM tracks WHERE id = ?",
            [(k, p, t, tid) for tid, k, p, t in events],
        )
    settings.set("prompt", "rainy night, mellow")
    settings.set(
        "blocklist", {"artists": ["Artist 1", "Artist 2"], "genres": ["Genre 3"], "folders": ["/music/Artist 5"]}
    )
    print(f"built {n:,} tracks + vectors in {t_tracks:.1f} s, {len(events):,} events", file=sys.stderr)
    prompt = styles[0] + 0.5 * styles[1]
    return db, (prompt / np.linalg.norm(prompt)).astype(np.float32)


LOAD_TEXTS = 32  # texts per encoder call in the load: an embed job's batch
LOADS = {
    "none": "nothing else running",
    "embed": "the app's first embed beside it (its encoder's threads and its worker lowered, as the app runs them)",
    "other": "another program's encoder on both cores at normal priority",
}


def _load_child(kind: str) -> int:
    """The load: the product's encoder embedding batches of texts until killed, on both cores; "embed"
    runs it as the app's library worker does (player_plugin/priority.py), "other" at normal priority."""
    from player_plugin.nlp.encoder import Encoder
    from player_plugin.priority import lower_this_thread

    encoder = Encoder.load(threads=2, background=kind == "embed")
    if kind == "embed":
        lower_this_thread()
    texts = [f"song number {i} about the rain and the city at night, lyrics line {i % 7}" for i in range(LOAD_TEXTS)]
    encoder.embed(texts)
    print("ready", flush=True)
    while True:
        encoder.embed(texts)


def _start_load(kind: str) -> subprocess.Popen | None:
    if kind == "none":
        return None
    child = subprocess.Popen([sys.executable, __file__, "--load-child", kind], stdout=subprocess.PIPE, text=True)
    if child.stdout is None or child.stdout.readline().strip() != "ready":
        child.kill()
        raise SystemExit(f"the {kind!r} load did not start")
    return child


def _percentiles(ms: list[float]) -> tuple[float, float]:
    return float(np.percentile(ms, 50)), float(np.percentile(ms, 99))


def _mean_min(values: list[float]) -> str:
    return f"{np.mean(values):.3f} / {min(values):.3f}"


def _interleaved(fns: dict, count: int, chunk: int) -> dict[str, list[float]]:
    """Each of ``fns`` timed ``count`` times, in runs of ``chunk`` calls taken in turn: all of them see
    the same stretches of the machine's load. Runs, not single calls, as one call changes what the
    next one finds: the floor's 150 MB read leaves the caches cold and its BLAS threads spinning."""
    names = list(fns)
    out: dict[str, list[float]] = {k: [] for k in names}
    for r in range(0, count, chunk):
        turn = r // chunk % len(names)
        for k in names[turn:] + names[:turn]:
            for _ in range(min(chunk, count - r)):
                t0 = time.perf_counter()
                fns[k]()
                out[k].append((time.perf_counter() - t0) * 1000)
    return out


def _after_idle(fns: dict, count: int, gap_s: float) -> dict[str, list[float]]:
    """Each of ``fns`` timed ``count`` times, each call after ``gap_s`` of sleep, taken in turn."""
    out: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(count):
        for k, fn in fns.items():
            time.sleep(gap_s)
            t0 = time.perf_counter()
            fn()
            out[k].append((time.perf_counter() - t0) * 1000)
    return out


def _timed(fn, count: int) -> list[float]:
    out = []
    for _ in range(count):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tracks", type=int, default=100_000)
    ap.add_argument("--dim", type=int, default=384)
    ap.add_argument("--events", type=int, default=2_000)
    ap.add_argument("--fills", type=int, default=300)
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--db", type=Path, help="keep the built database here (default: a temporary folder)")
    ap.add_argument(
        "--load",
        choices=list(LOADS),
        default="none",
        help="what runs beside the fills: " + "; ".join(f"{k}: {v}" for k, v in LOADS.items()),
    )
    ap.add_argument("--build-only", action="store_true", help=argparse.SUPPRESS)  # the child that builds
    ap.add_argument("--load-child", choices=["embed", "other"], help=argparse.SUPPRESS)  # the child that loads
    args = ap.parse_args(argv)
    if args.load_child:
        return _load_child(args.load_child)

    now = 1_750_000_000.0
    if args.build_only:
        db, prompt_vec = build(args.db, args.tracks, args.dim, args.events, now)
        db.close()
        np.save(args.db.with_suffix(".prompt.npy"), prompt_vec)
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        db_path = args.db or Path(tmp) / "bench.db"
        for stale in (db_path, db_path.with_suffix(".prompt.npy")):
            stale.unlink(missing_ok=True)
        # built in a child process, so this one's peak RSS is the engine's alone (loading, fills)
        child = [sys.executable, __file__, "--build-only", "--db", str(db_path), "--tracks", str(args.tracks)]
        child += ["--dim", str(args.dim), "--events", str(args.events)]
        subprocess.run(child, check=True)
        prompt_vec = np.load(db_path.with_suffix(".prompt.npy"))
        db = Database(db_path)

        def no_encoder():
            raise AssertionError("the bench injects the prompt vector; no encoder should load")

        svc = RecommendService(db, no_encoder, lambda: MODEL, clock=lambda: now)
        # what prompt_vector would have computed (the query, its request offset removed) for this library
        svc._prompt_vec = (MODEL, svc.prompt, svc.catalog().n, prompt_vec)

        t0 = time.perf_counter()
        first = svc.recommend(10, [], None)
        t_first = (time.perf_counter() - t0) * 1000
        assert len(first) == 10 and all(e.reason for e in first), first
        load = _start_load(args.load)
        try:
            return _measure(args, svc, db, prompt_vec, first, t_first)
        finally:
            if load is not None:
                load.kill()
                load.wait()


def _measure(args, svc, db, prompt_vec, first, t_first) -> int:
    """The timings, the side-by-side comparison and the overlaps; prints the table and the JSON line."""
    now = svc.clock()
    for _ in range(args.warmup):
        svc.recommend(10, [], None)
    times = _timed(lambda: svc.recommend(10, [], None), args.fills)
    events, after_event = EventRepository(db), []
    some = [int(t) for t in svc.catalog().ids[:: max(1, args.tracks // 997)][: args.fills // 3]]
    for i, tid in enumerate(some):
        events.record(Event(tid, EventKind.PLAY if i % 2 == 0 else EventKind.COMPLETE, None, now - 60 + i * 0.01))
        t0 = time.perf_counter()
        svc.recommend(10, [], None)
        after_event.append((time.perf_counter() - t0) * 1000)
    # the engine's peak: before the comparison below reads the whole matrix into memory
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    # Side by side under the same load: the exact float32 product every fill paid before (the floor
    # of an exact fill, over the matrix in memory as it was then), the int8 first pass alone, and the
    # taste scores as the fill now gets them (first pass + exact rescoring of the best rows, read
    # from the library's file), over user vectors of this library.
    index = svc.index()
    stored = index.catalog.matrix
    in_file = not isinstance(stored, np.ndarray)
    matrix = stored[:]  # the whole matrix, in memory
    first_pass = index._first_pass[0] if index._first_pass else None
    rng = np.random.default_rng(1)
    users = [prompt_vec] + [v / np.linalg.norm(v) for v in matrix[rng.choice(len(matrix), 49)] + 0.3]
    w = users[0]
    # interleaved in runs, the order rotating: every measure sees the same stretches of the machine's
    # load, so their ratio is not one measure's luck against another's
    measures = {
        "fill": lambda: svc.recommend(10, [], None),
        "floor": lambda: matrix @ w,
        "first": (lambda: first_pass.scores(w)) if first_pass else None,
        "taste": lambda: index.taste(w),
    }
    rounds = _interleaved({k: f for k, f in measures.items() if f is not None}, args.fills, INTERLEAVE_RUN)
    floor, first_only, taste = rounds["floor"], rounds.get("first", []), rounds["taste"]
    after_idle = _after_idle({"fill": measures["fill"], "floor": measures["floor"]}, IDLE_CALLS, IDLE_GAP_S)
    overlaps = []
    for u in users:  # the top 50 of the exact ranking vs the first pass's
        exact_top = set(np.argsort(-(matrix @ u))[:50].tolist())
        overlaps.append(len(exact_top & set(np.argsort(-index.taste(u)[0])[:50].tolist())) / 50)
    # ... and with a blocklist holding each user's 1,500 best tracks: Up Next then walks rows far below
    # the best 1,000, which the first pass still rescores (the blocked rows are passed over)
    blocked_overlaps = []
    for u in users[:10]:
        exact = matrix @ u
        blocked = np.sort(np.argsort(-exact)[:BLOCKED_TOP])
        exact[blocked] = -np.inf
        got = index.taste(u, None, None, blocked)[0]
        got[blocked] = -np.inf
        exact_top = set(np.argsort(-exact)[:50].tolist())
        blocked_overlaps.append(len(exact_top & set(np.argsort(-got)[:50].tolist())) / 50)
    # the generator's scores as the fill gets them (folded into the first pass) vs its exact map
    gen_overlaps = []
    generator = svc.generator()
    if generator is not None:
        side, mapped = index.generator_side(generator), mapped_library(generator, matrix)
        for _ in range(20):
            q = side.query(rng.choice(len(matrix), 8, replace=False))
            exact_top = set(np.argsort(-(mapped @ q))[:50].tolist())
            got = index.taste(w, None, side.for_fill(q, first_pass))[1]
            gen_overlaps.append(len(exact_top & set(np.argsort(-got)[:50].tolist())) / 50)
    db.close()

    p50, p99 = _percentiles(times)
    f50, f99 = _percentiles(floor)
    s50, s99 = _percentiles(rounds["fill"])
    both = "{:.2f} / {:.2f} ms".format
    rows = [
        ("tracks", f"{args.tracks:,}"),
        ("dim", str(args.dim)),
        ("events", f"{args.events:,}"),
        ("load beside the fills", args.load),
        ("first fill (loads the catalog)", f"{t_first:.1f} ms"),
        ("fills timed", str(len(times))),
        ("fill of 10, p50 / p99", both(p50, p99)),
        ("fill after a new event, p50 / p99", both(*_percentiles(after_event))),
        ("exact matrix @ w (the floor), p50 / p99", both(f50, f99)),
        ("int8 first pass alone, p50 / p99", both(*_percentiles(first_only)) if first_only else "off"),
        ("taste: first pass + rescoring, p50 / p99", both(*_percentiles(taste))),
        ("fill beside the floor, p50 / p99", both(s50, s99)),
        ("fill p99 / floor p99 (interleaved)", f"{s99 / f99:.2f}x"),
        (f"fill after {IDLE_GAP_S * 1000:.0f} ms idle, p50 / p99", both(*_percentiles(after_idle["fill"]))),
        (f"floor after {IDLE_GAP_S * 1000:.0f} ms idle, p50 / p99", both(*_percentiles(after_idle["floor"]))),
        ("top-50 overlap with exact, mean / min", _mean_min(overlaps)),
        ("generator's top-50 overlap, mean / min", _mean_min(gen_overlaps) if gen_overlaps else "no generator"),
        (f"overlap with the best {BLOCKED_TOP:,} blocked, mean / min", _mean_min(blocked_overlaps)),
        ("float32 matrix", "in a private file" if in_file else "in memory"),
        ("peak RSS (loading + fills)", f"{rss_mb:.0f} MB"),
    ]
    width = max(len(k) for k, _ in rows)
    for k, v in rows:
        print(f"{k:<{width}}  {v:>18}")
    print("sample entries:", "; ".join(e.reason for e in first[:3]), file=sys.stderr)
    line = {
        "tracks": args.tracks,
        "load": args.load,
        "p50_ms": round(p50, 2),
        "p99_ms": round(p99, 2),
        "floor_p99_ms": round(f99, 2),
    }
    line["after_event_p99_ms"] = round(_percentiles(after_event)[1], 2)
    line["after_idle_p50_ms"] = round(_percentiles(after_idle["fill"])[0], 2)
    line["floor_after_idle_p50_ms"] = round(_percentiles(after_idle["floor"])[0], 2)
    line |= {"fill_beside_floor_p99_ms": round(s99, 2), "ratio_p99": round(s99 / f99, 2)}
    line |= {"first_pass": first_pass is not None, "overlap_top50": round(float(min(overlaps)), 3)}
    line["overlap_top50_blocked"] = round(float(min(blocked_overlaps)), 3)
    if gen_overlaps:
        line["generator_overlap_top50"] = round(float(min(gen_overlaps)), 3)
    print(json.dumps(line | {"rss_mb": round(rss_mb)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
