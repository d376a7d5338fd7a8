"""The listening rules, Qt-free: what a host reports (track_started / track_position / track_ended,
previous, advance) becomes play / complete / skip events by the engine's one rule, stamped by the
engine's clock, with the prompt while one is set; and what the engine announces to its listeners.

Real SQLite files and the real demo library (32 tracks), embedded once per module with the fast
English encoder, as in test_upnext_engine.py.
"""

from __future__ import annotations

import json
import os
import shutil

import pytest

from player_plugin import cli
from player_plugin.engine import Engine
from player_plugin.listeners import EngineListener
from player_plugin.listening import ListeningConfig, outcome
from player_plugin.models import EventKind
from player_plugin.nlp.encoder import Encoder
from player_plugin.store import Database
from tests.conftest import embedded_demo_library

MODEL = "all-minilm-l6-v2"
T0 = 1_700_000_000.0  # a fixed "now" for the replay clock


class Clock:
    """A clock a test sets by hand (the engine's injected clock)."""

    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class Recorder(EngineListener):
    def __init__(self) -> None:
        self.calls: list[tuple] = []

    def queue_changed(self, entries, refill_due) -> None:
        self.calls.append(("queue_changed", [e.track_id for e in entries], refill_due))

    def now_playing_changed(self, track_id) -> None:
        self.calls.append(("now_playing_changed", track_id))

    def library_changed(self) -> None:
        self.calls.append(("library_changed",))

    def model_changed(self) -> None:
        self.calls.append(("model_changed",))

    def names(self) -> list[str]:
        return [c[0] for c in self.calls]


@pytest.fixture(scope="module")
def encoder():
    return Encoder.load(MODEL, prefer_gpu=False)


@pytest.fixture(scope="module")
def template(tmp_path_factory, encoder):
    return embedded_demo_library(tmp_path_factory.mktemp("demo"), encoder, MODEL)


@pytest.fixture
def db_path(template, tmp_path):
    path = tmp_path / "library.db"
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(f"{template}{suffix}"):
            shutil.copyfile(f"{template}{suffix}", f"{path}{suffix}")
    return path


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def engine(db_path, encoder, clock):
    e = Engine(Database(db_path), encoder_factory=lambda mid: encoder, model_id=MODEL, clock=clock)
    yield e
    e.close()


def track_id(engine: Engine, title: str) -> int:
    return engine.tracks.find(title)[0].id


def events(engine: Engine) -> list[tuple]:
    """(kind, track, position, ts, context) of every event, oldest first, as stored."""
    rows = engine.db.conn.execute("SELECT kind, track_id, position_s, ts, context FROM events ORDER BY id")
    return [(r[0], r[1], r[2], r[3], json.loads(r[4])) for r in rows]


# -- the rule ----------------------------------------------------------------------------------------


def test_eighty_percent_is_complete_and_seventy_nine_is_a_skip(engine):
    cfg = ListeningConfig()
    assert outcome(80.0, 100.0, "next", cfg) == EventKind.COMPLETE
    assert outcome(79.0, 100.0, "next", cfg) == EventKind.SKIP
    assert outcome(1.0, 100.0, "ended", cfg) == EventKind.COMPLETE  # it ran out: finished, whatever the clock said
    assert outcome(5.0, 0.0, "next", cfg) == EventKind.SKIP  # no duration known: only the end completes

    a, b = track_id(engine, "Rain on Glass"), track_id(engine, "Paper Satellites")
    engine.track_started(a)
    assert engine.track_ended(a, 80.0, 100.0, reason="next") == EventKind.COMPLETE
    engine.track_started(b)
    assert engine.track_ended(b, 79.0, 100.0, reason="next") == EventKind.SKIP
    assert [(k, t, p) for k, t, p, _ts, _c in events(engine)] == [
        ("play", a, None),
        ("complete", a, 80.0),
        ("play", b, None),
        ("skip", b, 79.0),
    ]


def test_position_reports_complete_once_and_the_end_adds_nothing(engine):
    a = track_id(engine, "Rain on Glass")
    engine.track_started(a, via="queue")
    assert engine.track_position(a, 50.0, 100.0) is None
    assert engine.track_position(a, 80.0, 100.0) == EventKind.COMPLETE
    assert engine.track_position(a, 90.0, 100.0) is None
    assert engine.track_ended(a, 100.0, 100.0) is None  # once per play
    assert [k for k, *_ in events(engine)] == ["play", "complete"]
    assert events(engine)[0][4] == {"source": "queue"}


def test_next_and_stopped_are_the_listeners_reasons(engine):
    a, b = track_id(engine, "Rain on Glass"), track_id(engine, "Paper Satellites")
    engine.track_started(a)
    assert engine.track_ended(a, 10.0, 200.0, reason="next") == EventKind.SKIP
    engine.track_started(b)
    assert engine.track_ended(b, 190.0, 200.0, reason="stopped") == EventKind.COMPLETE
    engine.track_started(a)
    assert engine.track_ended(a, 5.0, 200.0, reason="stopped") == EventKind.SKIP
    ended = [(k, c.get("via")) for k, _t, _p, _ts, c in events(engine) if k != "play"]
    assert ended == [("skip", "next"), ("complete", "stopped"), ("skip", "stopped")]


def test_a_track_never_started_or_disliked_ends_without_an_event(engine):
    a, b = track_id(engine, "Rain on Glass"), track_id(engine, "Paper Satellites")
    assert engine.track_ended(a, 3.0, 100.0, reason="next") is None  # loaded paused, never started
    engine.track_started(b)
    engine.record(b, EventKind.DISLIKE, 3.0)
    assert engine.track_ended(b, 3.0, 100.0, reason="next") is None  # the dislike says it all
    assert [k for k, *_ in events(engine)] == ["play", "dislike"]


def test_previous_restarts_after_three_seconds_else_goes_back(engine):
    a, b = track_id(engine, "Rain on Glass"), track_id(engine, "Paper Satellites")
    assert engine.previous(0.0) is None  # nothing before: restart (the host seeks to 0)
    engine.track_started(a)
    engine.track_ended(a, 100.0, 100.0)
    engine.track_started(b)
    assert engine.previous(3.5) is None  # far enough in: restart b
    assert engine.previous(2.0) == a  # early: back to a ...
    engine.track_started(a, via="previous")  # ... which the host plays
    assert engine.now_playing == a
    assert engine.previous(1.0) is None  # a is the first track: nothing before it


def test_the_prompt_goes_with_events_only_while_it_is_set(engine):
    a = track_id(engine, "Rain on Glass")
    engine.track_started(a)
    engine.set_prompt("rainy night")
    engine.track_ended(a, 10.0, 100.0, reason="next")
    engine.record(a, EventKind.LIKE)
    engine.set_prompt(None)
    engine.track_started(a)
    contexts = [c for *_rest, c in events(engine)]
    assert [c.get("prompt") for c in contexts] == [None, "rainy night", "rainy night", None]


def test_the_engines_clock_stamps_every_event_and_at_overrides_it(engine, clock):
    """A replay at fixed times leaves those times in the events table."""
    a, b = track_id(engine, "Rain on Glass"), track_id(engine, "Paper Satellites")
    engine.track_started(a)
    clock.now = T0 + 200
    engine.track_ended(a, 200.0, 200.0)
    engine.track_started(b, at=T0 + 201)
    engine.track_ended(b, 20.0, 180.0, at=T0 + 221, reason="next")
    engine.comment(a, "perfect for the drive home", at=T0 + 300)
    assert [ts for _k, _t, _p, ts, _c in events(engine)] == [T0, T0 + 200, T0 + 201, T0 + 221]
    assert engine.events.comments()[0][2] == T0 + 300
    engine.queue_add(a)
    queued_at = engine.db.conn.execute("SELECT added_at FROM queue").fetchall()
    assert [r[0] for r in queued_at] == [T0 + 200]


# -- Up Next -------------------------------------------------------------------------------------------


def test_the_seed_of_a_mix_plays_now_instead_of_waiting_in_the_queue(engine, db_path, capsys):
    seed = track_id(engine, "Rain on Glass")
    q = engine.start_mix(seed)
    assert len(q) == 10 and seed not in [e.track_id for e in q]
    assert "mix from Rain on Glass" in q[0].reason

    engine.close()
    assert cli.main(["up-next", "--seed", str(seed), "--json", "--model", MODEL, "--db", str(db_path)]) == 0
    cli_queue = [e["track_id"] for e in json.loads(capsys.readouterr().out)["queue"]]
    assert len(cli_queue) == 10 and seed not in cli_queue  # the CLI and the app alike


def test_the_engine_says_when_up_next_is_below_low_water(engine):
    heard = Recorder()
    engine.subscribe(heard)
    assert len(engine.up_next()) == ListeningConfig().queue_target
    assert heard.calls[-1][2] is False  # a fill never asks for another
    for _ in range(8):
        engine.advance()
    due = [c[2] for c in heard.calls if c[0] == "queue_changed"]
    assert due[1:] == [False] * 7 + [True]  # 9 … 3 left: not due; 2 left: due
    assert engine.refill_due()
    engine.set_autofill(False)
    assert not engine.refill_due()
    engine.set_autofill(True)
    assert heard.calls[-1] == ("queue_changed", [e.track_id for e in engine.queue()], True)
    engine.up_next()
    assert len(engine.queue()) == 10 and heard.calls[-1][2] is False


def test_advance_fills_an_empty_queue_when_autofill_is_on(engine):
    assert engine.queue() == []
    engine.set_autofill(False)
    assert engine.advance() is None
    engine.set_autofill(True)
    head = engine.advance()
    assert head is not None and len(engine.queue()) == 9


def test_queue_operations_return_the_queue_and_announce_it(engine):
    heard = Recorder()
    engine.subscribe(heard)
    a, b = track_id(engine, "Rain on Glass"), track_id(engine, "Paper Satellites")
    assert [e.track_id for e in engine.queue_add(a)] == [a]
    assert [e.track_id for e in engine.queue_add(b, next=True)] == [b, a]
    assert [e.track_id for e in engine.queue_move(0, 1)] == [a, b]
    assert engine.queue_pop(1).track_id == b
    assert engine.queue_remove(0).track_id == a
    assert [c[1] for c in heard.calls] == [[a], [b, a], [a, b], [a], []]


def test_listeners_hear_now_playing_library_and_model_changes(engine, tmp_path):
    heard = Recorder()
    unsubscribe = engine.subscribe(heard)
    a = track_id(engine, "Rain on Glass")
    engine.track_started(a)
    engine.track_ended(a, 100.0, 100.0)
    engine.track_started(a)  # the same track again: no change to announce
    engine.scan()
    assert engine.embed().embedded == 0  # nothing new: the vectors did not change, nothing to announce
    assert heard.names() == ["now_playing_changed", "library_changed"]
    with engine.db.transaction() as conn:
        conn.execute("DELETE FROM track_vectors WHERE track_id = ?", (a,))
    assert engine.embed().embedded == 1
    engine.set_queue_rules(no_repeat_last=5)  # the rules Up Next follows changed too
    assert heard.names() == ["now_playing_changed", "library_changed", "model_changed", "model_changed"]
    assert heard.calls[0] == ("now_playing_changed", a)
    engine.forget_history()
    assert heard.calls[-2:] == [("now_playing_changed", None), ("queue_changed", [], False)]
    unsubscribe()
    engine.track_started(a)
    assert heard.calls[-1] == ("queue_changed", [], False)


def test_a_failing_listener_does_not_stop_the_others(engine):
    class Broken(EngineListener):
        def now_playing_changed(self, track_id) -> None:
            raise RuntimeError("display gone")

    heard = Recorder()
    engine.subscribe(Broken())
    engine.subscribe(heard)
    a = track_id(engine, "Rain on Glass")
    engine.track_started(a)
    assert heard.calls == [("now_playing_changed", a)]
    assert [k for k, *_ in events(engine)] == ["play"]


def test_play_counts_come_from_one_query(engine):
    a, b = track_id(engine, "Rain on Glass"), track_id(engine, "Paper Satellites")
    for t in (a, b, a):
        engine.track_started(t)
        engine.track_ended(t, 1.0, 100.0, reason="next")
    assert engine.play_counts() == {a: 2, b: 1}
