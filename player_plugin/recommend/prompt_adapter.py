"""The prompt adapter: the step from what a typed wish says to where its music lies in the track space.

The prompt's own ranking (recommend/prompt_space.py) compares the prompt's query vector with each
track's vector. The e5 encoder reads a request ("欧美R&B入坑曲", "抖腿车载DJ硬曲 | 低音炮震撼低沉鼓点")
as a sentence and a track as its title, artist and lyrics, and the two land in different regions of
its space: the closest tracks to a request are often those whose *words* echo it, not the music it
names. The shipped adapter (``resources/prompt_adapter/<model id>.npz``, a ridge regression fitted by
``export/train_prompt_adapter.py`` on netease-dev's train and validation playlists: each name and its
tags → the mean vector of its tracks) predicts that region, and the prompt leads by
``q + alpha · q W`` (unit length) instead of the query ``q`` alone: the prompt's fit (Up Next's gate,
``similar``) and its part of ``w_u`` (which orders the gate) go by it; the generator keeps reading
the prompt's own vector, which it was trained on (``RecommendService.prompt_lead_vector``).
Measured through the real engine with the adapter fitted without each name's fold: the prompt
task's NDCG@10 at h0 / h20 / h200 on train + validation 0.111 / 0.107 / 0.103 → 0.141 / 0.125 /
0.126 (docs/evaluation.md, "The prompt task").

Every name and tag it was fitted on is written in Chinese, so it leads only prompts written in CJK
(like the prompt-script head, recommend/prompt_language.py): an English prompt's query sits in
another part of the space, where nothing says what the regression does. Its input and output are
the centred query and the centred track space the fit uses.
"""

from __future__ import annotations

import logging
from functools import lru_cache

import numpy as np

from player_plugin.recommend.fill_math import one_thread_product
from player_plugin.recommend.shipped_fits import knows_script, read_fit

log = logging.getLogger(__name__)
ADAPTER_FOLDER = "prompt_adapter"


class PromptAdapter:
    """``lead(q) = normalise(q + alpha · q W)`` for the prompts in the script it was fitted on."""

    def __init__(self, weight: np.ndarray, alpha: float, prompts: str = "any") -> None:
        self.weight, self.alpha, self.prompts = weight, float(alpha), prompts
        self._by_row = np.ascontiguousarray(weight.T, np.float32)  # q W as W^T q, in one-thread BLAS pieces

    def knows(self, prompt: str) -> bool:
        """Whether it was fitted on prompts in this prompt's script (the shipped one: CJK only)."""
        return knows_script(self.prompts, prompt)

    def lead(self, query: np.ndarray) -> np.ndarray:
        """The vector the prompt leads by (``query`` itself when the sizes do not match)."""
        q = np.asarray(query, np.float32).ravel()
        if q.shape != (self.weight.shape[0],) or self.weight.shape[0] != self.weight.shape[1]:
            return q
        v = q + np.float32(self.alpha) * one_thread_product(self._by_row, q)
        norm = float(np.linalg.norm(v))
        return (v / norm).astype(np.float32) if norm > 1e-12 and np.isfinite(norm) else q


@lru_cache(maxsize=4)
def prompt_adapter(model_id: str) -> PromptAdapter | None:
    """The adapter for ``model_id``, or None when none ships or it is damaged (said once in the log)."""

    def build(about: dict, f, prompts: str) -> PromptAdapter:
        weight, alpha = np.asarray(f["weight"], np.float32), float(about.get("alpha", 0.0))
        if weight.ndim != 2 or weight.shape[0] != weight.shape[1]:
            raise ValueError(f"its weight has shape {weight.shape}, not [dim, dim]")
        if not np.all(np.isfinite(weight)) or not np.isfinite(alpha) or alpha < 0:
            raise ValueError("its numbers are not finite and non-negative")
        return PromptAdapter(weight, alpha, prompts)

    return read_fit(ADAPTER_FOLDER, model_id, "prompt adapter", build)


def learned_lead(query: np.ndarray, prompt: str | None, model_id: str) -> np.ndarray:
    """What the prompt leads by (its fit, its part of ``w_u``): the adapter's lead for a prompt it
    knows, else ``query``."""
    adapter = prompt_adapter(model_id)
    if adapter is None or not prompt or not adapter.knows(prompt):
        return np.asarray(query, np.float32)
    return adapter.lead(query)


def prompt_lead(query: np.ndarray, prompt: str | None, model_id: str) -> np.ndarray:
    """:func:`learned_lead`, looked up at call time (``export/train_prompt_adapter.py --prompt-task``
    puts a cross-validated one in its place)."""
    return learned_lead(query, prompt, model_id)
