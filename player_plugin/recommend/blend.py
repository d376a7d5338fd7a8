"""The product's recommender as the evaluation harness runs it (``upnext`` in ``evaluate``).

The context of an evaluation point is treated as a listening session: each of its tracks is a
completed play, three minutes apart. The user model of :mod:`profile` turns it into ``w_u``; ``b``
is what the train split teaches — co-occurrence scores, calibrated by dividing by the point's
largest score and multiplying by the spread (std) of the taste scores, times ``cooc_weight`` times
the 4th power of the share of the session's tracks that the train split has seen (co-occurrence is
trusted as far as it knows the session; tuned on the validation splits, docs/evaluation.md) — plus
the artist affinity of :mod:`artists` (same calibration, ``bias_artist``), as in the app. Slots are laid out as
in the app's Up Next: the last slots of 10 go to tracks no train playlist contains, ranked by taste
alone, so new music surfaces even though it has no co-occurrence evidence — as many of
``explore_slots`` as the session is unfamiliar (``queue.explore_count``), and only to tracks that
fit (``queue.explore_scores``). With a Seq2Seq generator (``seq2seq_rec``), its scores for the
session join the taste side, in units of the taste spread (``BLEND_WEIGHT``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from player_plugin.models import EventKind
from player_plugin.recommend.artists import ArtistIndex, artist_bias
from player_plugin.recommend.baselines import CooccurrenceRecommender
from player_plugin.recommend.config import RecommendConfig
from player_plugin.recommend.dataset import tracks_in
from player_plugin.recommend.profile import HistoryEvent, build_user_model
from player_plugin.recommend.queue import explore_count, rank_for_evaluation
from player_plugin.recommend.seq2seq_rec import BLEND_WEIGHT, blend_taste, seq2seq_scores

PLAY_GAP_S = 180.0


class UpNextRecommender:
    def __init__(
        self,
        vectors: np.ndarray,
        cfg: RecommendConfig | None = None,
        cooc_weight: float = 32.0,
        warm_power: float = 4.0,
        cooccurrence: CooccurrenceRecommender | None = None,
        generator: Any = None,
        seq2seq_weight: float = BLEND_WEIGHT,
    ) -> None:
        self.vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self.cfg = cfg or RecommendConfig()
        self.cooc_weight = cooc_weight
        self.warm_power = warm_power
        self.generator = generator  # the Seq2Seq next-track generator, or None for the ablation
        self.seq2seq_weight = seq2seq_weight
        self.cooc = cooccurrence or CooccurrenceRecommender()
        self.never_played: np.ndarray | None = None
        self.artists: ArtistIndex | None = None

    def fit(self, train_playlists: Sequence[np.ndarray], dataset: Any) -> None:
        self.cooc.fit(train_playlists, dataset)
        self.never_played = ~tracks_in(train_playlists, len(self.vectors))
        self.artists = ArtistIndex(
            [frozenset(a.strip().casefold() for a in artists.split(",") if a.strip()) for artists in dataset.artists]
        )

    def taste(self, context: np.ndarray) -> np.ndarray:
        events = [HistoryEvent(int(r), EventKind.COMPLETE, i * PLAY_GAP_S) for i, r in enumerate(context)]
        model = build_user_model(events, self.vectors, self.cfg, now=len(events) * PLAY_GAP_S)
        taste = self.vectors @ model.vector(self.cfg, self.vectors.shape[1])
        if self.artists is not None:
            affinity = self.artists.affinity(model.session_rows, self.cfg.session_decay, self.cfg.session_tracks)
            taste = taste + artist_bias(taste, affinity, self.cfg.bias_artist)
        if self.generator is not None and self.seq2seq_weight:
            taste = blend_taste(taste, seq2seq_scores(self.generator, self.vectors, context), self.seq2seq_weight)
        return taste

    def bias(self, context: np.ndarray, taste: np.ndarray) -> np.ndarray:
        """b: co-occurrence in units of the taste scores' spread, so cosines and counts mix fairly,
        trusted in proportion to how much of the session the train split has seen (warm share²)."""
        c = self.cooc.scores(context)
        top = float(np.max(c)) if len(c) else 0.0
        if top <= 0:
            return np.zeros_like(taste)
        weight = self.cooc_weight * self.warm_share(context) ** self.warm_power
        return (weight * float(np.std(taste)) / top) * c

    def scores(self, context: np.ndarray) -> np.ndarray:
        taste = self.taste(context)
        return taste + self.bias(context, taste) if self.cooc_weight else taste

    def rank(self, context: np.ndarray, k: int, exclude: np.ndarray) -> np.ndarray:
        taste = self.taste(context)
        scores = taste + self.bias(context, taste) if self.cooc_weight else taste
        mask = np.zeros(len(taste), dtype=bool)
        mask[exclude] = True
        assert self.never_played is not None, "fit() first"
        cfg = self.cfg.replace(explore_slots=explore_count(self.cfg, self.warm_share(context)))
        return rank_for_evaluation(scores, taste, self.never_played, k, cfg, mask)

    def warm_share(self, context: np.ndarray) -> float:
        """Share of the session's tracks that the train split has seen (the "familiar" part)."""
        assert self.never_played is not None, "fit() first"
        return float(np.mean(~self.never_played[context])) if len(context) else 0.0
