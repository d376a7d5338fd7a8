"""The history folded in one pass: the reference the app's incremental :class:`HistoryState` is checked
against (tests), and what a replay of a whole history needs. The app itself never folds a history in
batch: it keeps :class:`~player_plugin.recommend.history_state.HistoryState` up to date one event at a time.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from player_plugin.models import EventKind
from player_plugin.recommend.config import RecommendConfig
from player_plugin.recommend.profile import LISTEN_KINDS, HistoryEvent, TrackStats, bias_at
from player_plugin.recommend.sessions import SessionSplitter


def track_stats(events: Sequence[HistoryEvent], n: int) -> TrackStats:
    """:class:`TrackStats` of ``events`` (in time order) over ``n`` library rows."""
    stats = TrackStats.empty(n)
    for e in events:
        stats.add(e)
    return stats


def transitions_after(events: Sequence[HistoryEvent], row: int, n: int, cfg: RecommendConfig) -> np.ndarray:
    """How often each track followed ``row`` in your sessions (normalised to [0, 1])."""
    out = np.zeros(n, np.float32)
    if row < 0:
        return out
    splitter = SessionSplitter(cfg.session_gap_s)
    starts = [(e, splitter.add(e.ts)) for e in events]
    starts = [(e, s) for e, s in starts if e.kind == EventKind.PLAY and e.row >= 0]
    for (prev, s_prev), (nxt, s_next) in zip(starts, starts[1:], strict=False):
        if prev.row == row and nxt.row != row and s_prev == s_next:
            out[nxt.row] += 1
    m = float(out.max())
    return out / m if m > 0 else out


def track_bias(
    stats: TrackStats, cfg: RecommendConfig, now: float, transitions: np.ndarray | None = None
) -> np.ndarray:
    """b for every library row (see module doc); excluded tracks get -inf."""
    b = bias_at(stats, slice(None), cfg, now)
    if transitions is not None:
        b += (cfg.bias_transition * transitions).astype(np.float32)
    return b


def listened_rows(events: Sequence[HistoryEvent]) -> list[int]:
    """The tracks heard, oldest first, one entry per listen (a play and its completion or skip are one)."""
    out: list[int] = []
    for e in events:
        if e.row >= 0 and e.kind in LISTEN_KINDS and not (e.kind != EventKind.PLAY and out and out[-1] == e.row):
            out.append(e.row)
    return out


def listening_sessions(events: Sequence[HistoryEvent], cfg: RecommendConfig) -> list[list[int]]:
    """The listens of :func:`listened_rows` in sessions (:mod:`player_plugin.recommend.sessions`);
    a session without a listen (a like after a long silence, say) is not one."""
    sessions: list[list[int]] = []
    splitter = SessionSplitter(cfg.session_gap_s)
    current = -1
    last_row: int | None = None
    for e in events:
        index = splitter.add(e.ts)
        if e.row < 0 or e.kind not in LISTEN_KINDS:
            continue
        if not (e.kind != EventKind.PLAY and last_row == e.row):
            if index != current:
                sessions.append([])
                current = index
            sessions[-1].append(e.row)
            last_row = e.row
    return sessions
