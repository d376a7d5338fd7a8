"""Artist affinity: "more from the artists you are listening to now".

In real listening, runs of one artist are the strongest single signal text similarity misses
(two songs by one singer need not share a single word). The affinity of a track is the
recency-weighted share of the session's tracks that share one of its artists, in [0, 1]; the
score adds it in units of the spread of the taste scores (``bias_artist``), so it mixes with
cosines the same way on any model.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from player_plugin.recommend.fill_math import mean_std


class ArtistIndex:
    """Rows of each (normalised) artist."""

    def __init__(self, artist_sets: Sequence[frozenset[str] | set[str] | Sequence[str]]) -> None:
        self.row_artists = [tuple(a) for a in artist_sets]
        index: dict[str, list[int]] = {}
        for row, artists in enumerate(self.row_artists):
            for a in artists:
                index.setdefault(a, []).append(row)
        self.rows = {a: np.asarray(r, dtype=np.int64) for a, r in index.items()}
        self.n = len(self.row_artists)

    def affinity(self, session_rows: Sequence[int], decay: float = 0.8, full_at: int = 10) -> np.ndarray:
        """Recency-weighted share of ``session_rows`` (oldest first) sharing an artist with each row,
        times min(1, len(session) / ``full_at``): one play says little about wanting more of an
        artist, ten say a lot."""
        out = np.zeros(self.n, dtype=np.float32)
        rows = [r for r in session_rows if r >= 0]
        if not rows:
            return out
        weights = decay ** np.arange(len(rows))[::-1]
        weights = weights / weights.sum()
        for row, w in zip(rows, weights, strict=True):
            for a in self.row_artists[row]:
                out[self.rows[a]] += w
        return np.minimum(out, 1.0) * min(1.0, len(rows) / max(full_at, 1))

    def rows_of(self, session_rows: Sequence[int]) -> np.ndarray:
        """The rows :meth:`affinity` makes nonzero: every track of an artist of ``session_rows`` (sorted)."""
        parts = [self.rows[a] for r in session_rows if r >= 0 for a in self.row_artists[r]]
        return np.unique(np.concatenate(parts)) if parts else np.zeros(0, np.int64)


def artist_bias(taste: np.ndarray, affinity: np.ndarray, weight: float) -> np.ndarray:
    """``weight`` × std(taste) × affinity: the artist term of ``b``."""
    if not weight or not np.any(affinity):
        return np.zeros_like(taste)
    spread = mean_std(taste)[1]
    if not np.isfinite(spread):  # a -inf (an excluded track) among them: the spread of the rest
        finite = taste[np.isfinite(taste)]
        spread = mean_std(finite)[1] if len(finite) else 0.0
    return np.float32(weight * spread) * affinity
