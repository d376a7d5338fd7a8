"""Baseline recommenders for the continuation task: random, popularity, co-occurrence, content.

Each follows :class:`player_plugin.evaluation.evaluate.Recommender`: ``fit(train_playlists, dataset)`` on the
train split's playlists (int track-index arrays in play order), then ``scores(context)`` → one float per
library track. Sparse structures are plain numpy CSR arrays built here (scipy is not a dependency).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def recency_weights(n: int, decay: float) -> np.ndarray:
    """Weights for a context of ``n`` plays, oldest first: the newest gets 1, each step back ``decay`` times less."""
    return decay ** np.arange(n - 1, -1, -1, dtype=np.float64)


def _n_tracks(dataset: Any, train_playlists: Sequence[np.ndarray]) -> int:
    if dataset is not None:
        return int(dataset.n_tracks)
    return int(max((int(p.max()) for p in train_playlists if len(p)), default=-1)) + 1


def _cat(parts: list[np.ndarray], dtype: Any) -> np.ndarray:
    return np.concatenate(parts).astype(dtype, copy=False) if parts else np.empty(0, dtype)


class CSR:
    """A minimal compressed-sparse-row matrix: row ``i`` is ``indices[indptr[i]:indptr[i+1]]`` with ``data``."""

    __slots__ = ("indptr", "indices", "data", "shape")

    def __init__(self, indptr: np.ndarray, indices: np.ndarray, data: np.ndarray, shape: tuple[int, int]):
        self.indptr, self.indices, self.data, self.shape = indptr, indices, data, shape

    @classmethod
    def from_coo(cls, rows: np.ndarray, cols: np.ndarray, vals: np.ndarray, shape: tuple[int, int]) -> CSR:
        """Sum duplicate (row, col) entries; rows sorted, columns sorted within a row."""
        n_rows, n_cols = shape
        key = rows.astype(np.int64) * n_cols + cols.astype(np.int64)
        uniq, inv = np.unique(key, return_inverse=True)
        data = np.bincount(inv, weights=vals, minlength=len(uniq))
        r = uniq // n_cols
        indptr = np.zeros(n_rows + 1, dtype=np.int64)
        np.cumsum(np.bincount(r, minlength=n_rows), out=indptr[1:])
        return cls(indptr, (uniq % n_cols).astype(np.int32), data, shape)

    def row_sums(self) -> np.ndarray:
        rows = np.repeat(np.arange(self.shape[0]), np.diff(self.indptr))
        return np.bincount(rows, weights=self.data, minlength=self.shape[0])

    def weighted_rows(self, rows: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """``sum_i weights[i] * row(rows[i])`` as a dense vector of length ``shape[1]``."""
        starts, ends = self.indptr[rows], self.indptr[rows + 1]
        lens = ends - starts
        if lens.sum() == 0:
            return np.zeros(self.shape[1])
        idx = np.concatenate([np.arange(s, e) for s, e in zip(starts, ends, strict=True)])
        w = np.repeat(weights, lens) * self.data[idx]
        return np.bincount(self.indices[idx], weights=w, minlength=self.shape[1])


class RandomRecommender:
    """Uniformly random scores (seeded, so a run is reproducible)."""

    def __init__(self, seed: int = 0):
        self.seed = seed
        self._rng = np.random.default_rng(seed)
        self._n = 0

    def fit(self, train_playlists: Sequence[np.ndarray], dataset: Any) -> None:
        self._rng = np.random.default_rng(self.seed)
        self._n = _n_tracks(dataset, train_playlists)

    def scores(self, context: np.ndarray) -> np.ndarray:
        return self._rng.random(self._n)


class PopularityRecommender:
    """Play counts in the train split (repeats count); the same ranking for every context."""

    def __init__(self) -> None:
        self.counts = np.zeros(0)

    def fit(self, train_playlists: Sequence[np.ndarray], dataset: Any) -> None:
        n = _n_tracks(dataset, train_playlists)
        plays = np.concatenate([np.asarray(p, dtype=np.int64) for p in train_playlists]) if train_playlists else []
        self.counts = np.bincount(plays, minlength=n).astype(np.float64)

    def scores(self, context: np.ndarray) -> np.ndarray:
        return self.counts


class CooccurrenceRecommender:
    """Item-to-item evidence from the train split, summed over the context with recency weights.

    For a context track ``c`` (weight ``decay ** age``, age 0 = the newest play) the candidate ``t`` gains:

    - ``transition_weight * T[c, t]``: forward transitions, ``t`` played ``d`` steps after ``c`` in a train
      playlist for ``d = 1..window``, each counted with ``distance_decay ** (d - 1)``;
    - ``backward_weight * T[t, c]``: the same, with ``t`` played before ``c``;
    - ``cooccurrence_weight * C[c, t]``: ``c`` and ``t`` in the same train playlist, each playlist counted once
      and down-weighted by ``1 / len(playlist) ** playlist_norm`` (long radio playlists say less per pair);

    each of the three normalised per context track to sum to 1 (so one heavily played context track does not
    drown the others), plus ``popularity_weight * normalised play count`` as a tie-breaker for tracks with no
    evidence.

    The defaults were tuned by coordinate search on the validation split of ``yes`` and ``netease-dev``
    (NDCG@10, all view): a long, slowly decaying window (12 plays, 0.9 per step) matters most (window 1 loses
    about a third), backward transitions at half weight help, recency decay 0.8 balances the two datasets
    (yes prefers 0.9-1.0, netease-dev 0.5-0.7), and whole-playlist co-occurrence and the playlist-length
    normalisation barely move the result once the window is long. A popularity tie-breaker above ~1e-3 hurts.
    """

    def __init__(
        self,
        *,
        recency_decay: float = 0.8,
        window: int = 12,
        distance_decay: float = 0.9,
        transition_weight: float = 1.0,
        backward_weight: float = 0.5,
        cooccurrence_weight: float = 1.0,
        playlist_norm: float = 0.5,
        popularity_weight: float = 1e-3,
    ):
        self.recency_decay = recency_decay
        self.window = window
        self.distance_decay = distance_decay
        self.transition_weight = transition_weight
        self.backward_weight = backward_weight
        self.cooccurrence_weight = cooccurrence_weight
        self.playlist_norm = playlist_norm
        self.popularity_weight = popularity_weight
        self._n = 0

    def fit(self, train_playlists: Sequence[np.ndarray], dataset: Any) -> None:
        n = self._n = _n_tracks(dataset, train_playlists)
        src, dst, val = [], [], []
        for p in train_playlists:
            p = np.asarray(p, dtype=np.int64)
            for d in range(1, self.window + 1):
                if len(p) <= d:
                    break
                a, b = p[:-d], p[d:]
                keep = a != b
                src.append(a[keep])
                dst.append(b[keep])
                val.append(np.full(int(keep.sum()), self.distance_decay ** (d - 1)))
        s, t, v = _cat(src, np.int64), _cat(dst, np.int64), _cat(val, np.float64)
        self.forward = CSR.from_coo(s, t, v, (n, n))
        self.backward = CSR.from_coo(t, s, v, (n, n))
        self._fwd_sum = self.forward.row_sums()
        self._bwd_sum = self.backward.row_sums()

        # Playlist incidence (distinct tracks), both directions: C = P^T diag(w) P without building C.
        rows, cols = [], []
        for i, p in enumerate(train_playlists):
            u = np.unique(np.asarray(p, dtype=np.int64))
            rows.append(np.full(len(u), i, dtype=np.int64))
            cols.append(u)
        r, c = _cat(rows, np.int64), _cat(cols, np.int64)
        n_pl = len(train_playlists)
        lens = np.bincount(r, minlength=n_pl).astype(np.float64)
        self._pl_weight = np.where(lens > 0, np.maximum(lens, 1.0) ** -self.playlist_norm, 0.0)
        self._track_pl = CSR.from_coo(c, r, np.ones(len(r)), (n, n_pl))  # track -> playlists
        self._entry_pl, self._entry_track = r, c  # every (playlist, track) entry
        # Row sums of C for normalisation: sum_t C[c, t] = sum_{p ∋ c} w_p * (len_p - 1).
        pl_mass = self._pl_weight * np.maximum(lens - 1, 0)
        self._co_sum = np.bincount(c, weights=pl_mass[r], minlength=n)

        plays = _cat([np.asarray(p, dtype=np.int64) for p in train_playlists], np.int64)
        counts = np.bincount(plays, minlength=n).astype(np.float64)
        self._pop = counts / counts.max() if counts.size and counts.max() > 0 else counts

    @staticmethod
    def _inv(x: np.ndarray) -> np.ndarray:
        return np.divide(1.0, x, out=np.zeros_like(x), where=x > 0)

    def scores(self, context: np.ndarray) -> np.ndarray:
        context = np.asarray(context, dtype=np.int64)
        w = recency_weights(len(context), self.recency_decay)
        out = self.popularity_weight * self._pop
        if self.transition_weight:
            out = out + self.transition_weight * self.forward.weighted_rows(
                context, w * self._inv(self._fwd_sum[context])
            )
        if self.backward_weight:
            out = out + self.backward_weight * self.backward.weighted_rows(
                context, w * self._inv(self._bwd_sum[context])
            )
        if self.cooccurrence_weight:
            pl = self._track_pl.weighted_rows(context, w * self._inv(self._co_sum[context]))  # per playlist
            pl *= self._pl_weight
            out = out + self.cooccurrence_weight * np.bincount(
                self._entry_track, weights=pl[self._entry_pl], minlength=self._n
            )
        return out


class ContentRecommender:
    """Text similarity: the context's recency-weighted mean vector dotted with every track vector.

    ``vectors`` is float32 ``[n_tracks, dim]`` in dataset order, rows unit-normalised (normalised here if not).
    """

    def __init__(self, vectors: np.ndarray, *, recency_decay: float = 0.8):
        v = np.asarray(vectors, dtype=np.float32)
        if v.ndim != 2:
            raise ValueError(f"vectors must be [n_tracks, dim], got shape {v.shape}")
        norms = np.linalg.norm(v, axis=1, keepdims=True)
        self.vectors = np.divide(v, norms, out=np.zeros_like(v), where=norms > 0)
        self.recency_decay = recency_decay

    def fit(self, train_playlists: Sequence[np.ndarray], dataset: Any) -> None:
        if dataset is not None and dataset.n_tracks != self.vectors.shape[0]:
            raise ValueError(f"{self.vectors.shape[0]} vectors for a library of {dataset.n_tracks} tracks")

    def query(self, context: np.ndarray) -> np.ndarray:
        """The context's recency-weighted sum of track vectors (unnormalised: it does not change the ranking)."""
        context = np.asarray(context, dtype=np.int64)
        w = recency_weights(len(context), self.recency_decay).astype(np.float32)
        return w @ self.vectors[context]

    def scores(self, context: np.ndarray) -> np.ndarray:
        return self.vectors @ self.query(context)

    def scores_batch(self, contexts: Sequence[np.ndarray]) -> np.ndarray:
        """``scores`` for many contexts at once: ``[len(contexts), n_tracks]``."""
        q = np.stack([self.query(c) for c in contexts]) if len(contexts) else np.empty((0, self.vectors.shape[1]))
        return (self.vectors @ q.astype(np.float32).T).T
