"""The Seq2Seq generator as a term of Up Next's user side (the harness's ``seq2seq`` recommender alone is
:mod:`player_plugin.evaluation.seq2seq`).

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

from player_plugin.recommend.fill_math import mean_std, one_thread_product

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


def mapped_library(generator: Generator, vectors: np.ndarray) -> np.ndarray:
    """``generator.map_tracks(vectors)`` as contiguous float32: every library track in the generator's space.
    Not cached here: the app keeps it with its catalog (``service.CatalogIndex``), the harness per recommender.
    Mapped block by block (player_plugin/matrix_file.py): no temporaries the size of the library."""
    from player_plugin import matrix_file

    out = np.ascontiguousarray(generator.map_tracks(vectors[:0]), dtype=np.float32)
    for start, block in matrix_file.blocks(vectors):
        part = generator.map_tracks(block)
        if start == 0:
            out = np.empty((len(vectors), part.shape[1]), np.float32)
        out[start : start + len(block)] = part
    return out


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


def _generate(generator, vectors, context_rows, outcomes, prompt_vector, steps) -> np.ndarray | None:
    rows = np.asarray(context_rows, dtype=np.int64)
    outs = np.zeros(len(rows), np.int64) if outcomes is None else np.asarray(outcomes, dtype=np.int64)
    keep = rows >= 0
    rows, outs = rows[keep], outs[keep]
    if len(rows) == 0:
        return None
    return generator.generate_batch(
        np.asarray(vectors[rows], dtype=np.float32)[None],
        outs[None],
        None if prompt_vector is None else np.asarray(prompt_vector, np.float32)[None],
        steps,
    )[0]


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
    mapped: np.ndarray | None = None,
) -> np.ndarray:
    """The generator's opinion of every library track for one session: ``[n_tracks]`` float32.

    ``vectors`` ``[n_tracks, dim]`` encoder vectors (library order); ``context_rows`` the session's rows, oldest
    first (rows < 0, tracks without a vector, are dropped with their outcomes); ``outcomes`` 0 completed /
    1 skipped / 2 liked per row (default all completed); ``prompt_vector`` the embedded prompt or None.
    ``mapped``: :func:`mapped_library` of ``vectors``, when the caller keeps it (else computed here).
    An empty session gives zeros (no opinion).
    """
    g = _generate(generator, vectors, context_rows, outcomes, prompt_vector, steps)
    if g is None:
        return np.zeros(len(vectors), np.float32)
    if mapped is None:
        mapped = mapped_library(generator, vectors)
    if agg == "mean":  # linear in the steps: one matrix-vector product instead of n × K dot products
        return mapped @ (g.T @ step_weights(g.shape[0], step_decay))
    return aggregate(mapped @ g.T, agg, step_decay)


class GeneratorSide:
    """The generator's opinion over one library, the cheapest exact way the library allows.

    With the int8 first pass (a big library) and a generator whose track map is linear (``weight``,
    ``bias``: the shipped one), a session's scores ride on the first pass as a :class:`FoldedQuery`
    and only ``|v_m W + c|`` is kept per track; otherwise the library is mapped into the generator's
    space once and scored exactly (``mapped @ q``, as :func:`seq2seq_scores` does). The app's catalog
    index and the evaluation's ``upnext`` keep one each."""

    def __init__(self, generator: Generator, vectors: np.ndarray) -> None:
        self.generator, self.vectors = generator, vectors
        self._mapped: np.ndarray | None = None
        self._inverse_norm: np.ndarray | None = None

    def query(self, rows, outcomes=None, prompt_vector=None) -> np.ndarray | None:
        """The session's generated steps as one vector, ``q = sum_k a_k g_k`` (``agg="mean"``): every
        track's score is then ``t_m · q``. None for an empty session (rows < 0, tracks without a vector,
        are dropped with their outcomes)."""
        g = _generate(self.generator, self.vectors, rows, outcomes, prompt_vector, None)
        return None if g is None else g.T @ step_weights(g.shape[0])

    def for_fill(self, q: np.ndarray, first_pass: Any) -> Any:
        """What :func:`~player_plugin.recommend.first_pass.taste_scores` takes as ``generator``: a
        :class:`FoldedQuery` where the first pass can carry it, else the exact scores."""
        from player_plugin.recommend.first_pass import FoldedQuery

        weight, bias = getattr(self.generator, "weight", None), getattr(self.generator, "bias", None)
        if first_pass is None or not isinstance(weight, np.ndarray) or not isinstance(bias, np.ndarray):
            if self._mapped is None:
                self._mapped = mapped_library(self.generator, self.vectors)
            return self._mapped @ q
        if self._inverse_norm is None:
            self._inverse_norm = _inverse_norms(self.vectors, weight, bias)
        q = np.asarray(q, np.float32)
        # one BLAS thread: a [384, 128] matrix-vector product would wake OpenBLAS's threads (fill_math.py)
        return FoldedQuery(one_thread_product(weight, q), float(bias @ q), self._inverse_norm)


def _inverse_norms(vectors: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """``1 / |v_m W + c|`` per track, block by block (0 where the norm is 0, as ``map_tracks`` gives 0)."""
    from player_plugin import matrix_file

    out = np.zeros(len(vectors), np.float32)
    for start, block in matrix_file.blocks(vectors):
        norm = np.linalg.norm(np.asarray(block, np.float32) @ weight + bias, axis=1)
        out[start : start + len(block)] = np.divide(1.0, norm, out=np.zeros_like(norm), where=norm > 1e-12)
    return out


def in_taste_units(taste: np.ndarray, s2s: np.ndarray) -> np.ndarray | None:
    """``std(taste) / std(s2s) * (s2s - mean(s2s))``: the generator in taste-spread units (None when flat).
    Computed once per fill and added with each of its weights (main ranking, explore slots)."""
    mean, sd = mean_std(s2s)
    if not sd > 1e-12:
        return None
    return np.float32(mean_std(taste)[1] / sd) * (s2s - np.float32(mean))


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
    from player_plugin.models import EventKind, Outcome

    last: dict[int, Any] = {}
    liked: set[int] = set()
    for e in events:
        if e.kind == EventKind.LIKE:
            liked.add(e.row)
        elif e.kind in (EventKind.COMPLETE, EventKind.SKIP):
            last[e.row] = e.kind

    def one(r: int) -> Outcome:
        if r in liked:
            return Outcome.LIKED
        return Outcome.SKIPPED if last.get(r) == EventKind.SKIP else Outcome.COMPLETED

    return np.array([one(r) for r in rows], dtype=np.int64)
