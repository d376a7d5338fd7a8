"""The evaluation harness: metrics, the FORMAT.md split, evaluation points, dataset errors, baselines."""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

import numpy as np
import pytest

from player_plugin.evaluation.baselines import (
    ContentRecommender,
    CooccurrenceRecommender,
    PopularityRecommender,
    RandomRecommender,
)
from player_plugin.evaluation.dataset import DatasetError, load_dataset, split_of, track_text
from player_plugin.evaluation.evaluate import (
    evaluate,
    evaluation_points,
    format_comparisons,
    format_table,
    main,
    paired_difference,
    playlist_points,
    top_k,
)
from player_plugin.evaluation.metrics import (
    all_metrics,
    hit_at_k,
    mrr_at_k,
    ndcg_at_k,
    precision_at_k,
    recall_at_k,
)

HEADER = "track_id\ttitle\tartist\talbum\tgenre\ttags\n"


def bucket(pid: str) -> int:
    """FORMAT.md's bucket, computed independently of the code under test."""
    return int(hashlib.sha1(pid.encode("utf-8")).hexdigest(), 16) % 10


def ids_in_bucket(wanted: set[int], n: int) -> list[str]:
    out, i = [], 0
    while len(out) < n:
        if bucket(f"p{i}") in wanted:
            out.append(f"p{i}")
        i += 1
    return out


def write_dataset(folder: Path, tracks: list[str] | str, playlists: list[dict] | str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    if isinstance(tracks, list):
        tracks = HEADER + "".join(f"{t}\tTitle {t}\tArtist {t}\t\t\t\n" for t in tracks)
    if isinstance(playlists, list):
        playlists = "".join(json.dumps(p, ensure_ascii=False) + "\n" for p in playlists)
    (folder / "tracks.tsv").write_text(tracks, encoding="utf-8")
    (folder / "playlists.jsonl").write_text(playlists, encoding="utf-8")
    return folder


# --- metrics -------------------------------------------------------------------------------------------------


def test_metrics_hand_made_case():
    ranked = [5, 1, 7, 2, 8]
    targets = {1, 2, 9}
    # hits at ranks 2 and 4
    dcg = 1 / math.log2(3) + 1 / math.log2(5)
    idcg = 1 + 1 / math.log2(3) + 1 / math.log2(4)  # three targets, all at the top
    assert ndcg_at_k(ranked, targets, 10) == pytest.approx(dcg / idcg)
    assert ndcg_at_k(ranked, targets, 10) == pytest.approx(0.49819, abs=1e-5)
    assert precision_at_k(ranked, targets, 10) == pytest.approx(0.2)
    assert recall_at_k(ranked, targets, 10) == pytest.approx(2 / 3)
    assert hit_at_k(ranked, targets, 10) == 1.0
    assert mrr_at_k(ranked, targets, 10) == pytest.approx(0.5)
    # only the first k count
    assert precision_at_k(ranked, targets, 3) == pytest.approx(1 / 3)
    assert ndcg_at_k(ranked, targets, 3) == pytest.approx((1 / math.log2(3)) / idcg)
    assert mrr_at_k(ranked, targets, 1) == 0.0
    assert hit_at_k(ranked, targets, 1) == 0.0


def test_ndcg_ideal_is_over_min_k_and_targets():
    # 12 targets, all of the top 10 are hits: perfect score although two targets are left out
    assert ndcg_at_k(list(range(10)), set(range(12)), 10) == pytest.approx(1.0)
    # one target at rank 1: perfect; at rank 3: 1/log2(4) = 0.5
    assert ndcg_at_k([4, 5, 6], {4}, 10) == pytest.approx(1.0)
    assert ndcg_at_k([5, 6, 4], {4}, 10) == pytest.approx(0.5)
    assert ndcg_at_k([5, 6, 7], {4}, 10) == 0.0


def test_all_metrics_matches_single_functions_and_numpy_input():
    ranked = np.array([3, 9, 4, 1, 0, 2])
    targets = {0, 1, 2, 3}
    m = all_metrics(ranked, targets, 5)
    assert m == {
        "precision@5": pytest.approx(precision_at_k(ranked, targets, 5)),
        "recall@5": pytest.approx(recall_at_k(ranked, targets, 5)),
        "ndcg@5": pytest.approx(ndcg_at_k(ranked, targets, 5)),
        "hit@5": 1.0,
        "mrr@5": 1.0,
    }
    assert m["precision@5"] == pytest.approx(3 / 5)
    assert m["recall@5"] == pytest.approx(3 / 4)


def test_metrics_refuse_empty_targets():
    with pytest.raises(ValueError, match="no targets"):
        ndcg_at_k([1, 2], set())


# --- split ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pid", "expected_bucket"),
    [("0", 8), ("1", 3), ("3", 9), ("4", 0), ("9", 7), ("17", 2), ("华语", 0), ("10009377589", 9)],
)
def test_split_matches_format_md(pid, expected_bucket):
    assert bucket(pid) == expected_bucket  # the literal buckets were computed with hashlib by hand
    expected = "train" if expected_bucket < 8 else ("validation" if expected_bucket == 8 else "test")
    assert split_of(pid) == expected


def test_split_agrees_with_hashlib_on_many_ids():
    for i in range(300):
        b = bucket(str(i))
        assert split_of(str(i)) == ("train" if b < 8 else "validation" if b == 8 else "test")


# --- dataset loading -----------------------------------------------------------------------------------------


def test_load_dataset_maps_ids_and_ignores_extra_columns(tmp_path):
    tsv = (
        "track_id\ttitle\tartist\talbum\tgenre\ttags\tlyrics\n"
        'x9\tSay "Hi"\tA, B\t\tPop\tchill|rnb|\tla la\n'
        "007\t夜曲\t周杰伦\t十一月的萧邦\t\t\t\n"
        "z\t\t\t\t\t\n"  # empty fields, no lyrics column at all
    )
    pls = [{"playlist_id": "3", "name": "n", "tags": ["华语"], "tracks": ["007", "x9", "007"]}]
    ds = load_dataset(write_dataset(tmp_path / "d", tsv, pls))
    assert ds.name == "d"
    assert ds.track_ids == ["x9", "007", "z"]
    assert ds.n_tracks == 3
    assert ds.playlists[0].tracks.tolist() == [1, 0, 1]
    assert ds.playlists[0].tags == ("华语",)
    assert ds.split("test")[0].playlist_id == "3"
    assert ds.track_text(0) == 'Title: Say "Hi" | Artist: A, B | Genre: Pop | Tags: chill, rnb'
    assert ds.track_text(1) == "Title: 夜曲 | Artist: 周杰伦 | Album: 十一月的萧邦"
    assert ds.track_text(2) == ""
    assert track_text("T", "A", tags=["x"]) == "Title: T | Artist: A | Tags: x"


def test_unknown_track_id_is_a_clear_error(tmp_path):
    folder = write_dataset(
        tmp_path / "d",
        ["a", "b"],
        [{"playlist_id": "1", "tracks": ["a", "b"]}, {"playlist_id": "2", "tracks": ["a", "nope", "b", "gone"]}],
    )
    with pytest.raises(DatasetError) as e:
        load_dataset(folder)
    msg = str(e.value)
    assert "playlists.jsonl:2" in msg and "'nope'" in msg and "'gone'" in msg and "2 playlist entries" in msg
    ds = load_dataset(folder, strict=False)
    assert ds.playlists[1].tracks.tolist() == [0, 1]
    assert len(ds.problems) == 1 and "playlists.jsonl:2" in ds.problems[0] and "'nope'" in ds.problems[0]


def test_malformed_json_line_is_a_clear_error(tmp_path):
    folder = write_dataset(tmp_path / "d", ["a"], '{"playlist_id": "1", "tracks": ["a"]}\n{"playlist_id": "2", "tr\n')
    with pytest.raises(DatasetError, match=r"playlists\.jsonl:2: malformed JSON"):
        load_dataset(folder)
    folder = write_dataset(tmp_path / "e", ["a"], '{"playlist_id": "1", "tracks": "a"}\n')
    with pytest.raises(DatasetError, match=r"playlists\.jsonl:1: .*'tracks' list"):
        load_dataset(folder)
    folder = write_dataset(tmp_path / "f", ["a"], '{"tracks": ["a"]}\n')
    with pytest.raises(DatasetError, match=r"playlists\.jsonl:1: playlist_id"):
        load_dataset(folder)


def test_missing_column_and_duplicate_track_are_clear_errors(tmp_path):
    folder = write_dataset(tmp_path / "d", "track_id\ttitle\tartist\talbum\tgenre\na\tt\tr\t\t\n", [])
    with pytest.raises(DatasetError, match=r"tracks\.tsv:1: header lacks column\(s\) tags"):
        load_dataset(folder)
    folder = write_dataset(tmp_path / "e", HEADER + "a\tt\t\t\t\t\nb\tt\t\t\t\t\na\tu\t\t\t\t\n", [])
    with pytest.raises(DatasetError, match=r"tracks\.tsv:4: duplicate track_id 'a' \(first on line 2\)"):
        load_dataset(folder)
    folder = write_dataset(tmp_path / "f", HEADER + "a\tt\t\t\t\t\textra\n", [])
    with pytest.raises(DatasetError, match=r"tracks\.tsv:2: 7 tab-separated fields"):
        load_dataset(folder)
    with pytest.raises(DatasetError, match="not a dataset folder"):
        load_dataset(tmp_path / "missing")


# --- evaluation points ---------------------------------------------------------------------------------------

# bucket("1") = 3 -> train; bucket("3") = 9 and bucket("10009377589") = 9 -> test; bucket("0") = 8 -> validation
TINY_TEST = list("abcdefghia" + "bxyxzwcvus" + "rqponmlkjx" + "yz")
TINY_TEST2 = list("abcdefghij" + "xyr")


def tiny_dataset(tmp_path: Path):
    letters = [chr(c) for c in range(ord("a"), ord("z") + 1)]
    padding = [f"pad{i}" for i in range(9)]  # in the library, in no playlist
    return load_dataset(
        write_dataset(
            tmp_path / "tiny",
            letters + padding,
            [
                {"playlist_id": "1", "tracks": ["x", "y", "r", "q", "a"]},
                {"playlist_id": "3", "tracks": TINY_TEST},
                {"playlist_id": "10009377589", "tracks": TINY_TEST2},
                {"playlist_id": "0", "tracks": list("abcdefghijklmnop")},
            ],
        )
    )


def test_playlist_points_context_targets_and_skip():
    pts = playlist_points(np.array([ord(c) for c in TINY_TEST]))
    as_text = [(p, "".join(map(chr, c)), "".join(map(chr, t))) for p, c, t in pts]
    assert as_text == [
        # play 10: context = first 10 plays (repeat kept); targets skip context tracks (b, c) and the repeat x
        (10, "abcdefghia", "xyzwvusrqp"),
        # play 20: x y z are in the context; only 9 distinct new tracks remain
        (20, "bxyxzwcvus", "rqponmlkj"),
        # play 30: only y, z follow and both are in the context -> fewer than 3 targets -> skipped
    ]


def test_evaluation_points_and_cold_view(tmp_path):
    ds = tiny_dataset(tmp_path)
    pts = evaluation_points(ds, "test")
    letters = lambda arr: "".join(ds.track_ids[i] for i in arr)  # noqa: E731
    got = [(p.playlist_id, p.position, letters(p.context), letters(p.targets), letters(p.cold_targets)) for p in pts]
    assert got == [
        ("3", 10, "abcdefghia", "xyzwvusrqp", "zwvusp"),  # x, y, r, q are in train playlist "1"
        ("3", 20, "bxyxzwcvus", "rqponmlkj", "ponmlkj"),
        ("10009377589", 10, "abcdefghij", "xyr", ""),  # kept in the all view, no cold target
    ]
    # validation points come from validation playlists only
    assert [p.playlist_id for p in evaluation_points(ds, "validation")] == ["0"]

    class Oracle:
        """Ranks z first, then nine tracks that are never targets (to check the averaging and the counts)."""

        def fit(self, train, dataset):
            assert [t.tolist() for t in train] == [[ds.index[c] for c in "xyrqa"]]

        def scores(self, context):
            s = np.zeros(ds.n_tracks)
            s[ds.index["z"]] = 1.0  # a cold target at point 1, in the context at point 2, not at point 3
            s[[ds.index[f"pad{i}"] for i in range(9)]] = 0.5
            return s

    res = evaluate(ds, {"oracle": Oracle()}, "test")
    r = res["results"]["oracle"]
    assert r["all"]["points"] == 3 and r["cold"]["points"] == 2
    assert r["all"]["hit@10"] == pytest.approx(1 / 3)
    assert r["cold"]["mrr@10"] == pytest.approx(1 / 2)
    assert r["cold"]["recall@10"] == pytest.approx((1 / 6) / 2)


def test_top_k_excludes_and_breaks_ties_by_index():
    s = np.array([0.5, 0.9, 0.9, 0.1, 0.7, np.nan])
    assert top_k(s, 3).tolist() == [1, 2, 4]
    assert top_k(s, 3, np.array([1, 4])).tolist() == [2, 0, 3]
    assert top_k(s, 10).tolist() == [1, 2, 4, 0, 3, 5]
    assert s[1] == 0.9  # untouched


# --- end to end ----------------------------------------------------------------------------------------------


def synthetic_dataset(tmp_path: Path, n_playlists: int = 150):
    """12 clusters of 20 tracks; each playlist walks one cluster in its fixed order, with some noise."""
    rng = np.random.default_rng(7)
    n_clusters, size = 12, 20
    track_ids = [f"t{i}" for i in range(n_clusters * size)]
    playlists = []
    for pid in [f"p{i}" for i in range(n_playlists)]:
        c = rng.integers(n_clusters)
        start = rng.integers(size)
        walk = [c * size + (start + j) % size for j in range(40)]
        walk = [w if rng.random() > 0.15 else int(rng.integers(len(track_ids))) for w in walk]
        playlists.append({"playlist_id": pid, "tracks": [track_ids[w] for w in walk]})
    ds = load_dataset(write_dataset(tmp_path / "synthetic", track_ids, playlists))
    vectors = np.eye(n_clusters, dtype=np.float32)[np.arange(len(track_ids)) // size]
    vectors += 0.3 * rng.standard_normal(vectors.shape).astype(np.float32)
    return ds, vectors


def test_end_to_end_cooccurrence_beats_random(tmp_path):
    ds, vectors = synthetic_dataset(tmp_path)
    recs = {
        "random": RandomRecommender(0),
        "popularity": PopularityRecommender(),
        "cooccurrence": CooccurrenceRecommender(),
        "content": ContentRecommender(vectors),
    }
    res = evaluate(ds, recs, "test", model="toy")
    assert res["dataset"] == "synthetic" and res["model"] == "toy"
    assert set(res["results"]) == set(recs)
    for views in res["results"].values():
        assert set(views) == {"all", "cold"}
        assert set(views["all"]) == {"precision@10", "recall@10", "ndcg@10", "hit@10", "mrr@10", "points"}
    r = res["results"]
    assert r["random"]["all"]["points"] > 20
    assert r["cooccurrence"]["all"]["ndcg@10"] > 0.5 > r["random"]["all"]["ndcg@10"] + 0.3
    assert r["content"]["all"]["ndcg@10"] > r["random"]["all"]["ndcg@10"] + 0.1
    json.dumps(res)  # plain JSON
    table = format_table(res)
    assert "cooccurrence" in table and "cold" in table and "NDCG@10" in table
    # the batched content path ranks exactly like the one-context-at-a-time path
    content = ContentRecommender(vectors)

    class OneByOne:
        fit = content.fit
        scores = content.scores

    both = evaluate(ds, {"batched": content, "single": OneByOne()}, "test")["results"]
    assert both["batched"] == both["single"] == r["content"]
    # the same split again gives the same numbers (random is seeded)
    again = evaluate(ds, {"random": RandomRecommender(0)}, "test")
    assert again["results"]["random"] == r["random"]


def test_module_entry_point_prints_json(tmp_path, capsys):
    ds, _ = synthetic_dataset(tmp_path, n_playlists=60)
    assert main(["--dataset", str(ds.path), "--recommenders", "random,popularity", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out["results"]) == {"random", "popularity"}


# --- the real datasets ---------------------------------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[1]
DATA = next((p for p in (ROOT.parent / "shared" / "data", Path("/work/shared/data")) if p.is_dir()), None)
needs_data = pytest.mark.skipif(DATA is None, reason="shared data folder (../shared/data) is absent")


@needs_data
@pytest.mark.parametrize(
    ("name", "n_tracks", "n_playlists", "n_plays"),
    [("netease-dev", 22_797, 311, 34_965), ("yes", 75_262, 1_000, 176_510)],
)
def test_real_datasets_load(name, n_tracks, n_playlists, n_plays):
    ds = load_dataset(DATA / name)
    assert ds.n_tracks == n_tracks
    assert len(ds.playlists) == n_playlists
    assert sum(len(p) for p in ds.playlists) == n_plays
    assert not ds.problems
    assert sum(len(ds.split(s)) for s in ("train", "validation", "test")) == n_playlists


@needs_data
def test_real_netease_popularity_quick():
    ds = load_dataset(DATA / "netease-dev")
    res = evaluate(ds, {"popularity": PopularityRecommender()}, "test")["results"]["popularity"]
    # point counts follow from FORMAT.md alone; they guard the extraction against silent changes
    assert res["all"]["points"] == 253 and res["cold"]["points"] == 214
    assert res["cold"]["ndcg@10"] == 0.0  # cold tracks have no train plays


def stations_dataset(tmp_path: Path):
    """Radio-like playlists: 8 stations rotate 15 tracks each, every track on 3 stations. One track
    says little about the station; ten tracks of a session say which one it is."""
    rng = np.random.default_rng(11)
    n_tracks, n_stations = 40, 8
    pools = [rng.choice(n_tracks, 15, replace=False) for _ in range(n_stations)]
    track_ids = [f"t{i}" for i in range(n_tracks)]
    playlists = []
    for i in range(240):
        pool = pools[i % n_stations]
        plays = rng.choice(pool, 40)
        playlists.append({"playlist_id": f"s{i}", "tracks": [track_ids[t] for t in plays]})
    ds = load_dataset(write_dataset(tmp_path / "stations", track_ids, playlists))
    vectors = rng.standard_normal((n_tracks, 8)).astype(np.float32)  # text that says nothing
    return ds, vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def test_upnext_session_neighbours_find_the_station(tmp_path):
    from player_plugin.evaluation.blend import UpNextRecommender

    ds, vectors = stations_dataset(tmp_path)
    recs = {
        "cooccurrence": CooccurrenceRecommender(),
        "upnext-no-neighbours": UpNextRecommender(vectors, neighbour_weight=0.0),
        "upnext": UpNextRecommender(vectors),
    }
    r = evaluate(ds, recs, "validation")["results"]
    ndcg = {name: r[name]["all"]["ndcg@10"] for name in recs}
    assert r["upnext"]["all"]["points"] > 50
    assert ndcg["upnext"] > ndcg["upnext-no-neighbours"] + 0.02
    assert ndcg["upnext"] > ndcg["cooccurrence"] + 0.02


def test_paired_difference_by_hand():
    a = np.array([0.5, 0.5, 0.2, 0.2])
    b = np.array([0.3, 0.3, 0.0, 0.0])
    same = paired_difference(a, b, ["p", "p", "q", "q"])
    assert same["difference"] == pytest.approx(0.2) and same["ci95"] == pytest.approx([0.2, 0.2])
    assert same["playlists"] == 2 and same["points"] == 4
    # one playlist gains 0.4 at two points, another loses 0.2 at one: +0.2 per point; the interval spans both fates
    mixed = paired_difference(np.array([0.4, 0.4, 0.0]), np.array([0.0, 0.0, 0.2]), ["p", "p", "q"], n_boot=4000)
    assert mixed["difference"] == pytest.approx(0.2)
    lo, hi = mixed["ci95"]
    assert lo == pytest.approx(-0.2) and hi == pytest.approx(0.4)
    assert paired_difference(np.array([]), np.array([]), [])["difference"] is None
    with pytest.raises(ValueError):
        paired_difference(a, b[:3], ["p"] * 4)


def test_evaluate_compares_pairs(tmp_path):
    ds, vectors = synthetic_dataset(tmp_path, n_playlists=80)
    recs = {"cooccurrence": CooccurrenceRecommender(), "random": RandomRecommender(0)}
    res = evaluate(ds, recs, "test", compare=[("cooccurrence", "random")])
    (all_view, cold_view) = res["comparisons"]
    assert (all_view["a"], all_view["b"]) == ("cooccurrence", "random")
    assert (all_view["view"], cold_view["view"]) == ("all", "cold")
    expected = res["results"]["cooccurrence"]["all"]["ndcg@10"] - res["results"]["random"]["all"]["ndcg@10"]
    assert all_view["difference"] == pytest.approx(expected)
    assert all_view["ci95"][0] > 0.3 and all_view["points"] == res["results"]["random"]["all"]["points"]
    assert "cooccurrence − random, NDCG@10 all: +" in format_comparisons(res)
    with pytest.raises(ValueError, match="not evaluated"):
        evaluate(ds, recs, "test", compare=[("cooccurrence", "content")])


def test_cli_evaluate_with_the_product_path_and_comparisons(tmp_path, capsys):
    from player_plugin import cli

    ds, _ = synthetic_dataset(tmp_path, n_playlists=60)
    argv = ["evaluate", "--dataset", str(ds.path), "--split", "validation", "--model", "all-minilm-l6-v2"]
    argv += ["--recommenders", "cooccurrence,upnext-noseq2seq", "--compare", "upnext-noseq2seq:cooccurrence"]
    assert cli.main([*argv, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["model"] == "all-minilm-l6-v2" and set(out["results"]) == {"cooccurrence", "upnext-noseq2seq"}
    assert [c["view"] for c in out["comparisons"]] == ["all", "cold"]
    assert cli.main(argv) == 0  # the second run reads the vectors from the cache
    text = capsys.readouterr().out
    assert "upnext-noseq2seq − cooccurrence, NDCG@10 all:" in text and "bootstrap over" in text
    assert cli.main([*argv[:-2], "--compare", "upnext-noseq2seq:content"]) == 2
    assert "--compare wants A:B" in capsys.readouterr().err
