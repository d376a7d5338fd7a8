"""The replay task's points (``../shared/data/FORMAT.md``, "The replay task"), exactly as defined there.

Each listener alone; the first 80 % of their listens (by count) are warm-up; a point at every 10th
listen of the rest; context = the 10 listens before it; targets = the first 10 distinct tracks
*played* (not skipped) from the point on, within its session, not in the context; points with fewer
than 3 targets are skipped; at most 400 evenly spaced points per listener. The ``new`` view keeps the
targets never listened to before the point (a point left with none is not in that view).

Rows here are *library* indices: a listener's library is every track they ever listened to, numbered
in a fixed shuffled order (:func:`library_of`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from player_plugin.evaluation.histories import History
from player_plugin.recommend.sessions import SessionSplitter


@dataclass(frozen=True)
class ReplayTaskConfig:
    """FORMAT.md's numbers (a decision of the task, not of any recommender)."""

    warmup_fraction: float = 0.8
    every: int = 10
    context: int = 10
    targets: int = 10
    min_targets: int = 3
    max_points: int = 400
    session_gap_s: float = 1800.0


TASK = ReplayTaskConfig()


@dataclass(frozen=True, slots=True)
class ReplayPoint:
    index: int  # the listen the point is at: the recommender knows listens [0, index)
    now: float  # that listen's start time
    context: np.ndarray  # library rows of listens index-10 .. index-1, oldest first
    targets: np.ndarray  # library rows, in the order they are played
    new_targets: np.ndarray  # the targets never listened to before ``index``


def library_of(history: History, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(dataset track index of each library row, the library row of each listen). The rows are in a
    fixed shuffled order: numbered by first listen, a recommender breaking ties by row would favour
    the tracks the listener is about to meet (and the 'new' view would score the future)."""
    uniq, inverse = np.unique(history.tracks, return_inverse=True)
    order = np.random.default_rng(seed).permutation(len(uniq))
    row_of = np.empty_like(order)
    row_of[order] = np.arange(len(order))
    return uniq[order], row_of[inverse].astype(np.int64)


def session_ids(history: History, cfg: ReplayTaskConfig = TASK) -> np.ndarray:
    splitter = SessionSplitter(cfg.session_gap_s)
    return np.fromiter((splitter.add(float(t)) for t in history.ts), np.int64, len(history))


def replay_points(history: History, listen_rows: np.ndarray, cfg: ReplayTaskConfig = TASK) -> list[ReplayPoint]:
    """The evaluation points of one listener (``listen_rows`` from :func:`library_of`)."""
    n = len(history)
    start = int(np.ceil(cfg.warmup_fraction * n))  # listens [0, start) are the 80 % warm-up
    if start < cfg.context:
        start = cfg.context
    sessions = session_ids(history, cfg)
    first_listen = np.full(int(listen_rows.max()) + 1 if n else 0, n, np.int64)
    np.minimum.at(first_listen, listen_rows, np.arange(n))
    points: list[ReplayPoint] = []
    for i in range(start, n, cfg.every):
        context = listen_rows[i - cfg.context : i]
        in_context = set(context.tolist())
        targets: list[int] = []
        j = i
        while j < n and sessions[j] == sessions[i] and len(targets) < cfg.targets:
            row = int(listen_rows[j])
            if not history.skipped[j] and row not in in_context and row not in targets:
                targets.append(row)
            j += 1
        if len(targets) < cfg.min_targets:
            continue
        t = np.asarray(targets, np.int64)
        points.append(ReplayPoint(i, float(history.ts[i]), context.copy(), t, t[first_listen[t] >= i]))
    if len(points) > cfg.max_points:
        keep = np.linspace(0, len(points) - 1, cfg.max_points).round().astype(int)
        points = [points[k] for k in keep]
    return points
