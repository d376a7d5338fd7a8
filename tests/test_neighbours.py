"""Session neighbours (recommend/neighbours.py) on hand-made sessions with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from player_plugin.recommend.neighbours import SessionNeighbours

SESSIONS = [[0, 1, 2], [1, 2, 3, 4], [5, 6]]


def test_overlap_weights_and_scores_by_hand():
    nb = SessionNeighbours.from_sessions(SESSIONS, gamma=1.0, length_norm=0.0, recency_decay=0.8)
    # context oldest first: 1 then 2 -> 2 weighs 1, 1 weighs 0.8; sessions 0 and 1 hold both
    assert nb.similarities([1, 2]) == pytest.approx({0: 1.8, 1: 1.8})
    np.testing.assert_allclose(nb.scores([1, 2], 8), [1.8, 3.6, 3.6, 1.8, 1.8, 0, 0, 0])
    # only the newest track in session 0 -> it gets 1, session 1 (holding 1 and 3) gets 0.8 + 1
    assert nb.similarities([1, 3]) == pytest.approx({0: 0.8, 1: 1.8})


def test_gamma_and_length_norm():
    nb = SessionNeighbours.from_sessions(SESSIONS, gamma=2.0, length_norm=0.5, recency_decay=0.5)
    sims = nb.similarities([0, 1, 2])  # weights 0.25, 0.5, 1 -> session 0: 1.75, session 1: 1.5
    assert sims == pytest.approx({0: 1.75**2 / 3**0.5, 1: 1.5**2 / 4**0.5})
    rows, values = nb.scores_sparse([0, 1, 2])
    assert rows.tolist() == [0, 1, 2, 3, 4]
    np.testing.assert_allclose(values, [sims[0], sims[0] + sims[1], sims[0] + sims[1], sims[1], sims[1]])
    # a high gamma lets the session sharing the most speak almost alone
    sharp = SessionNeighbours.from_sessions(SESSIONS, gamma=8.0, length_norm=0.0, recency_decay=0.5)
    s = sharp.scores([0, 1, 2], 7)
    assert s[0] > 3 * s[3]


def test_exclusion_repeats_and_missing_rows():
    nb = SessionNeighbours.from_sessions([[0, 1, 1, 0, 2], [2, 3]], gamma=1.0, length_norm=1.0)
    assert nb.session_tracks(0).tolist() == [0, 1, 2]  # a repeat inside a session counts once
    assert nb.similarities([2, -1]) == pytest.approx({0: 0.8 / 3, 1: 0.8 / 2})  # -1: no vector, skipped
    assert nb.similarities([2, 2]) == pytest.approx({0: 1.8 / 3, 1: 1.8 / 2})  # played twice: counts twice
    assert set(nb.similarities([2], exclude_session=0)) == {1}
    rows, values = nb.scores_sparse([9])  # a track no session holds
    assert len(rows) == 0 and len(values) == 0
    assert not nb.scores([], 4).any()
    with pytest.raises(ValueError):
        SessionNeighbours(gamma=0)


def test_incremental_index_equals_the_batch_one():
    rng = np.random.default_rng(0)
    sessions = [rng.integers(0, 40, size=rng.integers(1, 15)) for _ in range(30)]
    batch = SessionNeighbours.from_sessions(sessions)
    grown = SessionNeighbours()
    ids = [grown.new_session() for _ in sessions]
    for i in rng.permutation(sum(len(s) for s in sessions)):  # interleaved, as plays arrive
        for sid, s in zip(ids, sessions, strict=True):
            if i < len(s):
                grown.add(sid, int(s[i]))
                break
            i -= len(s)
    for _ in range(10):
        ctx = rng.integers(0, 40, size=5)
        assert grown.similarities(ctx) == pytest.approx(batch.similarities(ctx))


def test_only_the_k_most_similar_sessions_vote():
    sessions = [[0, 1, 2], [0, 1, 3], [0, 4]]  # for context [0, 1]: the first two share two tracks
    nb = SessionNeighbours.from_sessions(sessions, gamma=1.0, length_norm=0.0, max_neighbours=2)
    rows, _ = nb.scores_sparse([0, 1])
    assert rows.tolist() == [0, 1, 2, 3]  # session [0, 4] shares less: it does not vote
    assert SessionNeighbours.from_sessions(sessions, gamma=1.0, length_norm=0.0).scores([0, 1], 5)[4] > 0
    with pytest.raises(ValueError):
        SessionNeighbours(max_neighbours=0)
