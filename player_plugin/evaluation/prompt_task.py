"""The prompt task (issue 14): a playlist's name typed as a prompt, scored on the real product path.

For every named playlist of a split: the prompt is the name, the library is the dataset, the targets
are the playlist's tracks. ``upnext`` is a fresh history in the product's ``Engine`` (one temporary
library database for the whole run, the history forgotten between points): at history length 0, 20
or 200, the listener first played — to the end, one after another, the last a minute ago — tracks
drawn deterministically from *other* train playlists (an unrelated taste, still in session), then
types the name; ``refill(10)`` is scored. ``content`` ranks the library by the prompt's query vector
alone. Beside NDCG@10, P@10 and Hit@10: the **language gap**, the mean absolute difference between
the share of CJK-titled tracks in the top 10 and among the targets.
"""

from __future__ import annotations

import hashlib
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from player_plugin.evaluation.dataset import Dataset, Split
from player_plugin.evaluation.evaluate import top_k
from player_plugin.evaluation.metrics import K, all_metrics
from player_plugin.text_norm import has_cjk

HISTORY_LENGTHS = (0, 20, 200)
PLAY_SPACING_S = 240.0  # one history play every four minutes ...
LAST_PLAY_AGO_S = 60.0  # ... the last ended a minute before the prompt: the listener is mid-session
NOW = 1_700_000_000.0  # the fixed "now" of every point (a replayable clock)
PROMPT_RECOMMENDERS = ("content", "upnext")
is_cjk = has_cjk  # the product's script test (text_norm.has_cjk)


def history_rows(dataset: Dataset, playlist_id: str, length: int) -> list[int]:
    """``length`` plays from train playlists other than ``playlist_id``, in an order fixed by its id."""
    if length <= 0:
        return []
    others = [p for p in dataset.split("train") if p.playlist_id != playlist_id]
    seed = int(hashlib.sha1(playlist_id.encode("utf-8")).hexdigest()[:8], 16)
    out: list[int] = []
    for i in np.random.default_rng(seed).permutation(len(others)):
        out.extend(int(t) for t in others[i].tracks)
        if len(out) >= length:
            break
    return out[:length]


class EnginePrompt:
    """One library database for the run; per point: forget, replay the history, set the prompt, refill."""

    def __init__(self, dataset: Dataset, vectors: np.ndarray, model_id: str, encoder_factory: Callable) -> None:
        from player_plugin.engine import Engine
        from player_plugin.evaluation.replay_engine import store_library

        self._tmp = tempfile.TemporaryDirectory(prefix="player-plugin-prompt-")
        self.now = NOW
        db, self.track_ids = store_library(
            Path(self._tmp.name) / "library.db", dataset, np.arange(dataset.n_tracks), vectors, model_id, "prompt"
        )
        self.row_of = {int(t): r for r, t in enumerate(self.track_ids.tolist())}
        self.engine = Engine(db, encoder_factory=encoder_factory, model_id=model_id, clock=lambda: self.now)

    def rank(self, prompt: str, history: Sequence[int], k: int) -> np.ndarray:
        engine = self.engine
        engine.set_prompt(None)
        engine.forget_history()
        start = NOW - LAST_PLAY_AGO_S - PLAY_SPACING_S * len(history)
        for j, row in enumerate(history):
            track = int(self.track_ids[row])
            t = start + j * PLAY_SPACING_S
            engine.track_started(track, at=t)
            engine.track_ended(track, PLAY_SPACING_S, PLAY_SPACING_S, at=t + PLAY_SPACING_S)
        engine.set_prompt(prompt)
        entries = engine.refill(k)
        return np.asarray([self.row_of[e.track_id] for e in entries if e.track_id in self.row_of][:k], np.int64)

    def close(self) -> None:
        self.engine.close()
        self._tmp.cleanup()


def evaluate_prompts(
    dataset: Dataset,
    names: Sequence[str],
    vectors: np.ndarray,
    encoder: Any,
    model: str,
    split: Split | str = "test",
    *,
    lengths: Sequence[int] = HISTORY_LENGTHS,
    k: int = K,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    splits = ("train", "validation") if split == "train+validation" else (split,)
    points = [p for s in splits for p in dataset.split(s) if p.name.strip()]  # type: ignore[arg-type]
    cjk = np.fromiter((is_cjk(t) for t in dataset.titles), bool, dataset.n_tracks)
    queries = {p.playlist_id: encoder.embed_query(p.name.strip()) for p in points}
    results: dict[str, Any] = {}
    for name in names:
        t0 = time.perf_counter()
        ranker = EnginePrompt(dataset, vectors, model, lambda _mid: encoder) if name == "upnext" else None
        if name not in PROMPT_RECOMMENDERS:
            raise ValueError(f"unknown prompt-task recommender {name!r}; known: {', '.join(PROMPT_RECOMMENDERS)}")
        try:
            per_length: dict[str, Any] = {}
            for length in lengths:
                rows: list[dict[str, float]] = []
                for p in points:
                    targets = set(np.unique(p.tracks).tolist())
                    if ranker is None:
                        ranked = top_k(vectors @ queries[p.playlist_id], k)
                    else:
                        ranked = ranker.rank(p.name.strip(), history_rows(dataset, p.playlist_id, length), k)
                    m = all_metrics(ranked, targets, k)
                    share_top = float(cjk[ranked].mean()) if len(ranked) else 0.0
                    m["language_gap"] = abs(share_top - float(cjk[list(targets)].mean()))
                    rows.append(m)
                per_length[f"h{length}"] = {
                    **{
                        key: float(np.mean([r[key] for r in rows])) if rows else None
                        for key in (f"ndcg@{k}", f"precision@{k}", f"hit@{k}", "language_gap")
                    },
                    "points": len(rows),
                }
            results[name] = per_length
        finally:
            if ranker is not None:
                ranker.close()
        if progress:
            progress(
                f"{name}: {len(points)} prompts × {len(lengths)} history lengths in {time.perf_counter() - t0:.1f}s"
            )
    return {"dataset": dataset.name, "task": "prompt", "split": split, "model": model, "results": results}


def format_prompt_table(result: dict[str, Any], k: int = K) -> str:
    lines = [
        f"dataset: {result['dataset']}  task: prompt  split: {result['split']}  model: {result['model']}",
        f"{'recommender':<12} {'history':>7} {'NDCG@' + str(k):>8} {'P@' + str(k):>7} {'Hit@' + str(k):>7} "
        f"{'lang gap':>8} {'points':>6}",
    ]
    for name, per in result["results"].items():
        for h, r in per.items():
            lines.append(
                f"{name:<12} {h:>7} {r[f'ndcg@{k}']:>8.4f} {r[f'precision@{k}']:>7.4f} {r[f'hit@{k}']:>7.4f} "
                f"{r['language_gap']:>8.3f} {r['points']:>6d}"
            )
    return "\n".join(lines)
