"""The one scoring function (recommend/score.py) that the app and the harness both call."""

from __future__ import annotations

import numpy as np

from player_plugin.evaluation import blend
from player_plugin.recommend import score as score_module
from player_plugin.recommend import service
from player_plugin.recommend.artists import artist_bias
from player_plugin.recommend.score import Term, lift_of, score
from player_plugin.recommend.seq2seq_rec import in_taste_units


def test_app_and_harness_call_the_same_function():
    assert service.score is score_module.score
    assert blend.score is score_module.score


def test_parts_in_order():
    rng = np.random.default_rng(0)
    taste = rng.normal(size=50).astype(np.float32)
    artist = np.zeros(50, np.float32)
    artist[:5] = 1.0
    gen = rng.normal(size=50).astype(np.float32)
    rows = np.array([3, 7])
    s = score(
        taste,
        [Term(np.array([1.0, -np.inf], np.float32), 2.0, rows)],
        artist=artist,
        artist_weight=8.0,
        generator=gen,
        generator_weight=0.25,
        explore_generator_weight=2.0,
        reference_spread=0.5,
    )
    base = taste + artist_bias(taste, artist, 8.0)
    units = in_taste_units(base, gen)
    main = base + 0.25 * units
    np.testing.assert_allclose(s.taste, main)
    np.testing.assert_allclose(s.explore, base + 2.0 * units)
    expected = main.copy()
    expected[3] += float(np.std(main)) / 0.5 * 2.0
    expected[7] = -np.inf
    np.testing.assert_allclose(s.main, expected)


def test_excluded_stays_excluded_at_weight_zero_and_explore_terms():
    taste = np.linspace(0.0, 1.0, 10, dtype=np.float32)
    s = score(taste, [Term(np.array([-np.inf]), 0.0, np.array([2])), Term(np.ones(1), 1.0, np.array([4]), True)])
    assert np.isneginf(s.main[2]) and np.isfinite(s.main).sum() == 9
    assert s.explore[4] > taste[4] and s.explore[5] == taste[5]
    assert s.explore is not taste and taste[4] == np.float32(4 / 9)  # the input is never written to


def test_lift_is_what_score_adds_in_units_of_the_taste_spread():
    """score.lift_of: the rows b touches and what it adds there, for the first pass's choice of rows."""
    rng = np.random.default_rng(9)
    taste = rng.standard_normal(1_000).astype(np.float32)
    habit = rng.standard_normal(40).astype(np.float32)
    habit[3] = -np.inf  # excluded
    dense = np.zeros(1_000, np.float32)
    dense[[5, 7, 900]] = [1.0, 0.5, 2.0]
    terms = [Term(habit, 0.7, np.arange(100, 140)), Term(dense, 0.3)]
    rows, amounts = lift_of(terms, reference_spread=0.05)
    assert sorted(rows.tolist()) == sorted([*range(100, 140), 5, 7, 900])
    added = np.zeros(1_000, np.float32)
    np.add.at(added, rows, amounts)
    got = score(taste, terms, reference_spread=0.05).main - taste
    finite = np.isfinite(got)
    assert not finite[103] and np.isneginf(added[103])
    np.testing.assert_allclose(got[finite], float(np.std(taste)) * added[finite], rtol=1e-4, atol=1e-6)
    artist = np.zeros(1_000, np.float32)
    artist[[1, 2]] = [0.5, 1.0]
    rows, amounts = lift_of([], artist=artist, artist_weight=4.0)
    assert rows.tolist() == [1, 2] and amounts.tolist() == [2.0, 4.0]
    assert lift_of([])[0].shape == (0,)
