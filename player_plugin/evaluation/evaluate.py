"""The continuation task of ``../shared/data/FORMAT.md``: evaluation points, scoring, the results table.

- Split by :func:`~player_plugin.evaluation.dataset.split_of`; recommenders are fitted on the train split only.
- In every playlist of the evaluated split, one point every 10 plays: at 0-based play index p = 10, 20, 30, …
  the context is ``tracks[p-10:p]`` (the 10 plays before, in order, repeats kept) and the targets are the next
  distinct tracks from ``tracks[p:]`` that are not in the context, up to 10, in order of first play. Points
  with fewer than 3 targets are skipped.
- The recommender ranks the whole library; the context tracks are excluded; the top 10 are scored.
- Cold view: at the same points, the targets restricted to tracks that appear in no train playlist; points
  left with no target are skipped. (The < 3 rule applies to the full target list, which defines the points.)

Run it by hand: ``python -m player_plugin.evaluation.evaluate --dataset ../shared/data/yes``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from player_plugin.evaluation.dataset import Dataset, Split, load_dataset, tracks_in
from player_plugin.evaluation.metrics import METRIC_NAMES, all_metrics

K = 10
CONTEXT = 10  # plays of context before each point
EVERY = 10  # one point every this many plays
MAX_TARGETS = 10
MIN_TARGETS = 3
VIEWS = ("all", "cold")


@runtime_checkable
class Recommender(Protocol):
    """What the harness runs.

    ``fit`` sees only the train split's playlists (arrays of track indices, play order) and the dataset (for
    its size and track metadata; never read its playlists in ``fit``). ``scores`` returns one float per library
    track for a context (track indices, oldest first); higher is better. The harness excludes the context and
    takes the top k itself, so a recommender may return a shared array: it is never written to.

    Optional, used in this order when present: ``rank(context, k, exclude) -> np.ndarray`` returning its own
    top-k track indices with ``exclude`` left out; ``scores_batch(contexts) -> np.ndarray [len(contexts),
    n_tracks]`` scoring many contexts at once (a matrix product instead of many memory-bound vector products).
    """

    def fit(self, train_playlists: Sequence[np.ndarray], dataset: Dataset) -> None: ...

    def scores(self, context: np.ndarray) -> np.ndarray: ...


@dataclass(frozen=True, slots=True)
class EvalPoint:
    """One evaluation point of one playlist."""

    playlist_id: str
    position: int  # 0-based index of the first play after the context
    context: np.ndarray  # int32, the CONTEXT plays before ``position``, oldest first
    targets: np.ndarray  # int32, distinct, in order of first play, none in the context
    cold_targets: np.ndarray  # ``targets`` restricted to tracks in no train playlist


def playlist_points(
    tracks: np.ndarray,
    *,
    context: int = CONTEXT,
    every: int = EVERY,
    max_targets: int = MAX_TARGETS,
    min_targets: int = MIN_TARGETS,
) -> list[tuple[int, np.ndarray, np.ndarray]]:
    """``(position, context, targets)`` for each evaluation point of one playlist (FORMAT.md)."""
    tracks = np.asarray(tracks)
    out = []
    for p in range(every, len(tracks), every):
        ctx = tracks[max(0, p - context) : p]
        seen = {int(t) for t in ctx}
        targets: list[int] = []
        for t in tracks[p:]:
            t = int(t)
            if t not in seen:
                seen.add(t)
                targets.append(t)
                if len(targets) == max_targets:
                    break
        if len(targets) >= min_targets:
            out.append((p, ctx.astype(np.int32), np.asarray(targets, dtype=np.int32)))
    return out


def evaluation_points(dataset: Dataset, split: Split = "test") -> list[EvalPoint]:
    """Every evaluation point of ``split``, with its cold-view targets (relative to the train split)."""
    seen_in_train = tracks_in([p.tracks for p in dataset.split("train")], dataset.n_tracks)
    points = []
    for pl in dataset.split(split):
        for pos, ctx, targets in playlist_points(pl.tracks):
            cold = targets[~seen_in_train[targets]]
            points.append(EvalPoint(pl.playlist_id, pos, ctx, targets, cold))
    return points


def top_k(scores: np.ndarray, k: int, exclude: np.ndarray | None = None) -> np.ndarray:
    """Indices of the ``k`` best scores, best first, never one in ``exclude``; ties go to the lower index.

    ``scores`` is not modified. NaN scores rank last.
    """
    scores = np.asarray(scores)
    n = scores.shape[0]
    excl = np.unique(np.asarray(exclude, dtype=np.int64)) if exclude is not None else np.empty(0, np.int64)
    m = min(n, k + len(excl))
    if m <= 0:
        return np.empty(0, dtype=np.int64)
    neg = -scores if np.issubdtype(scores.dtype, np.floating) else -scores.astype(np.float64)
    nan = np.isnan(neg)
    if nan.any():
        neg[nan] = np.inf
    cand = np.argpartition(neg, m - 1)[:m] if m < n else np.arange(n)
    if len(excl):
        cand = cand[~np.isin(cand, excl)]
    order = np.lexsort((cand, neg[cand]))
    return cand[order][:k]


BATCH = 64  # contexts per scores_batch call


def _rankings(rec: Any, contexts: Sequence[np.ndarray], k: int) -> Iterator[np.ndarray]:
    """The top-k of ``rec`` for each context, in order: via ``rank``, ``scores_batch`` or ``scores``."""
    rank = getattr(rec, "rank", None)
    batch = getattr(rec, "scores_batch", None)
    if callable(rank):
        for ctx in contexts:
            yield np.asarray(rank(ctx, k, np.unique(ctx)))[:k]
    elif callable(batch):
        for start in range(0, len(contexts), BATCH):
            chunk = contexts[start : start + BATCH]
            scores = batch(chunk)
            for ctx, row in zip(chunk, scores, strict=True):
                yield top_k(row, k, np.unique(ctx))
    else:
        for ctx in contexts:
            yield top_k(rec.scores(ctx), k, np.unique(ctx))


def _mean(rows: list[dict[str, float]], k: int) -> dict[str, float | int | None]:
    out: dict[str, float | int | None] = {}
    for m in METRIC_NAMES:
        key = f"{m}@{k}"
        out[key] = float(np.mean([r[key] for r in rows])) if rows else None
    out["points"] = len(rows)
    return out


def paired_difference(
    a: np.ndarray, b: np.ndarray, groups: Sequence[str], *, n_boot: int = 2000, seed: int = 0
) -> dict[str, Any]:
    """Mean of ``a - b`` over evaluation points and its 95% interval from a bootstrap over playlists.

    ``a`` and ``b`` hold one metric value per point (the same points, in the same order); ``groups``
    names each point's playlist. Whole playlists are resampled, since the points of one playlist are
    not independent of each other. The interval is the 2.5th..97.5th percentile of the resampled means.
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape or len(a) != len(groups):
        raise ValueError("a, b and groups must have one entry per evaluation point")
    diff = a - b
    if len(diff) == 0:
        return {"difference": None, "ci95": None, "playlists": 0, "points": 0}
    names, index = np.unique(np.asarray(groups), return_inverse=True)
    sums = np.bincount(index, weights=diff, minlength=len(names))
    counts = np.bincount(index, minlength=len(names)).astype(np.float64)
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, len(names), size=(n_boot, len(names)))
    means = sums[draws].sum(axis=1) / counts[draws].sum(axis=1)
    lo, hi = np.percentile(means, [2.5, 97.5])
    return {
        "difference": float(diff.mean()),
        "ci95": [float(lo), float(hi)],
        "playlists": len(names),
        "points": len(diff),
    }


def evaluate(
    dataset: Dataset,
    recommenders: Mapping[str, Recommender],
    split: Split = "test",
    *,
    k: int = K,
    model: str | None = None,
    fit: bool = True,
    progress: Callable[[str], None] | None = None,
    compare: Sequence[tuple[str, str]] = (),
) -> dict[str, Any]:
    """Fit each recommender on the train split and score it on ``split``.

    Returns ``{"dataset": name, "model": model, "results": {name: {"all": {...}, "cold": {...}}}}`` where each
    view holds ``precision@k``, ``recall@k``, ``ndcg@k``, ``hit@k``, ``mrr@k`` (means over the view's points;
    ``None`` when it has none) and ``points``. ``model`` names the encoder behind content vectors, if any.
    ``fit=False`` uses recommenders as they are (already fitted on this dataset's train split).
    ``compare``: pairs ``(a, b)`` of recommender names; the result then has ``"comparisons"``, one entry
    per pair and view with the NDCG@k difference a − b and its interval (:func:`paired_difference`).
    """
    unknown = sorted({n for pair in compare for n in pair} - set(recommenders))
    if unknown:
        raise ValueError(f"cannot compare recommenders that are not evaluated: {', '.join(unknown)}")
    points = evaluation_points(dataset, split)
    train = [p.tracks for p in dataset.split("train")]
    results: dict[str, Any] = {}
    per_point: dict[str, dict[str, list[float]]] = {}
    for name, rec in recommenders.items():
        t0 = time.perf_counter()
        if fit:
            rec.fit(train, dataset)
        t1 = time.perf_counter()
        rows_all: list[dict[str, float]] = []
        rows_cold: list[dict[str, float]] = []
        for pt, ranked in zip(points, _rankings(rec, [p.context for p in points], k), strict=True):
            rows_all.append(all_metrics(ranked, set(pt.targets.tolist()), k))
            if len(pt.cold_targets):
                rows_cold.append(all_metrics(ranked, set(pt.cold_targets.tolist()), k))
        results[name] = {"all": _mean(rows_all, k), "cold": _mean(rows_cold, k)}
        per_point[name] = {"all": [r[f"ndcg@{k}"] for r in rows_all], "cold": [r[f"ndcg@{k}"] for r in rows_cold]}
        if progress:
            progress(f"{name}: fit {t1 - t0:.2f}s, {len(points)} points in {time.perf_counter() - t1:.2f}s")
    out: dict[str, Any] = {"dataset": dataset.name, "model": model, "results": results}
    if compare:
        groups = {
            "all": [p.playlist_id for p in points],
            "cold": [p.playlist_id for p in points if len(p.cold_targets)],
        }
        out["comparisons"] = comparisons(
            compare,
            VIEWS,
            k,
            lambda a, b, view: paired_difference(
                np.asarray(per_point[a][view]), np.asarray(per_point[b][view]), groups[view]
            ),
        )
    return out


def comparisons(
    pairs: Sequence[tuple[str, str]],
    views: Sequence[str],
    k: int,
    difference: Callable[[str, str, str], dict[str, Any]],
) -> list[dict[str, Any]]:
    """One entry per pair and view: ``{"a", "b", "view", "metric", **difference(a, b, view)}`` (NDCG@k)."""
    return [{"a": a, "b": b, "view": v, "metric": f"ndcg@{k}", **difference(a, b, v)} for a, b in pairs for v in views]


def format_comparisons(result: Mapping[str, Any]) -> str:
    """One line per comparison: ``a − b, NDCG@10 all: +0.0049 (95% CI +0.0010 … +0.0085, 102 playlists)``."""
    lines = []
    for c in result.get("comparisons", ()):
        metric = c["metric"].replace("ndcg", "NDCG")
        if c["difference"] is None:
            lines.append(f"{c['a']} − {c['b']}, {metric} {c['view']}: no points")
            continue
        lo, hi = c["ci95"]
        over = (
            f"points within {c['listeners']} listeners" if "listeners" in c else f"{c['playlists']} playlists"
        )  # the replay task resamples points within listeners; the playlist task whole playlists
        lines.append(
            f"{c['a']} − {c['b']}, {metric} {c['view']}: {c['difference']:+.4f} "
            f"(95% CI {lo:+.4f} … {hi:+.4f}, bootstrap over {over})"
        )
    return "\n".join(lines)


def format_table(result: Mapping[str, Any], k: int = K) -> str:
    """One plain-text table of both views: a row per recommender, the all view then the cold view."""
    cols = [f"{m}@{k}" for m in METRIC_NAMES]
    short = {"precision": "P", "recall": "R", "ndcg": "NDCG", "hit": "Hit", "mrr": "MRR"}
    names = list(result["results"])
    w = max([len("recommender"), *map(len, names)])
    head1 = f"{'':<{w}}  " + "  ".join(f"{view:<{7 * len(cols) + 7 - 1}}" for view in VIEWS)
    head2 = f"{'recommender':<{w}}  " + "  ".join(
        " ".join(f"{short[m] + '@' + str(k):>6}" for m in METRIC_NAMES) + f" {'points':>6}" for _ in VIEWS
    )
    lines = [f"dataset: {result.get('dataset')}  model: {result.get('model') or '-'}", head1.rstrip(), head2]
    lines.append("-" * len(head2))
    lines += table_rows(result["results"], VIEWS, cols, w, 6)
    return "\n".join(lines)


def table_rows(
    results: Mapping[str, Any], views: Sequence[str], cols: Sequence[str], name_width: int, cell: int
) -> list[str]:
    """One line per recommender: its metrics ``cols`` and points in each view (``-`` where none)."""
    lines = []
    for name, per_view in results.items():
        cells = []
        for view in views:
            r = per_view[view]
            vals = " ".join(f"{r[c]:>{cell}.4f}" if r.get(c) is not None else f"{'-':>{cell}}" for c in cols)
            cells.append(f"{vals} {r['points']:>6d}")
        lines.append(f"{name:<{name_width}}  " + "  ".join(cells))
    return lines


RECOMMENDERS = ("random", "popularity", "cooccurrence", "content", "seq2seq", "upnext-noseq2seq", "upnext")


def build_recommenders(names: Sequence[str], *, vectors: np.ndarray | None = None, seed: int = 0) -> dict[str, Any]:
    """The baselines by name: random, popularity, cooccurrence, content (needs ``vectors``)."""
    from player_plugin.evaluation import baselines

    out: dict[str, Any] = {}
    for name in names:
        if name == "random":
            out[name] = baselines.RandomRecommender(seed)
        elif name == "popularity":
            out[name] = baselines.PopularityRecommender()
        elif name == "cooccurrence":
            out[name] = baselines.CooccurrenceRecommender()
        elif name == "content":
            if vectors is None:
                raise ValueError("the content recommender needs track vectors (--vectors FILE.npy)")
            out[name] = baselines.ContentRecommender(vectors)
        elif name == "seq2seq":
            if vectors is None:
                raise ValueError("the seq2seq recommender needs track vectors (--vectors FILE.npy)")
            from player_plugin.evaluation.seq2seq import Seq2SeqRecommender
            from player_plugin.nlp.seq2seq import Seq2SeqGenerator

            out[name] = Seq2SeqRecommender(vectors, Seq2SeqGenerator.load())
        elif name in ("upnext", "upnext-noseq2seq"):
            if vectors is None:
                raise ValueError("the upnext recommender needs track vectors (--vectors FILE.npy)")
            from player_plugin.evaluation.blend import UpNextRecommender
            from player_plugin.recommend.seq2seq_rec import load_generator_or_none

            generator = load_generator_or_none() if name == "upnext" else None
            out[name] = UpNextRecommender(vectors, generator=generator)
        else:
            raise ValueError(f"unknown recommender {name!r}; known: {', '.join(RECOMMENDERS)}")
    return out


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m player_plugin.evaluation.evaluate",
        description="Score baseline recommenders on a playlist dataset (FORMAT.md continuation task).",
    )
    ap.add_argument("--dataset", required=True, type=Path, help="dataset folder (tracks.tsv, playlists.jsonl)")
    ap.add_argument("--split", default="test", choices=["validation", "test"])
    ap.add_argument("--recommenders", default="random,popularity,cooccurrence", help="comma-separated list")
    ap.add_argument("--vectors", type=Path, help=".npy float32 [n_tracks, dim] for 'content' (dataset order)")
    ap.add_argument("--model", help="name of the model that made --vectors (reported as 'model')")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    args = ap.parse_args(argv)

    dataset = load_dataset(args.dataset)
    vectors = None
    if args.vectors:
        vectors = np.load(args.vectors)
        if vectors.shape[0] != dataset.n_tracks:
            ap.error(f"--vectors has {vectors.shape[0]} rows, the dataset {dataset.n_tracks} tracks")
    names = [n.strip() for n in args.recommenders.split(",") if n.strip()]
    try:
        recs = build_recommenders(names, vectors=vectors, seed=args.seed)
    except ValueError as e:
        ap.error(str(e))
    result = evaluate(dataset, recs, args.split, model=args.model, progress=lambda s: print(s, file=sys.stderr))
    print(json.dumps(result, ensure_ascii=False) if args.json else format_table(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
