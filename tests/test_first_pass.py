"""Up Next's int8 first pass (recommend/first_pass.py): its in-memory graph runs in onnxruntime, its
scores are within int8's error of the exact product, and after the rescoring the best rows are
exactly the exact ranking's (compared as sets and by value, so it holds on any CPU's int8 kernels)."""

from __future__ import annotations

import copy

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
        taste, none = fp.taste_scores(library, first, w)
        assert none is None
        top = np.argsort(-exact)[:50]
        assert set(np.argsort(-taste)[:50].tolist()) == set(top.tolist())
        np.testing.assert_allclose(taste[top], exact[top], rtol=0, atol=1e-5)  # rescored: exact values


def test_rows_the_caller_names_are_exact_wherever_they_rank(library, first):
    w = library[7]
    exact = library @ w
    low = np.argsort(exact)[:5]  # the worst rows: far outside the rescored best
    taste, _ = fp.taste_scores(library, first, w, exact_rows=low)
    np.testing.assert_allclose(taste[low], exact[low], rtol=0, atol=1e-5)


def test_small_libraries_use_the_exact_product():
    small = _library(500)
    assert fp.build_first_pass(small) is None
    w = small[3]
    np.testing.assert_array_equal(fp.taste_scores(small, None, w)[0], small @ w)
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


def test_queries_scored_together_are_each_scored_as_alone(library, first):
    """Two queries share one read of the int8 library; each keeps its own quantisation step."""
    rng = np.random.default_rng(3)
    w = rng.standard_normal((2, library.shape[1])).astype(np.float32)
    w[1] *= 40.0  # a query far from unit length: its own scale, not the first's
    both = first.scores(w)
    assert both.shape == (2, len(library))
    np.testing.assert_array_equal(both[0], first.scores(w[0]))
    np.testing.assert_array_equal(both[1], first.scores(w[1]))


@pytest.fixture(scope="module")
def generator():
    from player_plugin.recommend.seq2seq_rec import load_generator_or_none

    gen = load_generator_or_none()
    if gen is None:
        pytest.skip("the shipped generator is missing")
    return gen


@pytest.fixture(scope="module", params=["raw", "script-centred"])
def any_space(generator, request):
    """The shipped generator (raw vectors), and the same weights told to read script-centred ones (what
    ``export/train_seq2seq.py --track-space script-centred`` builds): the fold's maths in both."""
    gen = copy.copy(generator)
    gen.track_space = request.param
    return gen


@pytest.fixture(scope="module")
def big(generator) -> tuple[np.ndarray, fp.FirstPass]:
    lib = _library(fp.FIRST_PASS_MIN_TRACKS + 1000, dim=generator.dim, seed=4)
    return lib, fp.FirstPass(lib, threads=1)


def _centre(lib: np.ndarray):
    """The library's script groups (recommend/prompt_space.py): a third of its tracks CJK-titled."""
    from player_plugin.recommend.prompt_space import LibraryCentre

    return LibraryCentre(lib, [f"雨夜 {i}" if i % 3 == 0 else f"Rain {i}" for i in range(len(lib))])


def test_the_generator_folded_into_the_first_pass_ranks_as_its_exact_map(any_space, big):
    """t_m · q with t_m = normalise(v_m W + c) (v_m script-centred for a script-centred generator: then a
    per-track offset), scored as one more column of the first pass: its best rows are the exact map's,
    with the exact map's values, and the rest are close."""
    from player_plugin.recommend.first_pass import FoldedQuery
    from player_plugin.recommend.seq2seq_rec import GeneratorSide, mapped_library, seq2seq_scores

    generator = any_space
    lib, first = big
    centre = _centre(lib)
    mapped = mapped_library(generator, lib, centre)
    side = GeneratorSide(generator, lib, centre)
    rng = np.random.default_rng(5)
    for _ in range(3):
        session = rng.choice(len(lib), 6, replace=False)
        exact = seq2seq_scores(generator, lib, session, mapped=mapped, centre=centre)
        q = side.query(session)
        folded = side.for_fill(q, first)
        assert isinstance(folded, FoldedQuery)
        w = lib[session].mean(axis=0)
        taste, s2s = fp.taste_scores(lib, first, w, None, folded)
        top = np.argsort(-exact)[:50]
        assert set(np.argsort(-s2s)[:50].tolist()) == set(top.tolist())
        np.testing.assert_allclose(s2s[top], exact[top], rtol=0, atol=1e-5)
        assert float(np.abs(s2s - exact).max()) < 0.02
        best = np.argsort(-(lib @ w))[:50]  # the taste column of the same pass is exact at its best rows
        np.testing.assert_allclose(taste[best], (lib @ w)[best], rtol=0, atol=1e-5)
        # without the first pass the same side scores the exact map
        np.testing.assert_array_equal(side.for_fill(q, None), mapped @ q)


def test_a_script_centred_generator_reads_each_track_less_its_scripts_mean(generator, big):
    """What a script-centred generator reads (recommend/seq2seq_rec.TrackView): (v - m_g) / |v - m_g|, the mean
    of the track's script group taken out; without the library's centre it refuses, in one line."""
    from player_plugin.recommend.seq2seq_rec import GeneratorSide, TrackView, mapped_library, needs_centre

    assert not needs_centre(generator)  # the shipped one reads raw vectors (its manifest has no "track_space")
    generator = copy.copy(generator)
    generator.track_space = "script-centred"
    assert needs_centre(generator)
    lib, _ = big
    centre = _centre(lib)
    cjk = centre.group
    by_hand = lib - np.where(cjk[:, None], lib[cjk].mean(axis=0), lib[~cjk].mean(axis=0))
    by_hand /= np.linalg.norm(by_hand, axis=1, keepdims=True)
    rows = np.array([0, 1, 2, 3, 999, len(lib) - 1])
    np.testing.assert_allclose(TrackView(generator, lib, centre).rows(rows), by_hand[rows], rtol=0, atol=1e-5)
    mapped = mapped_library(generator, lib, centre)
    np.testing.assert_allclose(mapped[rows], generator.map_tracks(by_hand[rows]), rtol=0, atol=1e-5)
    with pytest.raises(ValueError, match="script-centred"):
        GeneratorSide(generator, lib)


def test_exact_generator_scores_only_add_their_best_rows_to_the_rescoring(generator, big):
    lib, first = big
    w = lib[11]
    s2s = np.zeros(len(lib), np.float32)
    lifted = np.arange(0, fp.RESCORE_GENERATOR_ROWS)  # the generator's best rows: rescored for taste
    s2s[lifted] = 1.0
    taste, same = fp.taste_scores(lib, first, w, None, s2s)
    assert same is s2s
    np.testing.assert_allclose(taste[lifted], lib[lifted] @ w, rtol=0, atol=1e-5)


def test_rows_that_cannot_be_picked_leave_the_best_of_the_rest_exact(library, first):
    """A blocklist holding the listener's favourite genre: the rows Up Next then walks are still exact."""
    rng = np.random.default_rng(5)
    w = library[11] + 0.2 * rng.standard_normal(library.shape[1]).astype(np.float32)
    exact = library @ w
    blocked = np.sort(np.argsort(-exact)[: 3 * fp.RESCORE_ROWS])  # far more than the rows rescored
    taste, _ = fp.taste_scores(library, first, w, skip_rows=blocked)
    rest = exact.copy()
    rest[blocked] = -np.inf
    top = np.argsort(-rest)[:50]
    np.testing.assert_allclose(taste[top], exact[top], rtol=0, atol=1e-5)  # rescored, though far down
    got = taste.copy()
    got[blocked] = -np.inf
    assert set(np.argsort(-got)[:50].tolist()) == set(top.tolist())
    without, _ = fp.taste_scores(library, first, w)
    assert np.abs(without[top] - exact[top]).max() > 1e-5  # without the skip they stayed approximate


def test_rows_b_lifts_among_the_best_are_exact_and_the_rest_of_a_long_history_is_not_read(library, first):
    """A long history touches thousands of rows: only those its b lifts to where Up Next walks are rescored."""
    rng = np.random.default_rng(6)
    w = library[13] + 0.2 * rng.standard_normal(library.shape[1]).astype(np.float32)
    exact = library @ w
    low = np.argsort(exact)[: 5 * fp.RESCORE_ROWS]  # far below the rescored best
    favourites, others = low[:20], low[20:]
    spread = float(np.std(exact))
    rows = np.concatenate([favourites, others, favourites[:5]])  # a row in two terms: both amounts count
    amounts = np.concatenate([np.full(20, 20.0), np.zeros(len(others)), np.full(5, 1.0)]).astype(np.float32)
    amounts[20:40] = -np.inf  # excluded (disliked): never among the best
    taste, _ = fp.taste_scores(library, first, w, lift=(rows, amounts))
    np.testing.assert_allclose(taste[favourites], exact[favourites], rtol=0, atol=1e-5)
    assert np.abs(taste[others] - exact[others]).max() > 1e-5  # unlifted: left approximate, never read
    final = taste.copy()
    np.add.at(final, rows, spread * amounts)
    top = np.argsort(-final)[:50]
    assert set(favourites.tolist()) <= set(top.tolist())
    np.testing.assert_allclose(taste[top], exact[top], rtol=0, atol=1e-5)  # all of the best: exact
