"""The generator's outcome codes are one enum, and it matches what the shipped generator was trained with."""

from __future__ import annotations

import json
from pathlib import Path

from player_plugin.models import EventKind, Outcome
from player_plugin.recommend.profile import HistoryEvent
from player_plugin.recommend.seq2seq_rec import session_outcomes

MANIFEST = Path(__file__).resolve().parents[1] / "onnx_models" / "seq2seq-v1" / "manifest.json"


def test_the_enum_is_the_generators_own_map():
    trained = json.loads(MANIFEST.read_text(encoding="utf-8"))["outcomes"]
    assert {o.name.lower(): int(o) for o in Outcome} == trained


def test_session_outcomes_liked_beats_skipped_beats_completed():
    def ev(row: int, kind: EventKind, ts: float) -> HistoryEvent:
        return HistoryEvent(row=row, kind=kind, ts=ts)

    events = [
        ev(0, EventKind.COMPLETE, 1),
        ev(1, EventKind.SKIP, 2),
        ev(2, EventKind.SKIP, 3),
        ev(2, EventKind.LIKE, 4),
    ]
    assert session_outcomes(events, [0, 1, 2]).tolist() == [Outcome.COMPLETED, Outcome.SKIPPED, Outcome.LIKED]
