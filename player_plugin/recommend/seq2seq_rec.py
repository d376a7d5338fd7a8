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

from collections.abc import Iterator, Sequence
from typing import Any, Protocol

import numpy as np

from player_plugin.nlp.seq2seq import RAW, SCRIPT_CENTRED
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


def needs_centre(generator: Generator | None) -> bool:
    """Whether ``generator`` reads script-centred track vectors (then give it the library's ``LibraryCentre``)."""
    return getattr(generator, "track_space", RAW) == SCRIPT_CENTRED


class TrackView:
    """The library as ``generator`` reads it: ``vectors`` as they are, or for a script-centred generator
    ``(v - m_g) / |v - m_g|`` with ``m_g`` the mean of the library's tracks of ``v``'s script
    (``centre``, a :class:`~player_plugin.recommend.prompt_space.LibraryCentre` of the same library)."""

    def __init__(self, generator: Generator, vectors: np.ndarray, centre: Any = None) -> None:
        self.vectors = vectors
        self.centre = None
        if needs_centre(generator):
            if centre is None or len(centre.group) != len(vectors):
                raise ValueError("this generator reads script-centred vectors: give it the library's LibraryCentre")
            self.centre = centre

    def rows(self, rows: np.ndarray) -> np.ndarray:
        v = np.asarray(self.vectors[rows], dtype=np.float32)
        return v if self.centre is None else self.centre.centred(rows, v)

    def blocks(self) -> Iterator[tuple[int, np.ndarray]]:
        """The view a block of rows at a time (player_plugin/matrix_file.py): no copy of the library."""
        from player_plugin import matrix_file

        for start, block in matrix_file.blocks(self.vectors):
            v = np.asarray(block, dtype=np.float32)
            yield start, v if self.centre is None else self.centre.centred(np.arange(start, start + len(v)), v)


def mapped_library(generator: Generator, vectors: np.ndarray, centre: Any = None) -> np.ndarray:
    """``generator.map_tracks`` of the library as it reads it (:class:`TrackView`), contiguous float32.
    Not cached here: the app keeps it with its catalog (``service.CatalogIndex``), the harness per recommender.
    Mapped block by block: no temporaries the size of the library."""
    view = TrackView(generator, vectors, centre)
    out = np.ascontiguousarray(generator.map_tracks(np.zeros((0, vectors.shape[1]), np.float32)), dtype=np.float32)
    for start, block in view.blocks():
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


def _generate(generator, view: TrackView, context_rows, outcomes, prompt_vector, steps) -> np.ndarray | None:
    rows = np.asarray(context_rows, dtype=np.int64)
    outs = np.zeros(len(rows), np.int64) if outcomes is None else np.asarray(outcomes, dtype=np.int64)
    keep = rows >= 0
    rows, outs = rows[keep], outs[keep]
    if len(rows) == 0:
        return None
    return generator.generate_batch(
        view.rows(rows)[None],
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
    centre: Any = None,
) -> np.ndarray:
    """The generator's opinion of every library track for one session: ``[n_tracks]`` float32.

    ``vectors`` ``[n_tracks, dim]`` encoder vectors (library order); ``context_rows`` the session's rows, oldest
    first (rows < 0, tracks without a vector, are dropped with their outcomes); ``outcomes`` 0 completed /
    1 skipped / 2 liked per row (default all completed); ``prompt_vector`` the embedded prompt or None.
    ``mapped``: :func:`mapped_library` of ``vectors``, when the caller keeps it (else computed here);
    ``centre``: the library's ``LibraryCentre``, needed by a script-centred generator (:class:`TrackView`).
    An empty session gives zeros (no opinion).
    """
    g = _generate(generator, TrackView(generator, vectors, centre), context_rows, outcomes, prompt_vector, steps)
    if g is None:
        return np.zeros(len(vectors), np.float32)
    if mapped is None:
        mapped = mapped_library(generator, vectors, centre)
    if agg == "mean":  # linear in the steps: one matrix-vector product instead of n × K dot products
        return mapped @ (g.T @ step_weights(g.shape[0], step_decay))
    return aggregate(mapped @ g.T, agg, step_decay)


class GeneratorSide:
    """The generator's opinion over one library, the cheapest exact way the library allows.

    With the int8 first pass (a big library) and a generator whose track map is linear (``weight``,
    ``bias``: the shipped one), a session's scores ride on the first pass as a :class:`FoldedQuery`
    and only ``|v_m W + c|`` is kept per track; otherwise the library is mapped into the generator's
    space once and scored exactly (``mapped @ q``, as :func:`seq2seq_scores` does). The app's catalog
    index and the evaluation's ``upnext`` keep one each. ``centre``: the library's ``LibraryCentre``
    (recommend/prompt_space.py), which a script-centred generator needs (:class:`TrackView`)."""

    def __init__(self, generator: Generator, vectors: np.ndarray, centre: Any = None) -> None:
        self.generator, self.vectors = generator, vectors
        self.view = TrackView(generator, vectors, centre)
        self._mapped: np.ndarray | None = None
        self._inverse_norm: np.ndarray | None = None
        self._group_maps: np.ndarray | None = None  # m_g W per script group (a script-centred generator)

    def query(self, rows, outcomes=None, prompt_vector=None) -> np.ndarray | None:
        """The session's generated steps as one vector, ``q = sum_k a_k g_k`` (``agg="mean"``): every
        track's score is then ``t_m · q``. None for an empty session (rows < 0, tracks without a vector,
        are dropped with their outcomes)."""
        g = _generate(self.generator, self.view, rows, outcomes, prompt_vector, None)
        return None if g is None else g.T @ step_weights(g.shape[0])

    def for_fill(self, q: np.ndarray, first_pass: Any) -> Any:
        """What :func:`~player_plugin.recommend.first_pass.taste_scores` takes as ``generator``: a
        :class:`FoldedQuery` where the first pass can carry it, else the exact scores."""
        from player_plugin.recommend.first_pass import FoldedQuery

        weight, bias = getattr(self.generator, "weight", None), getattr(self.generator, "bias", None)
        if first_pass is None or not isinstance(weight, np.ndarray) or not isinstance(bias, np.ndarray):
            if self._mapped is None:
                self._mapped = mapped_library(self.generator, self.vectors, self.view.centre)
            return self._mapped @ q
        if self._inverse_norm is None:
            self._inverse_norm = _inverse_norms(self.view, weight, bias)
        q = np.asarray(q, np.float32)
        # one BLAS thread: a [384, 128] matrix-vector product would wake OpenBLAS's threads (fill_math.py)
        vector = one_thread_product(weight, q)
        c = self.view.centre
        if c is None:
            return FoldedQuery(vector, float(bias @ q), self._inverse_norm)
        # t_m = normalise(v'_m W + c) with v'_m = (v_m - m_g) / n_m is normalise(v_m W - m_g W + n_m c):
        # the same column of the first pass, with a per-track offset n_m (c · q) - (m_g W) · q
        if self._group_maps is None:
            self._group_maps = (c.means @ weight).astype(np.float32)
        offset = c.norms * np.float32(bias @ q) - (self._group_maps @ q)[c.group_index]
        return FoldedQuery(vector, offset.astype(np.float32), self._inverse_norm)


def _inverse_norms(view: TrackView, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """``1 / |v_m W + c|`` per track of the view, block by block (0 where the norm is 0, as ``map_tracks`` gives
    0); for a script-centred view the norm of ``v_m W - m_g W + n_m c``, the same direction unscaled by
    ``1 / n_m`` (what :class:`~player_plugin.recommend.first_pass.FoldedQuery` multiplies)."""
    out = np.zeros(len(view.vectors), np.float32)
    scale = view.centre.norms if view.centre is not None else None
    for start, block in view.blocks():
        norm = np.linalg.norm(block @ weight + bias, axis=1)
        if scale is not None:
            norm = norm * scale[start : start + len(block)]
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
