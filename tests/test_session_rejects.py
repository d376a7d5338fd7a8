"""A track you dislike leaves the ongoing session: Up Next stops saying it "goes with" it."""

from __future__ import annotations

import numpy as np

from player_plugin.models import EventKind as K
from player_plugin.recommend.config import RecommendConfig
from player_plugin.recommend.history_state import HistoryState
from player_plugin.recommend.profile import HistoryEvent, build_user_model

NOW = 1_700_000_000.0
CFG = RecommendConfig()
MATRIX = np.eye(6, dtype=np.float32)


def ev(row: int, kind: K, ago: float) -> HistoryEvent:
    return HistoryEvent(row, kind, NOW - ago, 30.0, 200.0)


LIKED_THEN_DISLIKED = [
    ev(0, K.PLAY, 300),
    ev(0, K.LIKE, 290),
    ev(1, K.PLAY, 200),
    ev(1, K.COMPLETE, 10),
    ev(0, K.DISLIKE, 5),
]


def test_a_disliked_track_leaves_the_session_and_the_likes():
    model = build_user_model(LIKED_THEN_DISLIKED, MATRIX, CFG, NOW)
    assert model.session_rows == [1]
    assert 0 not in model.liked_rows
    assert model.session is not None and model.session[0] == 0.0 and model.session[1] > 0.9


def test_played_again_after_the_dislike_it_is_back():
    events = [*LIKED_THEN_DISLIKED, ev(0, K.PLAY, 1)]
    assert build_user_model(events, MATRIX, CFG, NOW).session_rows == [1, 0]


def test_the_incremental_history_state_agrees():
    state = HistoryState(MATRIX, CFG)
    assert state.extend(LIKED_THEN_DISLIKED)
    model = state.user_model(NOW)
    assert model.session_rows == [1] and 0 not in model.liked_rows
