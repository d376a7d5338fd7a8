"""Each pick's reason: a short, true sentence about the strongest evidence behind it.

Candidate reasons — the prompt, the mix's seed, the liked / finished / session track it is closest
to, a habit, "often in your sessions like this one" — each get a strength (:class:`ReasonConfig`);
the strongest is said. An explore pick says "new to you — " first.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from player_plugin.recommend.config import ReasonConfig
from player_plugin.recommend.profile import TrackStats, UserModel
from player_plugin.recommend.queue import Catalog, Pick

REASONS = ReasonConfig()


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
    vectors: Any = None,
    cfg: ReasonConfig = REASONS,
) -> str:
    """``prompt``: the text of ``model.prompt``; ``seed_label``: what a mix was started from (None: no
    mix); ``alike``: row → how strongly your past sessions like this one hold it, in [0, 1];
    ``named``: rows whose genre or artist the prompt names; ``fits``: the rows the prompt's own ranking
    let through (recommend/prompt_space.py) — for those the prompt is the reason, and what the
    history says about the pick follows it. ``vectors``: the rows' vectors (default ``catalog.matrix``;
    a fill passes a ``matrix_file.RowVectors`` of the rows its reasons read)."""
    vectors = catalog.matrix if vectors is None else vectors
    v = vectors[p.row]
    options: list[tuple[float, str]] = []
    if model.prompt is not None and fits is not None and p.row in fits:
        quoted = f"“{_short(prompt or '', cfg.prompt_chars)}”"
        lead = f"{'matches' if named and p.row in named else 'fits'} {quoted}"
        history = replace(model, prompt=None)
        told = lead
        if not history.empty:
            plain = replace(p, explore=False)
            rest = reason(plain, catalog, history, stats, seed_label=seed_label, alike=alike, vectors=vectors, cfg=cfg)
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
            options.append((float(v @ model.prompt) + cfg.prompt_lift, f"{'near' if named else 'matches'} {quoted}"))
    if seed_label is not None:
        options.append((cfg.seed, f"in your mix from {_short(seed_label, cfg.title_chars)}"))
    for rows, template in (
        (model.liked_rows, "like {} you liked"),
        (model.completed_rows, "like {} you finished"),
        (model.session_rows[-cfg.session_tail :], "goes with {}"),
    ):
        others = [r for r in rows if r != p.row]
        if others:
            sims = np.einsum("ij,j->i", vectors[others], v)  # one core: no BLAS threads for a few rows
            best = int(np.argmax(sims))
            title = _short(catalog.titles[others[best]], cfg.title_chars)
            options.append((float(sims[best]), template.format(title)))
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
