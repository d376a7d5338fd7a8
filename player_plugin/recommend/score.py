"""``score(u, m) = w_u · w_m + b``, added up in one place for the app (``service.recommend``) and the
harness (``evaluation.blend``), so the evaluation measures the product's score by construction.

The caller brings what only it knows — the taste scores ``w_u · w_m`` of every library track, the
session's artist affinity, the generator's raw scores, and the parts of ``b`` (the app: habits,
"this after that", session neighbours, prompt words; the harness: what the train split teaches) —
and :func:`score` mixes them, always in this order:

1. **taste side** = ``w_u · w_m`` + artist affinity (``artist_weight`` × std(w_u · w_m) × affinity,
   :func:`~player_plugin.recommend.artists.artist_bias`);
2. the generator joins the taste side in units of its spread
   (:func:`~player_plugin.recommend.seq2seq_rec.in_taste_units`): ``generator_weight`` of it for the main
   ranking, ``explore_generator_weight`` for the explore slots';
3. **b**: each :class:`Term` adds ``weight`` × ``unit`` × its values, ``unit`` = std(main taste side) /
   ``reference_spread``, so a weight means the same whatever the spread of this fill's taste scores;
   ``-inf`` (an excluded track) stays ``-inf`` even at weight 0. A term marked ``explore`` lifts the
   explore slots' ranking too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from player_plugin.recommend.artists import artist_bias
from player_plugin.recommend.fill_math import mean_std
from player_plugin.recommend.seq2seq_rec import BLEND_WEIGHT, EXPLORE_BLEND_WEIGHT, in_taste_units


@dataclass(frozen=True)
class Term:
    """One part of ``b``: ``weight`` × unit × ``values`` at ``rows`` (None: ``values`` covers every row)."""

    values: np.ndarray
    weight: float
    rows: np.ndarray | None = None
    explore: bool = False  # also added to the explore slots' ranking


@dataclass(frozen=True)
class Scores:
    main: np.ndarray  # taste side + b: ranks the main slots
    explore: np.ndarray  # the explore slots' ranking (taste side with the explore generator weight)
    taste: np.ndarray  # the main ranking's taste side, before b
    base: np.ndarray  # w_u · w_m + artist affinity, before the generator
    generator: np.ndarray | None  # the generator in taste-spread units (None: none, or a flat opinion)


def taste_side(
    taste: np.ndarray,
    *,
    artist: np.ndarray | None = None,
    artist_weight: float = 0.0,
    generator: np.ndarray | None = None,
    generator_weight: float = BLEND_WEIGHT,
    explore_generator_weight: float = EXPLORE_BLEND_WEIGHT,
) -> tuple[np.ndarray, np.ndarray | None]:
    """(``w_u · w_m`` + artist affinity, the generator's raw scores in its units or None): steps 1–2's parts."""
    base = taste if artist is None else taste + artist_bias(taste, artist, artist_weight)
    if generator is None or not (generator_weight or explore_generator_weight):
        return base, None
    return base, in_taste_units(base, generator)


def score(
    taste: np.ndarray,
    bias: Sequence[Term] = (),
    *,
    artist: np.ndarray | None = None,
    artist_weight: float = 0.0,
    generator: np.ndarray | None = None,
    generator_weight: float = BLEND_WEIGHT,
    explore_generator_weight: float = EXPLORE_BLEND_WEIGHT,
    reference_spread: float = 1.0,
) -> Scores:
    """Every library track's score (see module doc). ``taste`` = ``w_u · w_m`` (float, finite)."""
    base, units = taste_side(
        taste,
        artist=artist,
        artist_weight=artist_weight,
        generator=generator,
        generator_weight=generator_weight,
        explore_generator_weight=explore_generator_weight,
    )
    main = base if units is None else base + generator_weight * units
    explore = base if units is None else base + explore_generator_weight * units
    unit = mean_std(main)[1] / reference_spread
    scores, explore_own = main, False
    for term in bias:
        scale = unit * term.weight
        with np.errstate(invalid="ignore"):  # 0 × -inf: the where keeps the -inf
            added = np.where(np.isneginf(term.values), term.values, scale * term.values)
        if term.rows is None:  # a dense term: a new array, in the wider of the two dtypes
            scores = scores + added
            if term.explore:
                explore, explore_own = explore + added, True
            continue
        if scores is main:
            scores = main.copy()
        scores[term.rows] += added
        if term.explore:
            if not explore_own:
                explore, explore_own = explore.copy(), True
            explore[term.rows] += added
    if scores is main:
        scores = main.copy()
    return Scores(scores, explore, main, base, units)


def lift_of(
    bias: Sequence[Term],
    *,
    artist: np.ndarray | None = None,
    artist_weight: float = 0.0,
    artist_rows: np.ndarray | None = None,
    reference_spread: float = 1.0,
) -> tuple[np.ndarray, np.ndarray]:
    """(rows, amounts): what ``bias`` and the artist term add to each row they touch, in units of the
    spread of ``w_u · w_m`` — as :func:`score` adds them, for choosing the rows the first pass rescores
    exactly before the taste scores exist (recommend/first_pass.py). Its unit is the taste's spread
    where :func:`score`'s is the main ranking's (taste and generator): a few per cent apart.
    ``artist_rows``: the rows where ``artist`` is nonzero, when the caller knows them
    (``ArtistIndex.rows_of``: no pass over the library)."""
    rows, amounts = [], []
    for term in bias:
        at = np.flatnonzero(term.values) if term.rows is None else np.asarray(term.rows, np.int64)
        values = term.values[at] if term.rows is None else term.values
        with np.errstate(invalid="ignore"):  # 0 × -inf: an excluded row stays -inf
            rows.append(at)
            amounts.append(np.where(np.isneginf(values), values, (term.weight / reference_spread) * values))
    if artist is not None and artist_weight:
        at = np.flatnonzero(artist) if artist_rows is None else artist_rows
        rows.append(at)
        amounts.append(artist_weight * artist[at])
    if not rows:
        return np.zeros(0, np.int64), np.zeros(0, np.float32)
    return np.concatenate(rows), np.concatenate(amounts).astype(np.float32)
