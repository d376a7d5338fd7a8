"""The replay task (FORMAT.md, second part): history folders, points, baselines, the real engine, the CLI."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from player_plugin.evaluation.dataset import DatasetError
from player_plugin.evaluation.histories import load_histories
from player_plugin.evaluation.replay import macro_difference
from player_plugin.evaluation.replay_baselines import PopularityRanker, SessionKnnRanker, TransitionsRanker
from player_plugin.evaluation.replay_task import ReplayPoint, ReplayTaskConfig, library_of, replay_points

GAP = 1800


def write_history(folder, listens, n_tracks=40):
    folder.mkdir(parents=True, exist_ok=True)
    lines = ["track_id\ttitle\tartist\talbum\tgenre\ttags"]
    lines += [f"t{i}\tSong {i}\tArtist {i % 5}\tAlbum {i % 7}\t\t" for i in range(n_tracks)]
    (folder / "tracks.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with open(folder / "listens.jsonl", "w", encoding="utf-8") as f:
        for row in listens:
            f.write(json.dumps(row) + "\n")
    return folder


def listen(user, ts, track, **kw):
    return {"user": user, "ts": ts, "track_id": f"t{track}", **kw}


def test_history_folder_reads_the_skip_rule_and_refuses_bad_lines(tmp_path):
    rows = [
        listen("a", 100, 1, ms_played=200_000, skipped=False, reason_end="trackdone"),
        listen("a", 400, 2, ms_played=40_000, skipped=True),  # flagged
        listen("a", 500, 3, ms_played=60_000, reason_end="fwdbtn"),  # the next button
        listen("a", 600, 4, ms_played=12_000),  # under 30 s
        listen("a", 700, 5),  # nothing known: played
        listen("b", 50, 1, ms_played=None),
    ]
    ds = load_histories(write_history(tmp_path / "h", rows))
    a = ds.histories["a"]
    assert a.skipped.tolist() == [False, True, True, True, False]
    assert a.ms_played.tolist() == [200_000, 40_000, 60_000, 12_000, -1]
    assert len(ds.histories["b"]) == 1 and ds.n_tracks == 40
    with pytest.raises(DatasetError, match=r"listens.jsonl:2: a's listens are not in time order"):
        load_histories(write_history(tmp_path / "o", [listen("a", 100, 1), listen("a", 99, 2)]))
    with pytest.raises(DatasetError, match=r"listens.jsonl:1: track_id 't99' is not in tracks.tsv"):
        load_histories(write_history(tmp_path / "u", [listen("a", 100, 99)]))
    (tmp_path / "x").mkdir()
    with pytest.raises(DatasetError, match="missing"):
        load_histories(tmp_path / "x")


def test_points_follow_the_task_exactly(tmp_path):
    # 50 listens: 40 warm-up, points at 40, 45 (every 5 here), context 4, targets <= 3, min 2
    cfg = ReplayTaskConfig(every=5, context=4, targets=3, min_targets=2)
    tracks = list(range(40)) + [0, 41 % 40, 2, 2, 3, 5, 6, 7, 8, 9]
    ts = [i * 60 for i in range(50)]
    ts[46:] = [t + 2 * GAP for t in ts[46:]]  # a session ends after listen 45
    skipped = [False] * 50
    skipped[42] = True
    rows = [listen("a", t, tr, skipped=s) for t, tr, s in zip(ts, tracks, skipped, strict=True)]
    ds = load_histories(write_history(tmp_path / "h", rows))
    h = ds.histories["a"]
    library, lrow = library_of(h)
    assert (library[lrow] == h.tracks).all() and len(library) == 40
    pts = replay_points(h, lrow, cfg)
    assert [p.index for p in pts] == [40]  # the point at 45 has one target left in its session
    p = pts[0]
    assert p.now == ts[40] and library[p.context].tolist() == [36, 37, 38, 39]
    # from 40 on: 0 played, 1 played, 2 skipped (not a target), 2 again played, 3 played -> first 3 distinct
    assert library[p.targets].tolist() == [0, 1, 2]
    assert p.new_targets.tolist() == []  # every one was heard in the warm-up

    many = [listen("a", i * 60, i % 40) for i in range(2000)]
    ds = load_histories(write_history(tmp_path / "m", many))
    h = ds.histories["a"]
    pts = replay_points(h, library_of(h)[1], ReplayTaskConfig(every=1, max_points=50))
    assert len(pts) == 50 and pts[0].index == 1600 and pts[-1].index == 1997  # the last with 3 targets left


def test_personal_baselines_learn_only_from_the_past(tmp_path):
    # a habit: 7 -> 8 -> 9, then 7 again at the point
    seq = [7, 8, 9, 1, 7, 8, 9, 2, 7, 8, 3, 4]
    ts = [i * 60 for i in range(len(seq))]
    ts[4:] = [t + 2 * GAP for t in ts[4:]]
    ts[8:] = [t + 2 * GAP for t in ts[8:]]
    skipped = [False] * len(seq)
    skipped[5] = True  # one 7 -> 8 was a skip of 8
    rows = [listen("a", t, s, skipped=k) for t, s, k in zip(ts, seq, skipped, strict=True)]
    ds = load_histories(write_history(tmp_path / "h", rows))
    h = ds.histories["a"]
    library, lrow = library_of(h)
    row = {int(t): r for r, t in enumerate(library.tolist())}
    point = ReplayPoint(9, float(ts[9]), lrow[8:9], lrow[9:10], lrow[9:10][:0])  # context: the third 7
    pop = PopularityRanker(h, lrow, len(library))
    pop.advance(9)
    assert pop.counts[row[7]] == 3 and pop.counts[row[8]] == 1  # the skipped 8 does not count
    tr = TransitionsRanker(h, lrow, len(library))
    tr.advance(9)
    scores = tr.scores(point)
    # plays before the point: 7 8 9 1 7 9 2 7 (the second 8 was skipped, so it follows nothing)
    assert scores[row[9]] == pytest.approx(1 / 2 + 1 / 5 + 1)  # 2 and 5 plays after the first 7, 1 after the second
    assert scores[row[8]] == pytest.approx(1.0) and scores[row[1]] == pytest.approx(1 / 3)
    top = tr.rank(point, 3)
    assert row[7] not in top.tolist()  # never a context track
    knn = SessionKnnRanker(h, lrow, len(library))
    knn.advance(9)
    assert len(knn.sessions) == 2  # the point's own session is not a past one
    assert knn.scores(point)[row[9]] == 2.0  # both past sessions hold 7 and 9
    assert knn.scores(point)[row[3]] == 0.0  # 3 comes after the point


def test_macro_difference_averages_listeners_not_points():
    pairs = {"a": ([1.0] * 100, [0.0] * 100), "b": ([0.0] * 4, [0.0] * 4)}
    out = macro_difference(pairs)
    assert out["difference"] == pytest.approx(0.5) and out["ci95"] == [pytest.approx(0.5), pytest.approx(0.5)]
    assert out["listeners"] == 2 and out["points"] == 104
    noisy = macro_difference({"a": (np.r_[np.ones(50), np.zeros(50)], np.zeros(100))})
    lo, hi = noisy["ci95"]
    assert lo < 0.5 < hi and hi - lo < 0.3


def _unit_vectors(n, dim=384, seed=0):
    v = np.random.default_rng(seed).normal(size=(n, dim)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_upnext_is_the_real_engine_fed_through_the_host_calls(tmp_path):
    from player_plugin.evaluation.replay_engine import EngineReplay

    rng = np.random.default_rng(3)
    rows, t = [], 0
    for _ in range(300):
        t += int(rng.choice([200, 240, 5 * GAP]))
        rows.append(listen("a", t, int(rng.integers(0, 40)), ms_played=int(rng.choice([5_000, 200_000]))))
    ds = load_histories(write_history(tmp_path / "h", rows))
    h = ds.histories["a"]
    library, lrow = library_of(h)
    vectors = _unit_vectors(ds.n_tracks)[library]
    replay = EngineReplay(h, lrow, library, ds, vectors, "multilingual-e5-small", generator=False)
    try:
        pts = replay_points(h, lrow, ReplayTaskConfig(every=3, min_targets=1))
        assert pts
        replay.advance(pts[0].index)
        kinds = dict(replay.engine.db.conn.execute("SELECT kind, COUNT(*) FROM events GROUP BY kind").fetchall())
        n = pts[0].index
        assert kinds.get("play") == n and kinds.get("skip", 0) + kinds.get("complete", 0) == n
        assert kinds.get("skip") == int(h.skipped[:n].sum())  # a 5 s play is a skip, through track_ended
        last = replay.engine.db.conn.execute("SELECT MAX(ts) FROM events").fetchone()[0]
        assert last <= pts[0].now  # nothing from the future
        ranked = replay.rank(pts[0], 10)
        assert 0 < len(ranked) <= 10 and not set(ranked.tolist()) & set(pts[0].context.tolist())
        assert set(ranked.tolist()) <= set(range(len(library)))
    finally:
        replay.close()


def test_cli_replay_prints_the_macro_table_and_json(tmp_path):
    rng = np.random.default_rng(5)
    rows = []
    for user in ("x", "y"):
        t = 0
        for _ in range(400):
            t += int(rng.choice([200, 5 * GAP], p=[0.9, 0.1]))
            rows.append(listen(user, t, int(rng.integers(0, 12))))
    folder = write_history(tmp_path / "h", rows)
    cmd = [sys.executable, "-m", "player_plugin.cli", "evaluate", "--replay", str(folder)]
    cmd += ["--recommenders", "random,transitions", "--compare", "transitions:random"]
    out = subprocess.run([*cmd, "--json"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["task"] == "replay" and set(result["users"]) == {"x", "y"}
    macro = result["results"]["transitions"]["all"]
    per = [result["users"][u]["transitions"]["all"]["ndcg@10"] for u in ("x", "y")]
    assert macro["ndcg@10"] == pytest.approx(np.mean(per)) and macro["points"] > 0
    assert {"ndcg@10", "precision@10", "recall@10", "hit@10", "points"} <= set(macro)
    assert [c["view"] for c in result["comparisons"]] == ["all", "new"]
    table = subprocess.run([*cmd, "--users", "x"], capture_output=True, text=True, timeout=120)
    assert table.returncode == 0 and "transitions − random, NDCG@10 all" in table.stdout and "  x (" in table.stdout
    bad = subprocess.run([*cmd[:-4], "--users", "nobody"], capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "no listener nobody" in bad.stderr and "Traceback" not in bad.stderr
