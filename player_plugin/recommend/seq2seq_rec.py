"""The Seq2Seq generator as a recommender (``seq2seq`` in the harness) and as a term of Up Next's user side.

How generated vectors rank the library (exactly): the generator returns ``G`` = ``[K, out_dim]`` unit vectors for
the session; every library track ``m`` is mapped into the generator's track space, ``t_m = normalise(W v_m + c)``
(``v_m`` the encoder vector, ``W, c`` the learned track-side map shipped as ``track_map.npz``), and scored

    s(m) = sum_k  a_k * (t_m · g_k)        with  a_k = step_decay**k / sum_j step_decay**j,  step_decay = 0.7

(``agg="mean"``, the default: a weighted mean over the K = 10 steps, earlier steps weigh more), or
``max_k t_m · g_k`` (``agg="max"``). Which one and ``step_decay`` were picked on the validation split
(docs/seq2seq.md).

In Up Next (``score(u, m) = w_u · w_m + b``) the generator's opinion joins the user side: the taste scores
``w_u · w_m`` (+ artist affinity) get ``weight * std(taste) / std(s) * (s - mean(s))`` added, i.e. ``s`` in units
of the taste scores' spread, so the blend weight means the same on any library. The explore slots (tracks never
played, ranked by taste alone) use the same blend with ``EXPLORE_BLEND_WEIGHT``: there the content-space generator
leads, as it is what knows which new tracks follow a session.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np

from player_plugin.recommend.dataset import tracks_in

# Picked on the validation splits of netease-dev and yes (docs/seq2seq.md). The aggregations barely differ
# (mean 0.7 / 0.9 / 1.0 and max within 0.0005 NDCG@10); the blend weight is the one whose worst relative gain over
# the two datasets (all + cold) is largest: 0.25 helps both, >= 0.5 starts to cost netease-dev while yes wants more.
AGG = "mean"
STEP_DECAY = 0.7
BLEND_WEIGHT = 0.25  # seq2seq in units of std(taste), added to Up Next's taste
# ... and in the explore slots (tracks never played, ranked by taste alone): there the generator, which
# learned which new tracks follow a session, leads. netease-dev validation NDCG@10 all / cold: 0.25 →
# 0.1513 / 0.0429, 2.0 → 0.1524 / 0.0443; yes validation unchanged (0.1315) (docs/evaluation.md).
EXPLORE_BLEND_WEIGHT = 2.0


class Generator(Protocol):
    def map_tracks(self, vectors: np.ndarray) -> np.ndarray: ...

    def generate_batch(
        self,
        session_vectors: np.ndarray,
        outcomes: np.ndarray | None = None,
        prompt_vectors: np.ndarray | None = None,
        steps: int | None = None,
    ) -> np.ndarray: ...


_MAPPED: dict[tuple[int, int, tuple[int, ...]], tuple[np.ndarray, np.ndarray]] = {}


def mapped_library(generator: Generator, vectors: np.ndarray) -> np.ndarray:
    """``generator.map_tracks(vectors)``, cached per (generator, vectors array) — the library rarely changes."""
    key = (id(generator), id(vectors), tuple(vectors.shape))
    hit = _MAPPED.get(key)
    if hit is not None and hit[0] is vectors:
        return hit[1]
    mapped = np.ascontiguousarray(generator.map_tracks(vectors), dtype=np.float32)
    if len(_MAPPED) > 8:
        _MAPPED.clear()
    _MAPPED[key] = (vectors, mapped)
    return mapped


def step_weights(k: int, decay: float = STEP_DECAY) -> np.ndarray:
    w = decay ** np.arange(k, dtype=np.float32)
    return w / w.sum()


def aggregate(sims: np.ndarray, agg: str = AGG, step_decay: float = STEP_DECAY) -> np.ndarray:
    """``sims`` ``[..., n, K]`` (library × steps) → ``[..., n]`` scores (see module doc)."""
    if agg == "max":
        return sims.max(axis=-1)
    if agg == "mean":
        return sims @ step_weights(sims.shape[-1], step_decay)
    raise ValueError(f"unknown aggregation {agg!r} (mean, max)")


def seq2seq_scores(
    generator: Generator,
    vectors: np.ndarray,
    context_rows: Sequence[int] | np.ndarray,
    outcomes: Sequence[int] | np.ndarray | None = None,
    prompt_vector: np.ndarray | None = None,
    *,
    steps: int | None = None,
    agg: str = AGG,
    step_decay: float = STEP_DECAY,
) -> np.ndarray:
    """The generator's opinion of every library track for one session: ``[n_tracks]`` float32.

    ``vectors`` ``[n_tracks, dim]`` encoder vectors (library order); ``context_rows`` the session's rows, oldest
    first (rows < 0, tracks without a vector, are dropped with their outcomes); ``outcomes`` 0 completed /
    1 skipped / 2 liked per row (default all completed); ``prompt_vector`` the embedded prompt or None.
    An empty session gives zeros (no opinion).
    """
    rows = np.asarray(context_rows, dtype=np.int64)
    outs = np.zeros(len(rows), np.int64) if outcomes is None else np.asarray(outcomes, dtype=np.int64)
    keep = rows >= 0
    rows, outs = rows[keep], outs[keep]
    if len(rows) == 0:
        return np.zeros(len(vectors), np.float32)
    g = generator.generate_batch(
        np.asarray(vectors[rows], dtype=np.float32)[None],
        outs[None],
        None if prompt_vector is None else np.asarray(prompt_vector, np.float32)[None],
        steps,
    )[0]
    mapped = mapped_library(generator, vectors)
    if agg == "mean":  # linear in the steps: one matrix-vector product instead of n × K dot products
        return mapped @ (g.T @ step_weights(g.shape[0], step_decay))
    return aggregate(mapped @ g.T, agg, step_decay)


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

    def scores(self, context: np.ndarray) -> np.ndarray:
        return self._calibrate(
            seq2seq_scores(
                self.generator, self.vectors, context, steps=self.steps, agg=self.agg, step_decay=self.step_decay
            )
        )

    def scores_batch(self, contexts: Sequence[np.ndarray]) -> np.ndarray:
        """Contexts of equal length go through the generator together (the harness's are all 10 long)."""
        mapped = mapped_library(self.generator, self.vectors)
        out = np.empty((len(contexts), len(self.vectors)), np.float32)
        by_len: dict[int, list[int]] = {}
        for i, c in enumerate(contexts):
            by_len.setdefault(len(c), []).append(i)
        for _, idx in by_len.items():
            x = np.stack([self.vectors[np.asarray(contexts[i], dtype=np.int64)] for i in idx])
            g = self.generator.generate_batch(x, None, None, self.steps)  # [b, K, out_dim]
            sims = np.einsum("nd,bkd->bnk", mapped, g, optimize=True)
            out[idx] = aggregate(sims, self.agg, self.step_decay)
        return self._calibrate(out)


def in_taste_units(taste: np.ndarray, s2s: np.ndarray) -> np.ndarray | None:
    """``std(taste) / std(s2s) * (s2s - mean(s2s))``: the generator in taste-spread units (None when flat).
    Computed once per fill and added with each of its weights (main ranking, explore slots)."""
    sd = float(np.std(s2s))
    if sd <= 1e-12:
        return None
    return (float(np.std(taste)) / sd) * (s2s - float(np.mean(s2s)))


def blend_taste(taste: np.ndarray, s2s: np.ndarray, weight: float = BLEND_WEIGHT) -> np.ndarray:
    """``taste + weight * in_taste_units(taste, s2s)``; ``taste`` itself when the weight is 0 or s2s is flat."""
    if not weight:
        return taste
    units = in_taste_units(taste, s2s)
    return taste if units is None else taste + weight * units


def upnext_with_seq2seq(vectors: np.ndarray, generator: Generator, weight: float = BLEND_WEIGHT, **kw: Any):
    """``blend.UpNextRecommender`` with the generator added to its taste (for the harness and the ablation).

    A subclass built here so the lead's blend.py stays as it is until the integration lands.
    """
    from player_plugin.recommend.blend import UpNextRecommender

    class UpNextSeq2Seq(UpNextRecommender):
        def taste(self, context: np.ndarray) -> np.ndarray:
            base = super().taste(context)
            if not weight:
                return base
            return blend_taste(base, seq2seq_scores(generator, self.vectors, context, **kw), weight)

    return UpNextSeq2Seq(vectors)


# -- for the app (recommend/service.py) -------------------------------------------------------------------------

_WARNED: set[str] = set()


def load_generator_or_none(model_id: str | None = None, models_root: Any = None) -> Any:
    """The app's generator, or None when the model is missing or corrupt (logged once per reason: Up Next then
    works from the user model alone)."""
    import logging

    from player_plugin.nlp.manifest import ModelError
    from player_plugin.nlp.seq2seq import DEFAULT_MODEL_ID, Seq2SeqGenerator

    try:
        return Seq2SeqGenerator.load(model_id or DEFAULT_MODEL_ID, models_root)
    except ModelError as exc:
        msg = str(exc)
        if msg not in _WARNED:
            _WARNED.add(msg)
            logging.getLogger(__name__).warning("Up Next runs without the Seq2Seq generator: %s", msg)
        return None


def session_outcomes(events: Sequence[Any], rows: Sequence[int]) -> np.ndarray:
    """One outcome per session row (0 completed, 1 skipped, 2 liked) from the session's ``HistoryEvent`` list:
    liked if the session has a LIKE for it, else skipped if its latest play ended in a SKIP, else completed."""
    from player_plugin.models import EventKind

    last: dict[int, Any] = {}
    liked: set[int] = set()
    for e in events:
        if e.kind == EventKind.LIKE:
            liked.add(e.row)
        elif e.kind in (EventKind.COMPLETE, EventKind.SKIP):
            last[e.row] = e.kind
    return np.array([2 if r in liked else 1 if last.get(r) == EventKind.SKIP else 0 for r in rows], dtype=np.int64)
