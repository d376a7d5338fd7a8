"""Ranking metrics for the continuation task: pure functions of (ranked list, target set).

Binary relevance: a ranked item is relevant when it is in ``targets``. Only the first ``k`` ranked items count;
a ranking shorter than ``k`` is scored as if padded with irrelevant items. Every function needs at least one
target (an evaluation point with no target is skipped, never scored).

- precision@k = hits in the top k / k
- recall@k    = hits in the top k / |targets|
- ndcg@k      = DCG / IDCG, DCG = sum over hits at 1-based rank r of 1 / log2(r + 1),
                IDCG = the DCG of min(k, |targets|) hits at ranks 1, 2, ...
- hit@k       = 1 if any of the top k is a target, else 0
- mrr@k       = 1 / (rank of the first target in the top k), 0 when none
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence

import numpy as np

K = 10
METRIC_NAMES = ("precision", "recall", "ndcg", "hit", "mrr")


def _hits(ranked: Sequence[int] | np.ndarray, targets: Collection[int], k: int) -> list[bool]:
    if k <= 0:
        raise ValueError(f"k must be positive, got {k}")
    if len(targets) == 0:
        raise ValueError("no targets: an evaluation point without targets is skipped, not scored")
    return [int(x) in targets for x in list(ranked)[:k]]


def _as_set(targets: Iterable[int]) -> set[int]:
    return targets if isinstance(targets, set | frozenset) else {int(t) for t in targets}


def precision_at_k(ranked: Sequence[int] | np.ndarray, targets: Iterable[int], k: int = K) -> float:
    t = _as_set(targets)
    return sum(_hits(ranked, t, k)) / k


def recall_at_k(ranked: Sequence[int] | np.ndarray, targets: Iterable[int], k: int = K) -> float:
    t = _as_set(targets)
    return sum(_hits(ranked, t, k)) / len(t)


def dcg(hits: Sequence[bool]) -> float:
    """Discounted cumulative gain of a binary hit list (position 0 is rank 1)."""
    return float(sum(1.0 / np.log2(r + 2) for r, h in enumerate(hits) if h))


def ndcg_at_k(ranked: Sequence[int] | np.ndarray, targets: Iterable[int], k: int = K) -> float:
    t = _as_set(targets)
    hits = _hits(ranked, t, k)
    ideal = dcg([True] * min(k, len(t)))
    return dcg(hits) / ideal


def hit_at_k(ranked: Sequence[int] | np.ndarray, targets: Iterable[int], k: int = K) -> float:
    t = _as_set(targets)
    return 1.0 if any(_hits(ranked, t, k)) else 0.0


def mrr_at_k(ranked: Sequence[int] | np.ndarray, targets: Iterable[int], k: int = K) -> float:
    t = _as_set(targets)
    for r, h in enumerate(_hits(ranked, t, k), start=1):
        if h:
            return 1.0 / r
    return 0.0


def all_metrics(ranked: Sequence[int] | np.ndarray, targets: Iterable[int], k: int = K) -> dict[str, float]:
    """All five metrics at once, keyed ``precision@k``, ``recall@k``, ``ndcg@k``, ``hit@k``, ``mrr@k``."""
    t = _as_set(targets)
    hits = _hits(ranked, t, k)
    n = sum(hits)
    first = next((r for r, h in enumerate(hits, start=1) if h), 0)
    return {
        f"precision@{k}": n / k,
        f"recall@{k}": n / len(t),
        f"ndcg@{k}": dcg(hits) / dcg([True] * min(k, len(t))),
        f"hit@{k}": 1.0 if n else 0.0,
        f"mrr@{k}": 1.0 / first if first else 0.0,
    }
