"""recommend/fill_math.py: the fill's cheap mean/spread and its products in single-thread pieces."""

from __future__ import annotations

import numpy as np
import pytest

from player_plugin.recommend.fill_math import mean_std, one_thread_product


@pytest.mark.parametrize("n", [1, 7, 100_000])
def test_mean_std_is_numpys(n):
    x = (np.random.default_rng(n).standard_normal(n) * 0.05 + 0.8).astype(np.float32)
    mean, sd = mean_std(x)
    assert mean == pytest.approx(float(np.mean(x)), rel=1e-6)
    assert sd == pytest.approx(float(np.std(x)), rel=1e-4, abs=1e-7)


def test_mean_std_of_nothing_is_nan():
    assert all(np.isnan(v) for v in mean_std(np.zeros(0, np.float32)))


@pytest.mark.parametrize(("m", "n"), [(0, 3), (1, 1), (700, 10), (5_000, 2)])  # the last two in pieces
def test_one_thread_product_is_the_product(m, n):
    rng = np.random.default_rng(m)
    a = rng.standard_normal((m, 384)).astype(np.float32)
    b = rng.standard_normal((384, n)).astype(np.float32)
    got = one_thread_product(a, b)
    assert got.shape == (m, n) and got.dtype == np.float32
    np.testing.assert_allclose(got, a @ b, rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(one_thread_product(a, b[:, 0]), a @ b[:, 0], rtol=1e-5, atol=1e-4)
