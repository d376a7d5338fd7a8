"""Each pick's reason: a short, true sentence about the strongest evidence behind it.

Candidate reasons — the prompt, the mix's seed, the liked / finished / session track it is closest
to, a habit, "often in your sessions like this one" — each get a strength (:class:`ReasonConfig`);
the strongest is said. An explore pick says "new to you — " first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from player_plugin.recommend.config import ReasonConfig
from player_plugin.recommend.fill_math import one_thread_product
from player_plugin.recommend.profile import TrackStats, UserModel
from player_plugin.recommend.queue import Catalog, Pick

REASONS = ReasonConfig()
_TEMPLATES = ("like {} you liked", "like {} you finished", "goes with {}")


class Likeness:
    """For each of a fill's picks, the liked, the finished and the session track most like it (not
    itself): one read of their vectors and one product per list for all the picks, where each pick's
    reason read and multiplied its own copy of every list. ``vector(row)`` is a pick's vector."""

    def __init__(self, matrix: Any, model: UserModel, rows: Sequence[int], cfg: ReasonConfig = REASONS) -> None:
        lists = [np.asarray(r, np.int64) for r in (model.liked_rows, model.completed_rows)]
        lists.append(np.asarray(model.session_rows[-cfg.session_tail :], np.int64))
        picks = np.asarray(list(dict.fromkeys(int(r) for r in rows)), np.int64)
        wanted = np.unique(np.concatenate([picks, *lists]))
        self._data = matrix[wanted] if len(wanted) else np.zeros((0, matrix.shape[1]), np.float32)
        self._at = {r: i for i, r in enumerate(picks.tolist())}
        own = self._data[np.searchsorted(wanted, picks)]
        self._own = own
        self._best: list[tuple[np.ndarray, np.ndarray] | None] = []
        for others in lists:
            if not len(others) or not len(picks):
                self._best.append(None)
                continue
            sims = one_thread_product(own, self._data[np.searchsorted(wanted, others)].T)
            sims[others[None, :] == picks[:, None]] = -np.inf  # a track is not like itself
            best = np.argmax(sims, axis=1)
            self._best.append((others[best], sims[np.arange(len(picks)), best]))

    def vector(self, row: int) -> np.ndarray:
        return self._own[self._at[row]]

    def closest(self, which: int, row: int) -> tuple[int, float] | None:
        """(the track of list ``which`` — 0 liked, 1 finished, 2 the session's tail — most like ``row``, its
        cosine); None when that list holds no other track."""
        got = self._best[which]
        if got is None:
            return None
        i = self._at[row]
        value = float(got[1][i])
        return (int(got[0][i]), value) if value > -np.inf else None


def reason(
    p: Pick,
    catalog: Catalog,
    model: UserModel,
    stats: TrackStats,
    *,
    prompt: str | None = None,
    seed_label: str | None = None,
    alike: dict[int, float] | None = None,
    named: set[int] | None = None,
    fits: set[int] | None = None,
    near: set[int] | None = None,
    likeness: Likeness | None = None,
    cfg: ReasonConfig = REASONS,
) -> str:
    """``prompt``: the text of ``model.prompt``; ``seed_label``: what a mix was started from (None: no
    mix); ``alike``: row → how strongly your past sessions like this one hold it, in [0, 1];
    ``named``: rows whose genre or artist the prompt names; ``fits``: the rows the prompt's own ranking
    let through (recommend/prompt_space.py) — for those the prompt is the reason, and what the
    history says about the pick follows it; of those, ``near``: the ones past the best few that can be
    picked now (a small library's gate holds more than its real fits), "near" the prompt. ``likeness``: the fill's
    :class:`Likeness` of its picks (default: one made for this pick alone)."""
    likeness = likeness if likeness is not None else Likeness(catalog.matrix, model, [p.row], cfg)
    options: list[tuple[float, str]] = []
    if model.prompt is not None and fits is not None and p.row in fits:
        quoted = f"“{_short(prompt or '', cfg.prompt_chars)}”"
        how = "matches" if named and p.row in named else ("near" if near and p.row in near else "fits")
        lead = f"{how} {quoted}"
        history = replace(model, prompt=None)
        told = lead
        if not history.empty:
            plain = replace(p, explore=False)
            rest = reason(
                plain, catalog, history, stats, seed_label=seed_label, alike=alike, likeness=likeness, cfg=cfg
            )
            if rest != "Close to your taste":
                told = f"{lead}; {rest[0].lower()}{rest[1:]}"
        return ("new to you — " + told) if p.explore else told[0].upper() + told[1:]
    if model.prompt is not None:
        # A genre or artist the prompt names is the surest match there is. When the prompt names
        # some and not this track's, the encoder's closeness is all there is: "near", not "matches".
        quoted = f"“{_short(prompt or '', cfg.prompt_chars)}”"
        if named and p.row in named:
            options.append((cfg.named_by_prompt, f"matches {quoted}"))
        else:
            near = float(likeness.vector(p.row) @ model.prompt) + cfg.prompt_lift
            options.append((near, f"{'near' if named else 'matches'} {quoted}"))
    if seed_label is not None:
        options.append((cfg.seed, f"in your mix from {_short(seed_label, cfg.title_chars)}"))
    for which, template in enumerate(_TEMPLATES):
        got = likeness.closest(which, p.row)
        if got is not None:
            options.append((got[1], template.format(_short(catalog.titles[got[0]], cfg.title_chars))))
    if alike and alike.get(p.row, 0.0) >= cfg.alike_sessions_min:
        options.append((cfg.alike_sessions, "often in your sessions like this one"))
    if stats.completes[p.row] >= cfg.often_back_completes:
        options.append((cfg.often_back, "you often come back to this"))
    elif stats.likes[p.row] > 0:
        options.append((cfg.liked, "you liked this"))
    fallback = "a start — like, skip or type a mood to steer" if model.empty else "close to your taste"
    best_reason = max(options, default=(0.0, fallback))[1]
    if p.explore:
        return "new to you — " + best_reason
    return best_reason[0].upper() + best_reason[1:] if best_reason else best_reason


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
