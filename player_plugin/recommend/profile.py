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

``b`` (see :func:`bias_at`) is per track: favourites (completed, liked) come back, tracks you
skip sink, anything played in the last hours is held back, your own "this after that" habit
lifts what usually follows the current track, and your past sessions that look like this one
lift what else they held (:mod:`neighbours`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from player_plugin.models import EventKind
from player_plugin.recommend.config import RecommendConfig
from player_plugin.recommend.fill_math import one_thread_product
from player_plugin.recommend.sessions import current_session_start

NEGATIVE_KINDS = {EventKind.DISLIKE, EventKind.BLOCK, EventKind.QUEUE_REMOVE}


@dataclass(frozen=True, slots=True)
class HistoryEvent:
    """One event with its track's row in the vector matrix (-1 when the track has no vector)."""

    row: int
    kind: EventKind
    ts: float
    position_s: float | None = None
    duration_s: float = 0.0


def unit_vector(v: np.ndarray | None) -> np.ndarray | None:
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
    evidence: int = 0  # distinct tracks an event said something about, plus comments

    def history_weight(self, cfg: RecommendConfig) -> float:
        """How much the history part counts next to a prompt: grows to 1 at ``history_full_at`` tracks."""
        if cfg.history_full_at <= 0:
            return 1.0
        return min(1.0, self.evidence / cfg.history_full_at)

    def prompt_share(self, cfg: RecommendConfig) -> float:
        """The prompt's share of the mix that makes w_u (0 without a prompt, 1 with nothing else)."""
        if self.prompt is None:
            return 0.0
        rest = sum(w for part, w in ((self.long, cfg.mix_long), (self.session, cfg.mix_session)) if part is not None)
        rest *= self.history_weight(cfg)
        return cfg.mix_prompt / (cfg.mix_prompt + rest) if cfg.mix_prompt + rest > 0 else 1.0

    def vector(self, cfg: RecommendConfig, dim: int, sample: np.ndarray | None = None) -> np.ndarray:
        """w_u: the unit parts mixed by their weights (zero vector when nothing is known).

        ``sample``: a few hundred library vectors. A prompt is a query and tracks are passages, and a
        query's cosines to passages are compressed (e5: 0.80–0.83 where track-to-track cosines span
        0.7–0.95), so at face value a prompt barely reorders anything. With a sample, the prompt part
        is scaled by spread(history part) / spread(prompt part) over it, so ``mix_prompt`` means what it
        says. With a prompt, the history part is also weighted by :meth:`history_weight`: until a few
        tracks have said something, the typed wish leads alone. w_u stays one vector: the score is still
        w_u · w_m + b.
        """
        history = np.zeros(dim, dtype=np.float32)
        for part, weight in ((self.long, cfg.mix_long), (self.session, cfg.mix_session)):
            if part is not None:
                history += weight * part
        total = history.copy()
        if self.prompt is not None:
            total *= self.history_weight(cfg)
            scale = 1.0
            if sample is not None and len(sample) > 1 and np.any(history):
                both = one_thread_product(sample, np.stack([self.prompt, history / np.linalg.norm(history)], axis=1))
                spread_prompt, spread_history = float(np.std(both[:, 0])), float(np.std(both[:, 1]))
                if spread_prompt > 1e-9:
                    scale = spread_history / spread_prompt
            total += cfg.mix_prompt * scale * self.prompt
        return unit_vector(total) if np.any(total) else total

    @property
    def empty(self) -> bool:
        return self.long is None and self.session is None and self.prompt is None


def current_session(events: Sequence[HistoryEvent], cfg: RecommendConfig, now: float) -> list[HistoryEvent]:
    """The events of the session still going on at ``now`` (chronological input; :mod:`.sessions`)."""
    start = current_session_start(events, cfg.session_gap_s, now)
    return list(events[start:])


def session_part(
    events: Sequence[HistoryEvent], matrix: np.ndarray, cfg: RecommendConfig, now: float
) -> tuple[np.ndarray | None, list[int]]:
    """The session vector and its tracks (oldest first) from the current session of ``events``.

    Newest track first, each distinct track one step further back (``session_decay`` per step,
    ``session_tracks`` at most); every play/complete/like counts +1 at its track's step, an early
    skip −0.5. A track disliked or blocked (and not played or liked again since) leaves the session.
    """
    dim = matrix.shape[1] if matrix.ndim == 2 else 0
    session = np.zeros(dim, dtype=np.float64)
    rows: list[int] = []
    step_of: dict[int, int] = {}
    rejected: set[int] = set()
    for e in reversed(current_session(events, cfg, now)):
        if e.row < 0 or e.row in rejected:
            continue
        if e.kind in (EventKind.DISLIKE, EventKind.BLOCK) and e.row not in step_of:
            rejected.add(e.row)
            continue
        if e.kind not in (EventKind.PLAY, EventKind.COMPLETE, EventKind.SKIP, EventKind.LIKE):
            continue
        if e.kind == EventKind.PLAY and e.row in step_of:
            continue  # its completion or skip (later, seen first) already counted
        step = step_of.get(e.row)
        if step is None:
            if len(rows) >= cfg.session_tracks:
                break
            step = step_of[e.row] = len(rows)
            rows.append(e.row)
        sign = -0.5 if e.kind == EventKind.SKIP and is_early_skip(e, cfg) else 1.0
        session += sign * (cfg.session_decay**step) * matrix[e.row]
    vec = unit_vector(session.astype(np.float32)) if rows else None
    return vec, list(reversed(rows))


def note_favourite(liked: dict[int, None], completed: dict[int, None], e: HistoryEvent) -> None:
    """Keep the liked / completed tracks in order of their latest like / completion."""
    if e.kind == EventKind.LIKE:
        liked.pop(e.row, None)
        liked[e.row] = None
    elif e.kind == EventKind.COMPLETE:
        completed.pop(e.row, None)
        completed[e.row] = None
    elif e.kind in (EventKind.DISLIKE, EventKind.BLOCK):
        liked.pop(e.row, None)
        completed.pop(e.row, None)


def build_user_model(
    events: Sequence[HistoryEvent],
    matrix: np.ndarray,
    cfg: RecommendConfig,
    now: float,
    prompt: np.ndarray | None = None,
    comments: Sequence[tuple[np.ndarray, float]] = (),
) -> UserModel:
    """``events`` in time order; ``comments`` are (embedded comment, timestamp) pairs."""
    model = UserModel(prompt=unit_vector(prompt))
    dim = matrix.shape[1] if matrix.ndim == 2 else 0
    long = np.zeros(dim, dtype=np.float64)
    decay_per_s = math.log(2) / (cfg.long_half_life_days * 86400.0)
    liked: dict[int, None] = {}
    completed: dict[int, None] = {}
    evidence: set[int] = set()
    for e in events:
        if e.row < 0:
            continue
        w = event_weight(e, cfg)
        if w:
            long += w * math.exp(-decay_per_s * max(0.0, now - e.ts)) * matrix[e.row]
            evidence.add(e.row)
        note_favourite(liked, completed, e)
    for vec, ts in comments:
        long += cfg.weight_comment * math.exp(-decay_per_s * max(0.0, now - ts)) * vec
    model.evidence = len(evidence) + len(comments)
    model.long = unit_vector(long) if dim else None
    model.liked_rows = list(liked)[-50:]
    model.completed_rows = list(completed)[-200:]

    model.session, model.session_rows = session_part(events, matrix, cfg, now)
    return model


# A finished play keeps a track "in rotation" with weight exp(-age / 14 days): the time constant with
# which the replay task's recency baseline (FORMAT.md) ranks a listener's own plays best.
RETURN_TIME_CONSTANT_S = 14 * 86400.0
RETURN_REBASE_AT = 30.0  # exp(30) ≈ 1e13: the reference time moves on long before float64 could overflow


@dataclass
class TrackStats:
    """Per-track behaviour counters over the library rows (arrays of length n)."""

    plays: np.ndarray
    completes: np.ndarray
    skips: np.ndarray
    likes: np.ndarray
    last_played: np.ndarray  # unix seconds, 0 = never
    excluded: np.ndarray  # bool: disliked, blocked or removed from the queue (and not liked since)
    # Σ exp((ts - returns_ref) / RETURN_TIME_CONSTANT_S) over finished plays: how much a track is in your
    # rotation now (a recent favourite high, one you wore out years ago low). Only ratios are used.
    returns: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float64))
    returns_ref: float | None = None

    @classmethod
    def empty(cls, n: int) -> TrackStats:
        z = np.zeros(n, np.float32)
        return cls(z, z.copy(), z.copy(), z.copy(), np.zeros(n, np.float64), np.zeros(n, bool), np.zeros(n))

    def _add_return(self, row: int, ts: float) -> None:
        if self.returns_ref is None:
            self.returns_ref = ts
        x = (ts - self.returns_ref) / RETURN_TIME_CONSTANT_S
        if x > RETURN_REBASE_AT:
            self.returns *= math.exp(-x)
            self.returns_ref, x = ts, 0.0
        self.returns[row] += math.exp(x)

    def in_rotation(self, rows: np.ndarray | slice) -> np.ndarray:
        """``returns`` of ``rows`` relative to the library's most returned-to track: [0, 1]."""
        top = float(self.returns.max()) if len(self.returns) else 0.0
        return self.returns[rows] / top if top > 0 else np.zeros_like(self.returns[rows])

    def add(self, e: HistoryEvent) -> None:
        """Count one more event (events in time order)."""
        if e.row < 0:
            return
        if e.kind == EventKind.PLAY:
            self.plays[e.row] += 1
            self.last_played[e.row] = max(self.last_played[e.row], e.ts)
        elif e.kind == EventKind.COMPLETE:
            self.completes[e.row] += 1
            self.last_played[e.row] = max(self.last_played[e.row], e.ts)
            self._add_return(e.row, e.ts)
        elif e.kind == EventKind.SKIP:
            self.skips[e.row] += 1
            self.last_played[e.row] = max(self.last_played[e.row], e.ts)  # heard a moment ago too
        elif e.kind == EventKind.LIKE:
            self.likes[e.row] = 1
            self.excluded[e.row] = False
        elif e.kind in NEGATIVE_KINDS:
            self.excluded[e.row] = True
            if e.kind != EventKind.QUEUE_REMOVE:
                self.likes[e.row] = 0

    @property
    def played(self) -> np.ndarray:
        """Heard (started, finished or skipped) or liked: not "new to you" any more."""
        return self.played_at(slice(None))

    def played_at(self, rows: np.ndarray | slice) -> np.ndarray:
        return (self.plays[rows] + self.completes[rows] + self.skips[rows] + self.likes[rows]) > 0


def bias_at(stats: TrackStats, rows: np.ndarray | slice, cfg: RecommendConfig, now: float) -> np.ndarray:
    """b without the habit term for ``rows`` only (float32; -inf where excluded). Rows without any
    event have b = 0, so a fill computes this for the rows the history touched."""
    completes, skips, last = stats.completes[rows], stats.skips[rows], stats.last_played[rows]
    b = cfg.bias_completes * np.log1p(completes) + cfg.bias_likes * stats.likes[rows]
    listened = np.maximum(stats.plays[rows], completes + skips)
    b -= cfg.bias_skip_rate * np.divide(skips, listened, out=np.zeros_like(skips), where=listened > 0)
    hours = (now - last) / 3600.0
    recent = np.where(last > 0, np.exp(-np.maximum(hours, 0.0) / cfg.recent_hours), 0.0)
    b -= cfg.bias_recent * recent.astype(np.float32)
    if cfg.bias_rotation:
        b += cfg.bias_rotation * stats.in_rotation(rows)
    b = b.astype(np.float32)
    b[stats.excluded[rows]] = -np.inf
    return b


LISTEN_KINDS = (EventKind.PLAY, EventKind.COMPLETE, EventKind.SKIP)
