"""The replay task's personal baselines (FORMAT.md): each knows one listener's own listens and nothing else.

Every ranker is fed the listener's listens in time order (``advance(i)``: listens before ``i`` are now
known) and ranks the library at a point (``rank(point, k)``: the best ``k`` library rows, never one in the
context). "Plays" are listens that were not skipped (FORMAT.md's rule), so a skip never makes a track
more popular, more recent or a habit.
"""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np

from player_plugin.evaluation.evaluate import top_k
from player_plugin.evaluation.histories import History
from player_plugin.evaluation.replay_task import TASK, ReplayPoint, session_ids

RECENCY_TIME_CONSTANT_S = 14 * 86400.0  # FORMAT.md: exponentially decayed, 14-day time constant
TRANSITION_WINDOW = 5  # FORMAT.md: "b within 5 plays after a", weighted 1/distance
TRANSITION_CONTEXT_DECAY = 0.8  # FORMAT.md: the k-th most recent context track weighs 0.8^k
SKNN_NEIGHBOURS = 100  # FORMAT.md: V-SKNN, k = 100
CONTENT_CONTEXT_DECAY = 0.8  # the content baseline's query: the context, each step back 0.8x


class ReplayRanker:
    """Base: keeps the cursor, the listener's listens as library rows, and the fall-back ordering."""

    def __init__(self, history: History, listen_rows: np.ndarray, n_library: int) -> None:
        self.history = history
        self.rows = listen_rows
        self.n = n_library
        self.cursor = 0  # listens [0, cursor) are known

    def advance(self, i: int) -> None:
        for j in range(self.cursor, i):
            self.observe(j)
        self.cursor = max(self.cursor, i)

    def observe(self, j: int) -> None:
        """Listen ``j`` happened (called in order)."""

    def scores(self, point: ReplayPoint) -> np.ndarray:
        raise NotImplementedError

    def rank(self, point: ReplayPoint, k: int) -> np.ndarray:
        return top_k(self.scores(point), k, point.context)

    def played(self, j: int) -> bool:
        return not bool(self.history.skipped[j])


class RandomRanker(ReplayRanker):
    def __init__(self, history: History, listen_rows: np.ndarray, n_library: int, seed: int = 0) -> None:
        super().__init__(history, listen_rows, n_library)
        self.rng = np.random.default_rng(seed)

    def scores(self, point: ReplayPoint) -> np.ndarray:
        return self.rng.random(self.n)


class PopularityRanker(ReplayRanker):
    """Own play counts so far."""

    def __init__(self, history: History, listen_rows: np.ndarray, n_library: int) -> None:
        super().__init__(history, listen_rows, n_library)
        self.counts = np.zeros(n_library, np.float64)

    def observe(self, j: int) -> None:
        if self.played(j):
            self.counts[self.rows[j]] += 1.0

    def scores(self, point: ReplayPoint) -> np.ndarray:
        return self.counts


class RecencyRanker(ReplayRanker):
    """Own plays, each weighing exp(-age / 14 days), summed. Kept as sums of exp((ts - t_ref) / τ) so
    a play costs O(1); the reference moves on before the exponent could overflow."""

    def __init__(self, history: History, listen_rows: np.ndarray, n_library: int) -> None:
        super().__init__(history, listen_rows, n_library)
        self.sums = np.zeros(n_library, np.float64)
        self.t_ref: float | None = None

    def observe(self, j: int) -> None:
        if not self.played(j):
            return
        ts = float(self.history.ts[j])
        if self.t_ref is None:
            self.t_ref = ts
        x = (ts - self.t_ref) / RECENCY_TIME_CONSTANT_S
        if x > 300.0:
            self.sums *= math.exp(-x)
            self.t_ref, x = ts, 0.0
        self.sums[self.rows[j]] += math.exp(x)

    def scores(self, point: ReplayPoint) -> np.ndarray:
        return self.sums  # the common factor exp(-(now - t_ref) / τ) does not change the order


class TransitionsRanker(ReplayRanker):
    """Own "b within 5 plays after a" (1/distance), summed over the context, the k-th most recent 0.8^k."""

    def __init__(self, history: History, listen_rows: np.ndarray, n_library: int) -> None:
        super().__init__(history, listen_rows, n_library)
        self.follows: dict[int, dict[int, float]] = defaultdict(dict)
        self.recent: list[int] = []  # the last plays, oldest first

    def observe(self, j: int) -> None:
        if not self.played(j):
            return
        b = int(self.rows[j])
        for d, a in enumerate(reversed(self.recent), start=1):
            if a != b:
                after = self.follows[a]
                after[b] = after.get(b, 0.0) + 1.0 / d
        self.recent.append(b)
        del self.recent[:-TRANSITION_WINDOW]

    def scores(self, point: ReplayPoint) -> np.ndarray:
        out = np.zeros(self.n, np.float64)
        for k, a in enumerate(reversed(point.context.tolist())):
            after = self.follows.get(a)
            if after:
                idx = np.fromiter(after.keys(), np.int64, len(after))
                out[idx] += TRANSITION_CONTEXT_DECAY**k * np.fromiter(after.values(), np.float64, len(after))
        return out


class SessionKnnRanker(ReplayRanker):
    """V-SKNN (Ludewig & Jannach 2018) over the listener's own past sessions: the context weighted by a
    linear decay (the most recent 1, the oldest 1/n), a past session's similarity the summed weights of
    the context tracks it holds, the k = 100 most similar vote for their tracks with their similarity.
    Only sessions over before the point's own session began are past; a session's tracks are its plays."""

    def __init__(self, history: History, listen_rows: np.ndarray, n_library: int) -> None:
        super().__init__(history, listen_rows, n_library)
        self.session_of = session_ids(history, TASK)
        self.sessions: list[set[int]] = []  # closed sessions' tracks
        self.with_track: dict[int, list[int]] = defaultdict(list)  # track -> closed sessions holding it
        self.open: set[int] = set()
        self.open_id = -1

    def observe(self, j: int) -> None:
        sid = int(self.session_of[j])
        if sid != self.open_id:
            self._close()
            self.open_id = sid
        if self.played(j):
            self.open.add(int(self.rows[j]))

    def _close(self) -> None:
        if self.open:
            s = len(self.sessions)
            self.sessions.append(self.open)
            for t in self.open:
                self.with_track[t].append(s)
        self.open = set()

    def scores(self, point: ReplayPoint) -> np.ndarray:
        context = point.context.tolist()
        n = len(context)
        weight: dict[int, float] = {}
        for pos, t in enumerate(context, start=1):  # later (more recent) positions overwrite with more weight
            weight[t] = pos / n
        sim: dict[int, float] = defaultdict(float)
        for t, w in weight.items():
            for s in self.with_track.get(t, ()):
                sim[s] += w
        out = np.zeros(self.n, np.float64)
        for s, value in sorted(sim.items(), key=lambda kv: (-kv[1], -kv[0]))[:SKNN_NEIGHBOURS]:
            out[list(self.sessions[s])] += value
        return out


class ContentRanker(ReplayRanker):
    """Text understanding alone: the library by cosine to the context's decayed mean vector."""

    def __init__(self, history: History, listen_rows: np.ndarray, n_library: int, vectors: np.ndarray) -> None:
        super().__init__(history, listen_rows, n_library)
        self.vectors = vectors  # [n_library, dim], unit rows, library order

    def scores(self, point: ReplayPoint) -> np.ndarray:
        w = CONTENT_CONTEXT_DECAY ** np.arange(len(point.context))[::-1]
        q = (w[:, None] * self.vectors[point.context]).sum(axis=0)
        return self.vectors @ (q / max(float(np.linalg.norm(q)), 1e-9))
