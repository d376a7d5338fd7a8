"""Up Next's int8 first pass (recommend/first_pass.py): its in-memory graph runs in onnxruntime, its
scores are within int8's error of the exact product, and after the rescoring the best rows are
exactly the exact ranking's (compared as sets and by value, so it holds on any CPU's int8 kernels)."""

from __future__ import annotations

import numpy as np
import pytest

from player_plugin.recommend import first_pass as fp


def _library(n: int, dim: int = 64, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    styles = rng.standard_normal((20, dim))
    v = styles[rng.integers(0, 20, n)] + 0.7 * rng.standard_normal((n, dim))
    return (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)


@pytest.fixture(scope="module")
def library() -> np.ndarray:
    return _library(30_000)


@pytest.fixture(scope="module")
def first(library) -> fp.FirstPass:
    return fp.FirstPass(library, threads=1)


def test_the_first_pass_is_the_product_within_int8s_error(library, first):
    rng = np.random.default_rng(1)
    for _ in range(5):
        w = rng.standard_normal(library.shape[1]).astype(np.float32)
        w /= np.linalg.norm(w)
        exact = library @ w
        approx = first.scores(w)
        assert approx.dtype == np.float32 and approx.shape == exact.shape
        # each factor is off by at most half an int8 step: |error| well under 1 % of |v| |w|
        assert float(np.abs(approx - exact).max()) < 0.01
        assert np.corrcoef(approx, exact)[0, 1] > 0.999


def test_after_rescoring_the_best_rows_are_exactly_the_exact_ones(library, first):
    rng = np.random.default_rng(2)
    for _ in range(5):
        w = library[rng.integers(len(library))] + 0.2 * rng.standard_normal(library.shape[1]).astype(np.float32)
        exact = library @ w
        taste = fp.taste_scores(library, first, w)
        top = np.argsort(-exact)[:50]
        assert set(np.argsort(-taste)[:50].tolist()) == set(top.tolist())
        np.testing.assert_allclose(taste[top], exact[top], rtol=0, atol=1e-5)  # rescored: exact values


def test_rows_the_caller_names_are_exact_wherever_they_rank(library, first):
    w = library[7]
    exact = library @ w
    low = np.argsort(exact)[:5]  # the worst rows: far outside the rescored best
    taste = fp.taste_scores(library, first, w, exact_rows=low)
    np.testing.assert_allclose(taste[low], exact[low], rtol=0, atol=1e-5)


def test_small_libraries_use_the_exact_product():
    small = _library(500)
    assert fp.build_first_pass(small) is None
    w = small[3]
    np.testing.assert_array_equal(fp.taste_scores(small, None, w), small @ w)
    assert fp.build_first_pass(_library(fp.FIRST_PASS_MIN_TRACKS)) is not None


def test_the_graph_is_valid_onnx_for_any_library_shape():
    """The hand-written protobuf: odd sizes, a zero vector (scale floor), extreme components."""
    lib = _library(fp.FIRST_PASS_MIN_TRACKS + 3, dim=17)
    lib[0] = 0.0
    lib[1] = np.eye(17, dtype=np.float32)[4]
    first = fp.FirstPass(lib, threads=1)
    w = np.eye(17, dtype=np.float32)[4]
    scores = first.scores(w)
    assert scores[0] == 0.0 and abs(scores[1] - 1.0) < 1e-2
    assert abs(float(first.scores(np.zeros(17, np.float32))[5])) == 0.0
