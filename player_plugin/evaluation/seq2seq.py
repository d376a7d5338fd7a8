"""The Seq2Seq generator alone as a harness recommender (``seq2seq`` in ``evaluate``), and ``blend_taste``
for the export scripts' sweeps. How its scores rank the library: :mod:`player_plugin.recommend.seq2seq_rec`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from player_plugin.evaluation.dataset import tracks_in
from player_plugin.recommend.seq2seq_rec import (
    AGG,
    BLEND_WEIGHT,
    STEP_DECAY,
    Generator,
    TrackView,
    aggregate,
    in_taste_units,
    mapped_library,
    needs_centre,
    seq2seq_scores,
)


class Seq2SeqRecommender:
    """The generator alone, for the harness: every context track is a completed play, no prompt."""

    def __init__(
        self,
        vectors: np.ndarray,
        generator: Generator,
        *,
        agg: str = AGG,
        step_decay: float = STEP_DECAY,
        steps: int | None = None,
        cold_bonus: float = 0.0,
    ) -> None:
        self.vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self.generator = generator
        self.agg = agg
        self.step_decay = step_decay
        self.steps = steps
        self.cold_bonus = cold_bonus
        self.seen: np.ndarray | None = None  # train-seen tracks, from fit
        self._mapped: np.ndarray | None = None
        self.centre: Any = None  # the library's LibraryCentre, for a script-centred generator (from fit)

    def mapped(self) -> np.ndarray:
        """The library in the generator's track space, mapped once per recommender."""
        if self._mapped is None:
            self._mapped = mapped_library(self.generator, self.vectors, self.centre)
        return self._mapped

    def _calibrate(self, s: np.ndarray) -> np.ndarray:
        """``cold_bonus * std(s)`` added to tracks no train playlist has (0 by default: no calibration)."""
        if not self.cold_bonus or self.seen is None:
            return s
        sd = np.std(s, axis=-1, keepdims=True)
        return s + (self.cold_bonus * sd) * (~self.seen).astype(np.float32)

    def fit(self, train_playlists: Sequence[np.ndarray], dataset: Any) -> None:
        if dataset is not None and dataset.n_tracks != len(self.vectors):
            raise ValueError(f"{len(self.vectors)} vectors for a library of {dataset.n_tracks} tracks")
        self.seen = tracks_in(train_playlists, len(self.vectors))
        if needs_centre(self.generator):
            from player_plugin.recommend.prompt_space import LibraryCentre

            if dataset is None:
                raise ValueError("a script-centred generator needs the dataset's titles (fit with the dataset)")
            self.centre, self._mapped = LibraryCentre(self.vectors, dataset.titles), None

    def scores(self, context: np.ndarray) -> np.ndarray:
        return self._calibrate(
            seq2seq_scores(
                self.generator,
                self.vectors,
                context,
                steps=self.steps,
                agg=self.agg,
                step_decay=self.step_decay,
                mapped=self.mapped(),
                centre=self.centre,
            )
        )

    def scores_batch(self, contexts: Sequence[np.ndarray]) -> np.ndarray:
        """Contexts of equal length go through the generator together (the harness's are all 10 long)."""
        mapped = self.mapped()
        view = TrackView(self.generator, self.vectors, self.centre)
        out = np.empty((len(contexts), len(self.vectors)), np.float32)
        by_len: dict[int, list[int]] = {}
        for i, c in enumerate(contexts):
            by_len.setdefault(len(c), []).append(i)
        for _, idx in by_len.items():
            x = np.stack([view.rows(np.asarray(contexts[i], dtype=np.int64)) for i in idx])
            g = self.generator.generate_batch(x, None, None, self.steps)  # [b, K, out_dim]
            sims = np.einsum("nd,bkd->bnk", mapped, g, optimize=True)
            out[idx] = aggregate(sims, self.agg, self.step_decay)
        return self._calibrate(out)


def blend_taste(taste: np.ndarray, s2s: np.ndarray, weight: float = BLEND_WEIGHT) -> np.ndarray:
    """``taste + weight * in_taste_units(taste, s2s)``; ``taste`` itself when the weight is 0 or s2s is flat."""
    if not weight:
        return taste
    units = in_taste_units(taste, s2s)
    return taste if units is None else taste + weight * units
