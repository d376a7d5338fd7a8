"""The product's recommender as the evaluation harness runs it (``upnext`` in ``evaluate``).

The context of an evaluation point is treated as a listening session: each of its tracks is a
completed play, three minutes apart. The user model of :mod:`profile` turns it into ``w_u``; ``b``
is what the train split teaches — co-occurrence scores, calibrated by dividing by the point's
largest score so they live in [0, 1] like a cosine — times ``cooc_weight``. Slots are laid out as
in the app's Up Next: the last ``explore_slots`` of 10 go to tracks no train playlist contains,
ranked by taste alone, so new music surfaces even though it has no co-occurrence evidence.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from player_plugin.models import EventKind
from player_plugin.recommend.baselines import CooccurrenceRecommender
from player_plugin.recommend.config import RecommendConfig
from player_plugin.recommend.dataset import tracks_in
from player_plugin.recommend.profile import HistoryEvent, build_user_model
from player_plugin.recommend.queue import rank_for_evaluation

PLAY_GAP_S = 180.0


class UpNextRecommender:
    def __init__(
        self,
        vectors: np.ndarray,
        cfg: RecommendConfig | None = None,
        cooc_weight: float = 1.0,
        cooccurrence: CooccurrenceRecommender | None = None,
    ) -> None:
        self.vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self.cfg = cfg or RecommendConfig()
        self.cooc_weight = cooc_weight
        self.cooc = cooccurrence or CooccurrenceRecommender()
        self.never_played: np.ndarray | None = None

    def fit(self, train_playlists: Sequence[np.ndarray], dataset: Any) -> None:
        self.cooc.fit(train_playlists, dataset)
        self.never_played = ~tracks_in(train_playlists, len(self.vectors))

    def taste(self, context: np.ndarray) -> np.ndarray:
        events = [HistoryEvent(int(r), EventKind.COMPLETE, i * PLAY_GAP_S) for i, r in enumerate(context)]
        model = build_user_model(events, self.vectors, self.cfg, now=len(events) * PLAY_GAP_S)
        return self.vectors @ model.vector(self.cfg, self.vectors.shape[1])

    def bias(self, context: np.ndarray, taste: np.ndarray) -> np.ndarray:
        """b: co-occurrence in units of the taste scores' spread, so cosines and counts mix fairly."""
        c = self.cooc.scores(context)
        top = float(np.max(c)) if len(c) else 0.0
        if top <= 0:
            return np.zeros_like(taste)
        return (self.cooc_weight * float(np.std(taste)) / top) * c

    def scores(self, context: np.ndarray) -> np.ndarray:
        taste = self.taste(context)
        return taste + self.bias(context, taste) if self.cooc_weight else taste

    def rank(self, context: np.ndarray, k: int, exclude: np.ndarray) -> np.ndarray:
        taste = self.taste(context)
        scores = taste + self.bias(context, taste) if self.cooc_weight else taste
        mask = np.zeros(len(taste), dtype=bool)
        mask[exclude] = True
        assert self.never_played is not None, "fit() first"
        return rank_for_evaluation(scores, taste, self.never_played, k, self.cfg, mask)
