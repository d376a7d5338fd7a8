"""The replay task (FORMAT.md): each listener's own history replayed, every recommender scored per listener
and as the macro average over listeners (each listener counts once), in the views ``all`` and ``new``.

``upnext`` is the product's Engine (:mod:`.replay_engine`); the personal baselines are
:mod:`.replay_baselines`. ``compare`` gives a macro NDCG difference with a 95 % interval from a
bootstrap over points within listeners (each listener's points resampled, the listener kept).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from player_plugin.evaluation import replay_baselines as rb
from player_plugin.evaluation.evaluate import _mean, comparisons, format_comparisons, table_rows
from player_plugin.evaluation.histories import HistoryDataset
from player_plugin.evaluation.metrics import METRIC_NAMES, K, all_metrics
from player_plugin.evaluation.replay_task import TASK, ReplayTaskConfig, library_of, replay_points

REPLAY_VIEWS = ("all", "new")
BASELINES = ("random", "popularity", "recency", "transitions", "session-knn", "content")
REPLAY_RECOMMENDERS = (*BASELINES, "upnext", "upnext-noseq2seq")
DEFAULT_REPLAY = ("random", "popularity", "recency", "transitions", "session-knn", "content", "upnext")
BOOTSTRAP_DRAWS = 2000
TUNE_SHARE = 0.8  # period "tune": each listener's first 80 % of points; "rest": the other 20 %
PERIODS = ("all", "tune", "rest")


def _ranker(name: str, history, rows, library, dataset, vectors, model_id, seed, engine_settings):
    n = len(library)
    if name == "random":
        return rb.RandomRanker(history, rows, n, seed)
    if name == "popularity":
        return rb.PopularityRanker(history, rows, n)
    if name == "recency":
        return rb.RecencyRanker(history, rows, n)
    if name == "transitions":
        return rb.TransitionsRanker(history, rows, n)
    if name == "session-knn":
        return rb.SessionKnnRanker(history, rows, n)
    if vectors is None:
        raise ValueError(f"the {name} recommender needs track vectors")
    lib_vectors = vectors[library]
    if name == "content":
        return rb.ContentRanker(history, rows, n, lib_vectors)
    if name in ("upnext", "upnext-noseq2seq"):
        from player_plugin.evaluation.replay_engine import EngineReplay

        upnext = name == "upnext"
        return EngineReplay(
            history, rows, library, dataset, lib_vectors, model_id, generator=upnext, settings=engine_settings
        )
    raise ValueError(f"unknown recommender {name!r}; known: {', '.join(REPLAY_RECOMMENDERS)}")


def evaluate_replay(
    dataset: HistoryDataset,
    names: Sequence[str],
    *,
    vectors: np.ndarray | None = None,
    model: str | None = None,
    users: Sequence[str] | None = None,
    k: int = K,
    seed: int = 0,
    task: ReplayTaskConfig = TASK,
    compare: Sequence[tuple[str, str]] = (),
    progress: Callable[[str], None] | None = None,
    period: str = "all",
    engine_settings: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """``period`` "tune" scores each listener's first 80 % of points only (tune there), "rest" the others.
        ``engine_settings``: recommender settings stored in the upnext engine's library, as a user would.
    ``{"dataset", "task": "replay", "model", "results": {rec: {view: metrics}}, "users": {user: {rec:
        {view: metrics}}}}``; ``results`` are macro averages over the listeners with points in the view."""
    if period not in PERIODS:
        raise ValueError(f"unknown period {period!r}; expected one of {', '.join(PERIODS)}")
    unknown = sorted({n for pair in compare for n in pair} - set(names))
    if unknown:
        raise ValueError(f"cannot compare recommenders that are not evaluated: {', '.join(unknown)}")
    chosen = list(users) if users else list(dataset.histories)
    missing = [u for u in chosen if u not in dataset.histories]
    if missing:
        raise ValueError(f"no listener {', '.join(missing)} in {dataset.name} (there: {', '.join(dataset.histories)})")
    per_user: dict[str, dict[str, Any]] = {}
    per_point: dict[str, dict[str, dict[str, list[float]]]] = {}  # user -> rec -> view -> ndcg per point
    for user in chosen:
        history = dataset.histories[user]
        library, rows = library_of(history, seed)
        points = replay_points(history, rows, task)
        cut = int(round(TUNE_SHARE * len(points)))
        points = points[:cut] if period == "tune" else points[cut:] if period == "rest" else points
        per_user[user], per_point[user] = {}, {}
        for name in names:
            t0 = time.perf_counter()
            ranker = _ranker(name, history, rows, library, dataset, vectors, model, seed, engine_settings)
            scored: dict[str, list[dict[str, float]]] = {v: [] for v in REPLAY_VIEWS}
            try:
                for p in points:
                    ranker.advance(p.index)
                    ranked = ranker.rank(p, k)
                    scored["all"].append(all_metrics(ranked, set(p.targets.tolist()), k))
                    if len(p.new_targets):
                        scored["new"].append(all_metrics(ranked, set(p.new_targets.tolist()), k))
            finally:
                close = getattr(ranker, "close", None)
                if close:
                    close()
            per_user[user][name] = {v: _mean(scored[v], k) for v in REPLAY_VIEWS}
            per_point[user][name] = {v: [r[f"ndcg@{k}"] for r in scored[v]] for v in REPLAY_VIEWS}
            if progress:
                ndcg = per_user[user][name]["all"][f"ndcg@{k}"]
                progress(
                    f"{user} {name}: {len(points)} points, NDCG@{k} {ndcg if ndcg is None else round(ndcg, 4)}, "
                    f"{time.perf_counter() - t0:.1f}s"
                )
    results = {name: {v: _macro([per_user[u][name][v] for u in chosen], k) for v in REPLAY_VIEWS} for name in names}
    out: dict[str, Any] = {
        "dataset": dataset.name,
        "task": "replay",
        "model": model,
        "results": results,
        "users": per_user,
    }
    if compare:
        out["comparisons"] = comparisons(
            compare,
            REPLAY_VIEWS,
            k,
            lambda a, b, view: macro_difference(
                {u: (per_point[u][a][view], per_point[u][b][view]) for u in chosen}, seed=seed
            ),
        )
    return out


def _macro(rows: Sequence[Mapping[str, Any]], k: int) -> dict[str, Any]:
    """The mean over listeners of each metric (listeners without points in the view left out)."""
    with_points = [r for r in rows if r["points"]]
    out: dict[str, Any] = {}
    for m in METRIC_NAMES:
        key = f"{m}@{k}"
        out[key] = float(np.mean([r[key] for r in with_points])) if with_points else None
    out["points"] = int(sum(r["points"] for r in rows))
    out["listeners"] = len(with_points)
    return out


def macro_difference(
    pairs: Mapping[str, tuple[Sequence[float], Sequence[float]]], *, n_boot: int = BOOTSTRAP_DRAWS, seed: int = 0
) -> dict[str, Any]:
    """Macro mean of a − b (per listener: the mean over their points; then the mean over listeners) and
    its 95 % interval, resampling each listener's points with replacement (listeners are not resampled:
    the macro average is over these listeners)."""
    diffs = {u: np.asarray(a, np.float64) - np.asarray(b, np.float64) for u, (a, b) in pairs.items() if len(a)}
    if not diffs:
        return {"difference": None, "ci95": None, "listeners": 0, "points": 0}
    rng = np.random.default_rng(seed)
    draws = np.zeros(n_boot)
    for d in diffs.values():
        draws += d[rng.integers(0, len(d), size=(n_boot, len(d)))].mean(axis=1)
    draws /= len(diffs)
    lo, hi = np.percentile(draws, [2.5, 97.5])
    return {
        "difference": float(np.mean([d.mean() for d in diffs.values()])),
        "ci95": [float(lo), float(hi)],
        "listeners": len(diffs),
        "points": int(sum(len(d) for d in diffs.values())),
    }


def format_replay(result: Mapping[str, Any], k: int = K) -> str:
    """The macro table, then one line per listener and recommender (NDCG@k all / new, points)."""
    names = list(result["results"])
    w = max(len("recommender"), *map(len, names))
    cols = [f"{m}@{k}" for m in ("ndcg", "precision", "recall", "hit")]
    short = ["NDCG", "P", "R", "Hit"]
    head = f"{'recommender':<{w}}  " + "  ".join(
        " ".join(f"{s + '@' + str(k):>7}" for s in short) + f" {'points':>6}" for _ in REPLAY_VIEWS
    )
    lines = [
        f"dataset: {result['dataset']}  task: replay  model: {result.get('model') or '-'}",
        f"{'':<{w}}  " + "  ".join(f"{v:<{8 * len(cols) + 6}}" for v in REPLAY_VIEWS).rstrip(),
        head,
        "-" * len(head),
    ]
    lines += table_rows(result["results"], REPLAY_VIEWS, cols, w, 7)
    lines.append("")
    lines.append(f"per listener, NDCG@{k} all / new (points):")
    for user, recs in result["users"].items():
        parts = []
        for name in names:
            a, n = recs[name]["all"], recs[name]["new"]
            fa = "-" if a[f"ndcg@{k}"] is None else f"{a[f'ndcg@{k}']:.4f}"
            fn = "-" if n[f"ndcg@{k}"] is None else f"{n[f'ndcg@{k}']:.4f}"
            parts.append(f"{name} {fa}/{fn}")
        lines.append(
            f"  {user} ({recs[names[0]]['all']['points']}/{recs[names[0]]['new']['points']}): " + ", ".join(parts)
        )
    if result.get("comparisons"):
        lines.append(format_comparisons(result))
    return "\n".join(lines)
