"""Listening events → the user side of ``score(u, m) = w_u · w_m + b``.

``w_u`` mixes up to three unit vectors (weights in :class:`RecommendConfig`):

* **long-term taste** — every event since the start of history, weighted by what it says
  (like +2, complete +1, early skip −1, late skip −0.25, dislike −2, …) and halved every
  ``long_half_life_days``: a signed, decayed average of track vectors. Comments the user wrote on
  tracks add their own embedded text here.
* **session** — the tracks of the current session (events with no silence longer than
  ``session_gap_s``), newest first, each step back weighted ``session_decay`` times less; an early
  skip in the session pushes away.
* **prompt** — free text typed by the user, embedded with the query prefix; it leads while set.

``b`` (see :func:`track_bias`) is per track: favourites (completed, liked) come back, tracks you
skip sink, anything played in the last hours is held back, and your own "this after that" habit
lifts what usually follows the current track.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from player_plugin.models import EventKind
from player_plugin.recommend.config import RecommendConfig

NEGATIVE_KINDS = {EventKind.DISLIKE, EventKind.BLOCK, EventKind.QUEUE_REMOVE}


@dataclass(frozen=True, slots=True)
class HistoryEvent:
    """One event with its track's row in the vector matrix (-1 when the track has no vector)."""

    row: int
    kind: EventKind
    ts: float
    position_s: float | None = None
    duration_s: float = 0.0


def _unit(v: np.ndarray | None) -> np.ndarray | None:
    if v is None:
        return None
    n = float(np.linalg.norm(v))
    return None if n < 1e-9 else (v / n).astype(np.float32)


def is_early_skip(e: HistoryEvent, cfg: RecommendConfig) -> bool:
    if e.position_s is None:
        return True
    if e.position_s < cfg.early_skip_s:
        return True
    return e.duration_s > 0 and e.position_s < cfg.early_skip_fraction * e.duration_s


def event_weight(e: HistoryEvent, cfg: RecommendConfig) -> float:
    """What one event says about taste; plays that were neither finished nor skipped say nothing."""
    if e.kind == EventKind.COMPLETE:
        return cfg.weight_complete
    if e.kind == EventKind.LIKE:
        return cfg.weight_like
    if e.kind == EventKind.SKIP:
        return cfg.weight_skip_early if is_early_skip(e, cfg) else cfg.weight_skip_late
    if e.kind == EventKind.DISLIKE:
        return cfg.weight_dislike
    if e.kind == EventKind.BLOCK:
        return cfg.weight_block
    if e.kind == EventKind.QUEUE_REMOVE:
        return cfg.weight_queue_remove
    return 0.0


@dataclass
class UserModel:
    long: np.ndarray | None = None
    session: np.ndarray | None = None
    prompt: np.ndarray | None = None
    session_rows: list[int] = field(default_factory=list)  # current session, oldest first
    liked_rows: list[int] = field(default_factory=list)
    completed_rows: list[int] = field(default_factory=list)

    def vector(self, cfg: RecommendConfig, dim: int) -> np.ndarray:
        """w_u: the unit parts mixed by their weights (zero vector when nothing is known)."""
        total = np.zeros(dim, dtype=np.float32)
        for part, weight in ((self.long, cfg.mix_long), (self.session, cfg.mix_session), (self.prompt, cfg.mix_prompt)):
            if part is not None:
                total += weight * part
        return _unit(total) if np.any(total) else total

    @property
    def empty(self) -> bool:
        return self.long is None and self.session is None and self.prompt is None


def current_session(events: Sequence[HistoryEvent], cfg: RecommendConfig, now: float) -> list[HistoryEvent]:
    """The events of the session still going on at ``now`` (chronological input)."""
    if not events or now - events[-1].ts > cfg.session_gap_s:
        return []
    start = len(events) - 1
    while start > 0 and events[start].ts - events[start - 1].ts <= cfg.session_gap_s:
        start -= 1
    return list(events[start:])


def build_user_model(
    events: Sequence[HistoryEvent],
    matrix: np.ndarray,
    cfg: RecommendConfig,
    now: float,
    prompt: np.ndarray | None = None,
    comments: Sequence[tuple[np.ndarray, float]] = (),
) -> UserModel:
    """``events`` in time order; ``comments`` are (embedded comment, timestamp) pairs."""
    model = UserModel(prompt=_unit(prompt))
    dim = matrix.shape[1] if matrix.ndim == 2 else 0
    long = np.zeros(dim, dtype=np.float64)
    decay_per_s = math.log(2) / (cfg.long_half_life_days * 86400.0)
    liked: dict[int, None] = {}
    completed: dict[int, None] = {}
    for e in events:
        if e.row < 0:
            continue
        w = event_weight(e, cfg)
        if w:
            long += w * math.exp(-decay_per_s * max(0.0, now - e.ts)) * matrix[e.row]
        if e.kind == EventKind.LIKE:
            liked[e.row] = None
        elif e.kind == EventKind.COMPLETE:
            completed[e.row] = None
        elif e.kind in (EventKind.DISLIKE, EventKind.BLOCK):
            liked.pop(e.row, None)
            completed.pop(e.row, None)
    for vec, ts in comments:
        long += cfg.weight_comment * math.exp(-decay_per_s * max(0.0, now - ts)) * vec
    model.long = _unit(long.astype(np.float32)) if dim else None
    model.liked_rows = list(liked)[-50:]
    model.completed_rows = list(completed)[-200:]

    session = np.zeros(dim, dtype=np.float64)
    rows: list[int] = []
    for e in reversed(current_session(events, cfg, now)):
        if e.row < 0 or e.kind not in (EventKind.PLAY, EventKind.COMPLETE, EventKind.SKIP, EventKind.LIKE):
            continue
        if e.kind == EventKind.PLAY and e.row in rows:
            continue  # its completion or skip (later, seen first) already counted
        if e.row not in rows:
            rows.append(e.row)
        step = len(rows) - 1
        if step >= cfg.session_tracks:
            break
        sign = -0.5 if e.kind == EventKind.SKIP and is_early_skip(e, cfg) else 1.0
        session += sign * (cfg.session_decay**step) * matrix[e.row]
    model.session = _unit(session.astype(np.float32)) if rows else None
    model.session_rows = list(reversed(rows))
    return model


@dataclass
class TrackStats:
    """Per-track behaviour counters over the library rows (arrays of length n)."""

    plays: np.ndarray
    completes: np.ndarray
    skips: np.ndarray
    likes: np.ndarray
    last_played: np.ndarray  # unix seconds, 0 = never
    excluded: np.ndarray  # bool: disliked, blocked or removed from the queue (and not liked since)

    @classmethod
    def from_events(cls, events: Sequence[HistoryEvent], n: int) -> TrackStats:
        plays = np.zeros(n, np.float32)
        completes = np.zeros(n, np.float32)
        skips = np.zeros(n, np.float32)
        likes = np.zeros(n, np.float32)
        last = np.zeros(n, np.float64)
        excluded = np.zeros(n, bool)
        for e in events:
            if e.row < 0:
                continue
            if e.kind == EventKind.PLAY:
                plays[e.row] += 1
                last[e.row] = max(last[e.row], e.ts)
            elif e.kind == EventKind.COMPLETE:
                completes[e.row] += 1
                last[e.row] = max(last[e.row], e.ts)
            elif e.kind == EventKind.SKIP:
                skips[e.row] += 1
            elif e.kind == EventKind.LIKE:
                likes[e.row] = 1
                excluded[e.row] = False
            elif e.kind in NEGATIVE_KINDS:
                excluded[e.row] = True
                if e.kind != EventKind.QUEUE_REMOVE:
                    likes[e.row] = 0
        return cls(plays, completes, skips, likes, last, excluded)

    @property
    def played(self) -> np.ndarray:
        return (self.plays + self.completes) > 0


def transitions_after(events: Sequence[HistoryEvent], row: int, n: int, cfg: RecommendConfig) -> np.ndarray:
    """How often each track followed ``row`` in your sessions (normalised to [0, 1])."""
    out = np.zeros(n, np.float32)
    if row < 0:
        return out
    starts = [e for e in events if e.kind == EventKind.PLAY and e.row >= 0]
    for prev, nxt in zip(starts, starts[1:], strict=False):
        if prev.row == row and nxt.row != row and nxt.ts - prev.ts <= cfg.session_gap_s:
            out[nxt.row] += 1
    m = float(out.max())
    return out / m if m > 0 else out


def track_bias(
    stats: TrackStats, cfg: RecommendConfig, now: float, transitions: np.ndarray | None = None
) -> np.ndarray:
    """b for every library row (see module doc); excluded tracks get -inf."""
    b = cfg.bias_completes * np.log1p(stats.completes) + cfg.bias_likes * stats.likes
    listened = np.maximum(stats.plays, stats.completes + stats.skips)
    b -= cfg.bias_skip_rate * np.divide(stats.skips, listened, out=np.zeros_like(stats.skips), where=listened > 0)
    hours = (now - stats.last_played) / 3600.0
    recent = np.where(stats.last_played > 0, np.exp(-np.maximum(hours, 0.0) / cfg.recent_hours), 0.0)
    b -= cfg.bias_recent * recent.astype(np.float32)
    if transitions is not None:
        b += cfg.bias_transition * transitions
    b = b.astype(np.float32)
    b[stats.excluded] = -np.inf
    return b
