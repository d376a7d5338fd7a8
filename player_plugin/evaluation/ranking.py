"""The Up Next slot layout for the harness: :func:`player_plugin.recommend.queue.pick`'s main and explore slots
without the per-user rules (the harness has no users, blocklists or queue)."""

from __future__ import annotations

import numpy as np

from player_plugin.recommend.config import RecommendConfig
from player_plugin.recommend.queue import explore_positions, explore_scores, top_rows


def rank_for_evaluation(
    scores: np.ndarray, taste: np.ndarray, never_played: np.ndarray, k: int, cfg: RecommendConfig, exclude: np.ndarray
) -> np.ndarray:
    """The same slot layout as :func:`pick`, without the per-user rules (the harness has no users)."""
    scores = scores.copy()
    scores[exclude] = -np.inf
    taste = np.where(np.isfinite(scores), taste, -np.inf)
    main = top_rows(scores, k)
    block = max(cfg.explore_block, 1)
    explore_at = explore_positions(cfg)
    explore = top_rows(explore_scores(taste, never_played, cfg), k)
    out: list[int] = []
    chosen: set[int] = set()
    mi = ei = 0
    for position in range(k):
        want_explore = (position % block) in explore_at  # the same places as pick()
        if want_explore:
            while ei < len(explore) and int(explore[ei]) in chosen:
                ei += 1
            if ei < len(explore):
                out.append(int(explore[ei]))
                chosen.add(int(explore[ei]))
                continue
        while mi < len(main) and int(main[mi]) in chosen:
            mi += 1
        if mi < len(main):
            out.append(int(main[mi]))
            chosen.add(int(main[mi]))
    return np.asarray(out, dtype=np.int64)
