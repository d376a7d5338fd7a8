"""recommend/select.py: the best rows of a big score array from a sampled cut, and the gate that uses it."""

from __future__ import annotations

import numpy as np
import pytest

from player_plugin.recommend.prompt_space import prompt_gate
from player_plugin.recommend.select import best_rows, rows_at_least


def _exact_best(scores: np.ndarray, k: int) -> np.ndarray:
    rows = np.flatnonzero(np.isfinite(scores))
    return rows[np.lexsort((rows, -scores[rows]))][:k]


@pytest.mark.parametrize("seed", range(40))
def test_rows_at_least_holds_the_best_and_splits_no_tie(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.choice([7, 900, 40_000, 100_000]))
    k = int(rng.integers(1, 3_000))
    scores = rng.standard_normal(n).astype(np.float32)
    if seed % 3 == 0:
        scores[rng.random(n) < 0.5] = -np.inf
    if seed % 4 == 0:
        scores = np.round(scores, 1)  # many ties
    rows = rows_at_least(scores, k)
    real = np.isfinite(scores)
    assert len(rows) >= min(k, int(real.sum()))
    assert np.all(np.diff(rows) > 0)
    assert np.isfinite(scores[rows]).all()
    left = np.ones(n, bool)
    left[rows] = False
    left &= real
    if left.any():
        assert scores[left].max() < scores[rows].min()
    assert np.array_equal(best_rows(scores, k), _exact_best(scores, k))


def test_the_sampled_cut_gives_few_extra_rows():
    scores = np.random.default_rng(0).standard_normal(100_000).astype(np.float32)
    rows = rows_at_least(scores, 1_000)
    assert 1_000 <= len(rows) <= 2_000


def test_nan_and_minus_inf_are_never_returned():
    scores = np.full(50_000, -np.inf, np.float32)
    scores[:10] = np.arange(10)
    scores[10:20] = np.nan
    assert rows_at_least(scores, 100).tolist() == list(range(10))
    assert best_rows(scores, 3).tolist() == [9, 8, 7]


@pytest.mark.parametrize("seed", range(12))
def test_the_gate_over_the_best_fits_is_the_gate_over_the_library(seed):
    rng = np.random.default_rng(seed)
    n = 60_000
    fit = rng.standard_normal(n).astype(np.float32)
    fit[rng.random(n) < 0.1] = -np.inf  # the other script, when the prompt names one
    scores = rng.standard_normal(n).astype(np.float32)
    best = np.argsort(-fit)[:300]
    scores[best[rng.random(300) < 0.3 * (seed % 4)]] = -np.inf  # some of the best fits cannot be picked
    if seed % 4 == 3:
        scores[best] = -np.inf  # none of them: the gate looks further than the best fits
    word_rows = rng.choice(n, 40, replace=False)
    word_match = np.where(rng.random(40) < 0.5, 1.0, -1.0).astype(np.float32)
    held = rng.choice(best, 20).tolist()
    size = 30
    whole = prompt_gate(fit, scores, word_rows, word_match, held, size)
    assert len(whole) == size
    fast = prompt_gate(fit, scores, word_rows, word_match, held, size, rows_at_least(fit, 8 * size))
    assert np.array_equal(whole, fast)
