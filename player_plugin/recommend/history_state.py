"""The whole history folded for a fill, kept up to date one event at a time (:class:`HistoryState`)."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import numpy as np

from player_plugin.models import EventKind
from player_plugin.recommend.config import RecommendConfig
from player_plugin.recommend.neighbours import SessionNeighbours
from player_plugin.recommend.profile import (
    LISTEN_KINDS,
    HistoryEvent,
    TrackStats,
    UserModel,
    build_user_model,
    event_weight,
    note_favourite,
    session_part,
    unit_vector,
)
from player_plugin.recommend.sessions import SessionSplitter

# exp(30) ≈ 1e13: a sum of 10^6 such terms squared stays far inside float64 (and its unit vector is exact).
# Without a rebase, ten years of history (60-day half-life) grew the sum to ~e^44 per event, whose square
# overflowed float32 and zeroed the long-term taste of a listener with a long imported history.
REBASE_AT = 30.0


class HistoryState:
    """Everything a fill needs from the whole history, kept up to date as events arrive.

    Equal to :func:`build_user_model` and to the batch folds of :mod:`player_plugin.evaluation.folds`
    (track stats, transitions, listens, sessions as a :class:`SessionNeighbours` index) over the same
    events (tests check), but a new event costs O(1) instead of a fold over the whole history on every
    fill. The long-term vector is kept as a sum relative to a reference time:
    ``exp(-λ(now - ts)) = exp(-λ(now - t_ref)) · exp(λ(ts - t_ref))``, and the common factor disappears
    when the vector is made unit length.
    """

    def __init__(self, matrix: np.ndarray, cfg: RecommendConfig) -> None:
        self.matrix = matrix
        self.cfg = cfg
        n = matrix.shape[0]
        self.dim = matrix.shape[1] if matrix.ndim == 2 else 0
        self.events: list[HistoryEvent] = []
        self.stats = TrackStats.empty(n)
        self.listens: list[int] = []
        self.repeats: list[bool] = []  # per listen: was its track heard before (recommend/habits.py)
        self._heard: set[int] = set()
        self._decay = math.log(2) / (cfg.long_half_life_days * 86400.0)
        self._long = np.zeros(self.dim, np.float64)
        self._t_ref: float | None = None
        self._liked: dict[int, None] = {}
        self._completed: dict[int, None] = {}
        self._follows: dict[int, dict[int, int]] = {}
        self._last_start: HistoryEvent | None = None
        self._touched: dict[int, None] = {}
        self._touched_rows: np.ndarray | None = None
        self._evidence: set[int] = set()
        self.neighbours = SessionNeighbours()  # your past sessions, for "sessions like this one"
        self._splitter = SessionSplitter(cfg.session_gap_s)  # every event, the one session rule
        self._session: int | None = None  # the neighbours' id of the latest session with a listen
        self._session_index = -1  # the splitter's index of that session
        self._last_start_session = -1  # the splitter's index of _last_start

    @property
    def touched(self) -> np.ndarray:
        """The rows any event is about (sorted): every other row has b = 0 and was never played."""
        if self._touched_rows is None or len(self._touched_rows) != len(self._touched):
            self._touched_rows = np.sort(np.fromiter(self._touched, np.int64, len(self._touched)))
        return self._touched_rows

    def extend(self, events: Sequence[HistoryEvent]) -> bool:
        """Add events newer than every one seen; False (state unusable) when one is older."""
        for e in events:
            if self.events and e.ts < self.events[-1].ts:
                return False
            self.events.append(e)
            session = self._splitter.add(e.ts)
            if e.row < 0:
                continue
            self.stats.add(e)
            self._touched[e.row] = None
            w = event_weight(e, self.cfg)
            if w:
                self._long += w * self._factor(e.ts) * self.matrix[e.row]
                self._evidence.add(e.row)
            note_favourite(self._liked, self._completed, e)
            same_listen = e.kind != EventKind.PLAY and self.listens and self.listens[-1] == e.row
            if e.kind in LISTEN_KINDS and not same_listen:  # a completion or skip ends the play it follows
                if self._session is None or session != self._session_index:
                    self._session, self._session_index = self.neighbours.new_session(), session
                self.listens.append(e.row)
                self.repeats.append(e.row in self._heard)
                self._heard.add(e.row)
                self.neighbours.add(self._session, e.row)
            if e.kind == EventKind.PLAY:
                prev = self._last_start
                if prev is not None and prev.row != e.row and self._last_start_session == session:
                    after = self._follows.setdefault(prev.row, {})
                    after[e.row] = after.get(e.row, 0) + 1
                self._last_start, self._last_start_session = e, session
        return True

    def _factor(self, ts: float) -> float:
        if self._t_ref is None:
            self._t_ref = ts
        x = self._decay * (ts - self._t_ref)
        if x > REBASE_AT:  # years of history: rebase before the sum's square overflows
            self._long *= math.exp(-x)
            self._t_ref, x = ts, 0.0
        return math.exp(x)

    def user_model(
        self, now: float, prompt: np.ndarray | None = None, comments: Sequence[tuple[np.ndarray, float]] = ()
    ) -> UserModel:
        if (self.events and self.events[-1].ts > now) or any(ts > now for _v, ts in comments):
            # An event from the future (a clock change): the reference clamps its age at 0.
            return build_user_model(self.events, self.matrix, self.cfg, now, prompt, comments)
        long = self._long
        if comments:
            long = long.copy()
            t_ref = self._t_ref if self._t_ref is not None else min(ts for _v, ts in comments)
            for vec, ts in comments:
                long += self.cfg.weight_comment * math.exp(self._decay * (ts - t_ref)) * vec
        model = UserModel(prompt=unit_vector(prompt))
        model.long = unit_vector(long) if self.dim else None  # made unit in float64: the sum can pass float32's range
        model.liked_rows = _last(self._liked, 50)
        model.completed_rows = _last(self._completed, 200)
        model.evidence = len(self._evidence) + len(comments)
        model.session, model.session_rows = session_part(self.events, self.matrix, self.cfg, now)
        return model

    def neighbours_sparse(self, session_rows: Sequence[int], now: float) -> tuple[np.ndarray, np.ndarray]:
        """How strongly your past sessions that look like ``session_rows`` hold each track: (rows,
        values in (0, 1], the best 1). The session still going on at ``now`` is not a neighbour of itself."""
        going_on = self._splitter.ongoing(now) and self._session_index == self._splitter.index
        ongoing = self._session if going_on else None
        rows, values = self.neighbours.scores_sparse(session_rows, exclude_session=ongoing)
        if not len(values):
            return rows, values.astype(np.float32)
        return rows, (values / values.max()).astype(np.float32)

    def transitions_after(self, row: int) -> np.ndarray:
        """How often each track followed ``row`` in your sessions, normalised to [0, 1], over every row."""
        out = np.zeros(self.matrix.shape[0], np.float32)
        rows, values = self.transitions_sparse(row)
        out[rows] = values
        return out

    def transitions_sparse(self, row: int) -> tuple[np.ndarray, np.ndarray]:
        """The non-zero part of :meth:`transitions_after`: (rows, values in (0, 1])."""
        after = self._follows.get(row)
        if not after:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        rows = np.fromiter(after.keys(), np.int64, len(after))
        counts = np.fromiter(after.values(), np.float32, len(after))
        return rows, counts / counts.max()


def _last(d: dict[int, None], k: int) -> list[int]:
    if len(d) <= k:
        return list(d)
    return list(itertools.islice(reversed(d), k))[::-1]
