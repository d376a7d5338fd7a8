"""The one session rule, for the app and its evaluation alike.

A **session** is a run of one listener's events with no gap over ``session_gap_s`` (30 minutes,
FORMAT.md) from one event to the next. Every event the listener makes counts (a play, a completion, a
skip, a like, a dislike, a block): a like in the middle of an evening keeps the evening one session,
and in the evaluation data, where every event is a listen, this is exactly FORMAT.md's "a run of
listens with no gap over 30 minutes". The session vector, "sessions like this one", your own
transitions and the replay task's targets all split at the same place.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol


class Timed(Protocol):
    @property
    def ts(self) -> float: ...


class SessionSplitter:
    """Numbers the sessions of events fed in time order: ``add(ts)`` returns the event's session index."""

    __slots__ = ("gap_s", "index", "last_ts")

    def __init__(self, gap_s: float) -> None:
        self.gap_s = gap_s
        self.index = -1  # no session yet
        self.last_ts: float | None = None

    def add(self, ts: float) -> int:
        if self.last_ts is None or ts - self.last_ts > self.gap_s:
            self.index += 1
        self.last_ts = ts
        return self.index

    def ongoing(self, now: float) -> bool:
        """Whether the latest session is still going on at ``now`` (its last event at most a gap ago)."""
        return self.last_ts is not None and 0 <= now - self.last_ts <= self.gap_s


def current_session_start(events: Sequence[Timed], gap_s: float, now: float) -> int:
    """The index in ``events`` (chronological) where the session still going on at ``now`` starts;
    ``len(events)`` when none is (no events, or the last one more than a gap ago). Walks back from the
    end, so it costs the session's length, not the history's."""
    if not events or now - events[-1].ts > gap_s:
        return len(events)
    start = len(events) - 1
    while start > 0 and events[start].ts - events[start - 1].ts <= gap_s:
        start -= 1
    return start
