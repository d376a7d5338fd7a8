"""The best ``k`` of a big score array without sorting or partitioning all of it.

A fill asks for the best few hundred or thousand of 100,000 scores five or six times (the rows the
first pass rescores, the generator's best, the prompt's best fits, the main and explore rankings).
``np.argpartition`` over 100,000 float32 takes ~0.14 ms each time; a cut read off a strided sample
and one comparison over the array take about a third of that. :func:`rows_at_least` gives every row
scoring at or above such a cut — the ``k`` best and usually a few more — so a caller that needs
exactly the best ``k`` orders only those few (:func:`best_rows`).
"""

from __future__ import annotations

import math

import numpy as np

SAMPLE_STEP = 8  # every 8th score estimates the cut: 12,500 of 100,000
SAMPLE_MIN = 4_000  # fewer sampled scores than this: the cut is too rough, partition the whole array
# The cut is set where the sample says k x this many rows lie above it: enough that a sample's error
# rarely leaves fewer than k (then the whole array is partitioned, as before), few enough that the
# caller's work on the extra rows stays small.
CUT_MARGIN = 1.2


def rows_at_least(scores: np.ndarray, k: int, skip: np.ndarray | None = None) -> np.ndarray:
    """:func:`_rows_at_least`, the rows ``skip`` taken as -inf — in a copy: ``scores`` may be a cached
    array another thread reads (the prompt's fit, which ``similar`` ranks by)."""
    if skip is None or not len(skip):
        return _rows_at_least(scores, k)
    scores = scores.copy()
    scores[skip] = -np.inf
    return _rows_at_least(scores, k)


def _rows_at_least(scores: np.ndarray, k: int) -> np.ndarray:
    """Rows (ascending) of at least the ``k`` highest ``scores``: every row whose score is at or above a
    cut that the ``k``-th best is at or above, so every row left out scores below every row given
    (ties are never split). A score of -inf or NaN is no score: such rows are left out (fewer than
    ``k`` rows come back only when fewer than ``k`` have a real score)."""
    n = len(scores)
    k = min(k, n)
    if k <= 0:
        return np.zeros(0, np.int64)
    sample = scores[::SAMPLE_STEP]
    above = math.ceil(CUT_MARGIN * k / SAMPLE_STEP)
    if len(sample) >= SAMPLE_MIN and above < len(sample) // 4:
        cut = np.partition(sample, len(sample) - above)[len(sample) - above]
        rows = np.flatnonzero(scores >= cut)  # a cut of -inf (mostly -inf scores) lets too many through
        if k <= len(rows) <= 4 * k:
            return rows
    kth = -np.partition(-scores, k - 1)[k - 1]  # of -scores: a NaN goes last, as the lowest
    if np.isnan(kth) or kth == -np.inf:  # fewer than k real scores: those
        return np.flatnonzero(scores > -np.inf)
    return np.flatnonzero(scores >= kth)


def best_rows(scores: np.ndarray, k: int) -> np.ndarray:
    """The rows of the ``k`` highest finite ``scores``, best first (ties: lower row first)."""
    rows = rows_at_least(scores, k)
    rows = rows[np.isfinite(scores[rows])]
    return rows[np.lexsort((rows, -scores[rows]))][:k]
