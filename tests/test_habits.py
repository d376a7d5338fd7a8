"""The queue rules that follow the listener's own habits (recommend/habits.py), Qt-free."""

from __future__ import annotations

import numpy as np

from player_plugin.models import EventKind as K
from player_plugin.recommend.config import RecommendConfig
from player_plugin.recommend.habits import HABITS, listening_habits
from player_plugin.recommend.history_state import HistoryState
from player_plugin.recommend.profile import HistoryEvent, TrackStats, bias_at

ARTISTS = [frozenset({f"artist {i // 4}"}) for i in range(40)]  # four tracks per artist


def test_album_runs_turn_artist_spacing_off_and_a_shuffle_keeps_it():
    album = [r for a in range(10) for r in range(4 * a, 4 * a + 4)] * 3  # each artist's four tracks in a row
    habits = listening_habits(album, [False] * len(album), ARTISTS)
    assert habits.same_artist > 0.7 and habits.plays_artist_runs()
    rng = np.random.default_rng(0)
    shuffle = rng.permutation(np.tile(np.arange(40), 5)).tolist()
    habits = listening_habits(shuffle, [False] * len(shuffle), ARTISTS)
    assert habits.same_artist < HABITS.artist_run_share and not habits.plays_artist_runs()
    few = listening_habits(album[:5], [False] * 5, ARTISTS)
    assert not few.plays_artist_runs()  # too little history: the configured spacing holds


def test_repeats_are_counted_per_listen_and_weigh_the_rotation():
    m = np.eye(40, 8, dtype=np.float32)
    state = HistoryState(m, RecommendConfig())
    rows = [0, 1, 0, 2, 0, 1, 3, 0]
    events = []
    for i, r in enumerate(rows):
        events += [HistoryEvent(r, K.PLAY, 1000.0 + 300 * i), HistoryEvent(r, K.COMPLETE, 1200.0 + 300 * i, 200, 240)]
    assert state.extend(events)
    assert state.repeats == [False, False, True, False, True, True, False, True]
    habits = listening_habits(state.listens, state.repeats, ARTISTS)
    assert habits.repeats == 0.5 and habits.rotation_share() == 0.0  # fewer than min_listens
    # in rotation: the most played lately counts 1, one played once long ago little
    stats = TrackStats.empty(40)
    for e in [HistoryEvent(5, K.COMPLETE, 0.0), *[HistoryEvent(6, K.COMPLETE, 90 * 86400.0 + i) for i in range(3)]]:
        stats.add(e)
    rot = stats.in_rotation(slice(None))
    assert rot[6] == 1.0 and 0 < rot[5] < 0.01 and rot[7] == 0.0
    cfg = RecommendConfig(bias_rotation=0.3, bias_recent=0.0, bias_completes=0.0)
    b = bias_at(stats, np.array([5, 6, 7]), cfg, now=91 * 86400.0)
    assert b[1] > b[0] > b[2] - 1e-9 and b[1] - b[2] > 0.29
