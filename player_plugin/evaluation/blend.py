"""The product's recommender as the evaluation harness runs it (``upnext`` in ``evaluate``).

The context of an evaluation point is treated as a listening session: each of its tracks is a
completed play, three minutes apart. The user model of :mod:`profile` turns it into ``w_u``.

``b`` is what the train split teaches: co-occurrence scores plus ``neighbour_weight`` times the
session neighbours' scores (:mod:`neighbours`: train playlists that share tracks with the
context), each divided by its largest score for the point, then multiplied by the spread (std) of
the taste scores, by ``cooc_weight`` and by the 4th power of the share of the session's tracks that
the train split has seen (the train split is trusted as far as it knows the session; tuned on the
validation splits, docs/evaluation.md). The artist affinity of :mod:`artists` is added with the
same calibration (``bias_artist``), as in the app.

Slots are laid out as in the app's Up Next: the last slots of 10 go to tracks no train playlist
contains, ranked by taste alone, so new music surfaces even though it has no co-occurrence
evidence — as many of ``explore_slots`` as the session is unfamiliar (``queue.explore_count``), and
only to tracks that fit (``queue.explore_scores``). With a Seq2Seq generator (``seq2seq_rec``), its
scores for the session join the taste side, in units of the taste spread: ``BLEND_WEIGHT`` in
the main ranking, ``EXPLORE_BLEND_WEIGHT`` in the explore slots.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from player_plugin.evaluation.baselines import CooccurrenceRecommender
from player_plugin.evaluation.dataset import tracks_in
from player_plugin.evaluation.ranking import rank_for_evaluation
from player_plugin.models import EventKind
from player_plugin.recommend.artists import ArtistIndex
from player_plugin.recommend.config import RecommendConfig
from player_plugin.recommend.first_pass import build_first_pass, taste_scores
from player_plugin.recommend.neighbours import SessionNeighbours
from player_plugin.recommend.profile import HistoryEvent, build_user_model
from player_plugin.recommend.prompt_space import LibraryCentre, script_neutral
from player_plugin.recommend.queue import explore_count
from player_plugin.recommend.score import Scores, Term, lift_of, score
from player_plugin.recommend.seq2seq_rec import BLEND_WEIGHT, EXPLORE_BLEND_WEIGHT, GeneratorSide, needs_centre
from player_plugin.text_norm import normalise


@dataclass(frozen=True)
class BlendConfig:
    """The harness's side of ``upnext``: how a context becomes a session, and ``b`` from the train split.
    Tuned on the validation splits of netease-dev and yes (docs/evaluation.md, "What the tuning showed")."""

    play_gap_s: float = 180.0  # the context's plays three minutes apart: one session of completed plays
    # The train split's evidence (best track = 1) in taste spreads: 32 lets what the train split is sure of
    # lead while taste orders the rest (co-occurrence in taste-spread units: 0.1079-0.1137 -> 0.1497 with
    # the explore rules and the warm power below, netease-dev validation).
    cooc_weight: float = 32.0
    # ... trusted by (share of the session the train split has seen) ** 4: a session half new to it gets
    # 1/16 of the evidence (power 2: 0.1427, power 4 with weight 32: 0.1497, netease-dev validation).
    warm_power: float = 4.0
    # Session neighbours next to co-occurrence, in units of its largest score: validation NDCG@10 on yes
    # 0.1261 -> 0.1316, netease-dev 0.1483 -> 0.1481.
    neighbour_weight: float = 0.5


BLEND = BlendConfig()


class UpNextRecommender:
    def __init__(
        self,
        vectors: np.ndarray,
        cfg: RecommendConfig | None = None,
        cooc_weight: float = BLEND.cooc_weight,
        warm_power: float = BLEND.warm_power,
        cooccurrence: CooccurrenceRecommender | None = None,
        generator: Any = None,
        seq2seq_weight: float = BLEND_WEIGHT,
        explore_seq2seq_weight: float = EXPLORE_BLEND_WEIGHT,
        neighbour_weight: float = BLEND.neighbour_weight,
        play_gap_s: float = BLEND.play_gap_s,
    ) -> None:
        self.vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self.cfg = cfg or RecommendConfig()
        self.cooc_weight = cooc_weight
        self.warm_power = warm_power
        self.generator = generator  # the Seq2Seq next-track generator, or None for the ablation
        self.seq2seq_weight = seq2seq_weight
        self.explore_seq2seq_weight = explore_seq2seq_weight
        self.neighbour_weight = neighbour_weight
        self.play_gap_s = play_gap_s
        self.neighbours: SessionNeighbours | None = None
        self.cooc = cooccurrence or CooccurrenceRecommender()
        self.never_played: np.ndarray | None = None
        self.artists: ArtistIndex | None = None
        self._side: GeneratorSide | None = None  # the generator's view of the library, made once
        self._first_pass: tuple[Any] | None = None  # the app's int8 first pass over this library, built once
        self.script_axis: np.ndarray | None = None  # its CJK vs other direction (recommend/prompt_space.py)
        self.centre: LibraryCentre | None = None  # its script groups' means (from fit)

    def fit(self, train_playlists: Sequence[np.ndarray], dataset: Any) -> None:
        self.cooc.fit(train_playlists, dataset)
        self.neighbours = SessionNeighbours.from_sessions(train_playlists) if self.neighbour_weight else None
        self.never_played = ~tracks_in(train_playlists, len(self.vectors))
        # The artists as the app's catalog keeps them: each one normalised as in every rule of the app
        self.artists = ArtistIndex([frozenset(filter(None, map(normalise, a.split(",")))) for a in dataset.artists])
        self.centre = LibraryCentre(self.vectors, dataset.titles)  # as the app's catalog has it
        self.script_axis = self.centre.script_axis
        self._side = None  # the generator's view depends on the library's centre

    def taste(self, context: np.ndarray) -> np.ndarray:
        """The main ranking's taste side: w_u · w_m + artist affinity + the generator (no b)."""
        taste, parts = self.score_inputs(context)
        return score(taste, **parts).taste

    def score_inputs(self, context: np.ndarray, bias: Sequence[Term] = ()) -> tuple[np.ndarray, dict[str, Any]]:
        """(w_u · w_m, the keyword arguments of :func:`~player_plugin.recommend.score.score` but ``bias``):
        the user model of the context as a session of completed plays, its artist affinity, the generator.
        ``bias``: the terms of ``b`` the score will add: the rows where they lift a track among the best
        are scored exactly, as the app does (``score.lift_of``)."""
        events = [HistoryEvent(int(r), EventKind.COMPLETE, i * self.play_gap_s) for i, r in enumerate(context)]
        model = build_user_model(events, self.vectors, self.cfg, now=len(events) * self.play_gap_s)
        if self._first_pass is None:
            self._first_pass = (build_first_pass(self.vectors),)
        generator = None
        if self.generator is not None and (self.seq2seq_weight or self.explore_seq2seq_weight):
            query = self.generator_side().query(context)
            generator = None if query is None else self.generator_side().for_fill(query, self._first_pass[0])
        artist = None
        if self.artists is not None:
            artist = self.artists.affinity(model.session_rows, self.cfg.session_decay, self.cfg.session_tracks)
        # as the app computes w_u · w_m (recommend/first_pass.py): exact for the best rows, the context's, the
        # best once b and the artist term are added, and those the generator lifts (the explore slots rank
        # never-played tracks by taste and generator)
        w = script_neutral(model.vector(self.cfg, self.vectors.shape[1]), self.script_axis, model.evidence,
                           self.cfg.script_neutral_until)  # fmt: skip
        lift = lift_of(bias, artist=artist, artist_weight=self.cfg.bias_artist)
        exact = np.asarray(context, np.int64)
        taste, generator = taste_scores(self.vectors, self._first_pass[0], w, exact, generator, lift=lift)
        return taste, {
            "artist": artist,
            "artist_weight": self.cfg.bias_artist,
            "generator": generator,
            "generator_weight": self.seq2seq_weight,
            "explore_generator_weight": self.explore_seq2seq_weight,
        }

    def generator_side(self) -> GeneratorSide:
        """The generator's view of the library (recommend/seq2seq_rec.py), made once per recommender."""
        if self._side is None:
            centre = self.centre if needs_centre(self.generator) else None
            self._side = GeneratorSide(self.generator, self.vectors, centre)
        return self._side

    def train_evidence(self, context: np.ndarray) -> np.ndarray:
        """What the train split says follows this session, in [0, 1 + neighbour_weight]: co-occurrence
        and session neighbours, each divided by its largest score for this context."""
        c = self.cooc.scores(context)
        top = float(np.max(c)) if len(c) else 0.0
        out = c / top if top > 0 else np.zeros(len(self.vectors))
        if self.neighbours is not None and self.neighbour_weight:
            rows, values = self.neighbours.scores_sparse(context)
            top_n = float(values.max()) if len(values) else 0.0
            if top_n > 0:
                out[rows] += (self.neighbour_weight / top_n) * values
        return out

    def bias(self, context: np.ndarray) -> list[Term]:
        """b: the train split's evidence in units of the taste scores' spread, so cosines and counts
        mix fairly, trusted in proportion to how much of the session the train split has seen
        (warm share ** warm_power)."""
        if not self.cooc_weight:
            return []
        weight = self.cooc_weight * self.warm_share(context) ** self.warm_power
        return [Term(self.train_evidence(context), weight)]

    def score(self, context: np.ndarray) -> Scores:
        """The product's score (:func:`player_plugin.recommend.score.score`) for this context."""
        bias = self.bias(context)
        taste, parts = self.score_inputs(context, bias)
        return score(taste, bias, **parts)

    def scores(self, context: np.ndarray) -> np.ndarray:
        return self.score(context).main

    def rank(self, context: np.ndarray, k: int, exclude: np.ndarray) -> np.ndarray:
        s = self.score(context)
        mask = np.zeros(len(s.main), dtype=bool)
        mask[exclude] = True
        assert self.never_played is not None, "fit() first"
        cfg = self.cfg.replace(explore_slots=explore_count(self.cfg, self.warm_share(context)))
        return rank_for_evaluation(s.main, s.explore, self.never_played, k, cfg, mask)

    def warm_share(self, context: np.ndarray) -> float:
        """Share of the session's tracks that the train split has seen (the "familiar" part)."""
        assert self.never_played is not None, "fit() first"
        return float(np.mean(~self.never_played[context])) if len(context) else 0.0
