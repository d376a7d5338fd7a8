"""The user model and the queue rules on tiny hand-made catalogs where the right answer is known."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

from player_plugin.evaluation.folds import listened_rows, listening_sessions, track_bias, track_stats, transitions_after
from player_plugin.evaluation.ranking import rank_for_evaluation
from player_plugin.models import EventKind as K
from player_plugin.recommend.config import RecommendConfig
from player_plugin.recommend.history_state import HistoryState
from player_plugin.recommend.profile import (
    HistoryEvent,
    build_user_model,
    current_session,
    event_weight,
    is_early_skip,
)
from player_plugin.recommend.queue import Catalog, QueueRules, blocked_rows, explore_count, pick, version_key

DAY = 86400.0
NOW = 1_700_000_000.0
CFG = RecommendConfig()


def basis(dim: int = 8) -> np.ndarray:
    return np.eye(dim, dtype=np.float32)


def ev(row: int, kind: K, ago: float = 0.0, position: float | None = None, duration: float = 200.0) -> HistoryEvent:
    return HistoryEvent(row, kind, NOW - ago, position, duration)


def catalog(
    n: int,
    artists: list[str] | None = None,
    titles: list[str] | None = None,
    genres: list[list[str]] | None = None,
    paths: list[str] | None = None,
    durations: list[float] | None = None,
    dim: int = 16,
) -> Catalog:
    rng = np.random.default_rng(n)
    m = rng.standard_normal((n, dim)).astype(np.float32)
    m /= np.linalg.norm(m, axis=1, keepdims=True)
    meta = [
        (
            titles[i] if titles else f"Song {i}",
            [artists[i] if artists else f"Artist {i}"],
            genres[i] if genres else ["Pop"],
            paths[i] if paths else f"/music/{i}.mp3",
            durations[i] if durations else 200.0,
        )
        for i in range(n)
    ]
    return Catalog.build(np.arange(100, 100 + n), m, meta)


def ranked(n: int) -> np.ndarray:
    """Scores that rank row 0 first, then 1, 2, ..."""
    return np.linspace(1.0, 0.0, n, dtype=np.float32)


# -- events ------------------------------------------------------------------------------------------


def test_early_skip_by_seconds_and_by_fraction():
    assert is_early_skip(ev(0, K.SKIP, position=10, duration=600), CFG)  # < 30 s
    assert is_early_skip(ev(0, K.SKIP, position=100, duration=600), CFG)  # < 25 % of 600 s
    assert not is_early_skip(ev(0, K.SKIP, position=160, duration=600), CFG)
    assert not is_early_skip(ev(0, K.SKIP, position=40, duration=100), CFG)  # past 30 s and past 25 %
    assert not is_early_skip(ev(0, K.SKIP, position=40, duration=0.0), CFG)  # unknown length: seconds only
    assert is_early_skip(ev(0, K.SKIP, position=None), CFG)  # no position: assume early

    assert event_weight(ev(0, K.SKIP, position=5), CFG) == CFG.weight_skip_early
    assert event_weight(ev(0, K.SKIP, position=190), CFG) == CFG.weight_skip_late
    assert CFG.weight_skip_early < CFG.weight_skip_late < 0  # an early skip says more
    assert event_weight(ev(0, K.COMPLETE), CFG) == CFG.weight_complete > 0
    assert event_weight(ev(0, K.LIKE), CFG) > event_weight(ev(0, K.COMPLETE), CFG)
    assert event_weight(ev(0, K.DISLIKE), CFG) < 0 and event_weight(ev(0, K.BLOCK), CFG) < 0
    assert event_weight(ev(0, K.QUEUE_REMOVE), CFG) < 0
    assert event_weight(ev(0, K.PLAY), CFG) == 0.0


# -- long-term taste -----------------------------------------------------------------------------------


def test_long_term_moves_toward_liked_and_completed_and_away_from_disliked_and_skipped():
    m = basis()
    events = [
        ev(0, K.COMPLETE, 5 * DAY),
        ev(1, K.LIKE, 4 * DAY),
        ev(2, K.SKIP, 3 * DAY, position=3),
        ev(3, K.DISLIKE, 2 * DAY),
    ]
    long = build_user_model(events, m, CFG, NOW).long
    assert long is not None
    assert long[0] > 0 and long[1] > long[0]  # a like says more than a completion
    assert long[2] < 0 and long[3] < long[2]  # a dislike pushes further than a skip
    assert abs(float(np.linalg.norm(long)) - 1.0) < 1e-5


def test_old_events_count_less():
    m = basis()
    half_life = CFG.long_half_life_days * DAY
    long = build_user_model([ev(0, K.COMPLETE, 2 * half_life), ev(1, K.COMPLETE, 0)], m, CFG, NOW).long
    assert long[1] > long[0] > 0
    assert long[0] / long[1] == pytest.approx(0.25, rel=1e-4)  # two half-lives


def test_no_history_no_model():
    model = build_user_model([], basis(), CFG, NOW)
    assert model.empty and not np.any(model.vector(CFG, 8))


# -- session -------------------------------------------------------------------------------------------


def test_session_is_the_current_one_only_and_recency_weighted():
    m = basis()
    gap = CFG.session_gap_s
    events = [
        ev(5, K.COMPLETE, 3 * gap + 600),  # an earlier session
        ev(6, K.COMPLETE, 3 * gap + 400),
        ev(0, K.PLAY, 700),
        ev(0, K.COMPLETE, 500),
        ev(1, K.PLAY, 400),
        ev(1, K.COMPLETE, 200),
        ev(2, K.PLAY, 190),
        ev(2, K.COMPLETE, 10),
    ]
    assert [e.row for e in current_session(events, CFG, NOW)] == [0, 0, 1, 1, 2, 2]
    model = build_user_model(events, m, CFG, NOW)
    assert model.session_rows == [0, 1, 2]
    s = model.session
    assert s[5] == 0 and s[6] == 0
    assert s[2] > s[1] > s[0] > 0
    assert s[1] / s[2] == pytest.approx(CFG.session_decay) and s[0] / s[1] == pytest.approx(CFG.session_decay)

    # silence longer than the gap: the session is over
    later = build_user_model(events, m, CFG, NOW + gap + 1)
    assert later.session is None and later.session_rows == []


def test_early_skip_in_session_pushes_away_and_a_track_counts_at_its_own_step():
    m = basis()
    events = [
        ev(0, K.PLAY, 900),
        ev(0, K.COMPLETE, 700),
        ev(1, K.PLAY, 600),
        ev(1, K.COMPLETE, 400),
        ev(0, K.LIKE, 300),  # liking an earlier track does not make track 1 older
        ev(2, K.PLAY, 100),
        ev(2, K.SKIP, 95, position=5),
    ]
    s = build_user_model(events, m, CFG, NOW).session
    assert s[2] < 0
    # steps: 2 → 0, 0 → 1 (like, seen first), 1 → 2; track 0 counts twice (like + complete) at step 1
    d = CFG.session_decay
    raw = np.zeros(8)
    raw[2], raw[0], raw[1] = -0.5, 2 * d, d**2
    np.testing.assert_allclose(s, raw / np.linalg.norm(raw), rtol=1e-5)


def test_prompt_leads_when_set():
    m = basis()
    events = [ev(0, K.LIKE, d * DAY) for d in range(1, 30)] + [ev(1, K.COMPLETE, 60)]
    prompt = m[2] * 3.0  # any length: it is made unit
    model = build_user_model(events, m, CFG, NOW, prompt=prompt)
    w = model.vector(CFG, 8)
    assert int(np.argmax(w)) == 2
    assert w[0] > 0 and w[1] > 0  # the other parts still count
    cleared = build_user_model(events, m, CFG, NOW).vector(CFG, 8)
    assert cleared[2] == 0


def test_comments_count_as_taste():
    m = basis()
    model = build_user_model([ev(0, K.COMPLETE, DAY)], m, CFG, NOW, comments=[(m[3], NOW - DAY)])
    assert model.long[3] == pytest.approx(model.long[0])


# -- b -------------------------------------------------------------------------------------------------


def test_track_bias():
    n = 7
    events = (
        [ev(0, K.PLAY, 9 * DAY + i) for i in range(5)]  # 0: a favourite, finished five times
        + [ev(0, K.COMPLETE, 9 * DAY + i) for i in range(5)]
        + [ev(1, K.PLAY, 8 * DAY + i) for i in range(4)]  # 1: skipped 3 times in 4
        + [ev(1, K.SKIP, 8 * DAY + i, position=10) for i in range(3)]
        + [ev(2, K.PLAY, 3600), ev(2, K.COMPLETE, 3500)]  # 2: finished an hour ago
        + [ev(3, K.PLAY, 5 * DAY), ev(3, K.COMPLETE, 5 * DAY)]  # 3: finished days ago
        + [ev(4, K.DISLIKE, DAY), ev(5, K.BLOCK, DAY), ev(6, K.QUEUE_REMOVE, DAY)]
    )
    stats = track_stats(sorted(events, key=lambda e: e.ts), n)
    b = track_bias(stats, CFG.replace(bias_rotation=0.0), NOW)  # the rotation term: tests/test_habits.py
    assert b.dtype == np.float32 and b.shape == (n,)
    assert b[0] > b[3] > 0  # favourites come back
    assert b[1] < 0  # skip rate pulls down
    assert b[2] < b[3] and b[2] < -0.3  # played an hour ago: held back
    assert np.isneginf(b[4]) and np.isneginf(b[5]) and np.isneginf(b[6])

    # a like after a dislike lifts the exclusion
    stats = track_stats([ev(4, K.DISLIKE, DAY), ev(4, K.LIKE, 60)], n)
    assert np.isfinite(track_bias(stats, CFG, NOW)[4])


def test_transitions_follow_your_habits():
    events = [
        ev(0, K.PLAY, 1000),
        ev(1, K.PLAY, 800),
        ev(0, K.PLAY, 600),
        ev(1, K.PLAY, 400),
        ev(0, K.PLAY, 300),
        ev(2, K.PLAY, 100),
        ev(0, K.PLAY, 50 * DAY + 10000),  # different day and earlier: breaks nothing (sorted below)
    ]
    events.sort(key=lambda e: e.ts)
    t = transitions_after(events, 0, 4, CFG)
    np.testing.assert_allclose(t, [0, 1, 0.5, 0])
    b = track_bias(track_stats([], 4), CFG, NOW, t)
    assert b[1] > b[2] > b[3] == 0


def test_skips_count_as_listens():
    events = [ev(0, K.PLAY, 300), ev(0, K.COMPLETE, 100), ev(1, K.SKIP, 50, position=3), ev(1, K.LIKE, 40)]
    events += [ev(2, K.PLAY, 30), ev(2, K.PLAY, 20), ev(3, K.LIKE, 10)]
    assert listened_rows(events) == [0, 1, 2, 2]
    stats = track_stats(events, 5)
    assert stats.played.tolist() == [True, True, True, True, False]  # skipped or liked is not "new to you"
    assert stats.last_played[1] == NOW - 50


def test_a_thin_history_steps_back_before_a_prompt():
    m = basis(8)
    cfg = CFG.replace(history_full_at=5)
    one_like = build_user_model([ev(0, K.LIKE, 60)], m, cfg, NOW, prompt=m[1])
    assert one_like.evidence == 1 and one_like.history_weight(cfg) == pytest.approx(0.2)
    # the prompt's share grows from 2 / (2 + 1) to 2 / (2 + 0.2): the typed wish leads
    assert one_like.prompt_share(cfg) == pytest.approx(2.0 / 2.2)
    assert one_like.prompt_share(cfg.replace(history_full_at=0)) == pytest.approx(2.0 / 3.0)
    w = one_like.vector(cfg, 8)
    assert w[1] > 4 * w[0] > 0
    events = [ev(r, K.COMPLETE, 3600 * (10 - r)) for r in range(6)]
    many = build_user_model(events, m, cfg, NOW, prompt=m[7])
    assert many.evidence == 6 and many.history_weight(cfg) == 1.0
    assert build_user_model(events, m, cfg, NOW).prompt_share(cfg) == 0.0
    assert build_user_model([], m, cfg, NOW, prompt=m[1]).prompt_share(cfg) == 1.0


def test_listening_sessions_split_at_silence_and_neighbours_skip_the_ongoing_one():
    gap = CFG.session_gap_s
    events = [ev(0, K.PLAY, 3 * DAY), ev(0, K.COMPLETE, 3 * DAY - 200), ev(1, K.PLAY, 3 * DAY - 210)]
    events += [ev(1, K.SKIP, 3 * DAY - 230, position=5), ev(2, K.PLAY, 3 * DAY - 240), ev(2, K.LIKE, 3 * DAY - 250)]
    events += [ev(0, K.PLAY, 2 * DAY), ev(3, K.PLAY, 2 * DAY - 200), ev(9, K.PLAY, 2 * DAY - 200 - gap - 1)]
    events += [ev(0, K.PLAY, 500), ev(1, K.COMPLETE, 300)]
    events.sort(key=lambda e: e.ts)
    assert listening_sessions(events, CFG) == [[0, 1, 2], [0, 3], [9], [0, 1]]
    state = HistoryState(catalog(10).matrix, CFG)
    assert state.extend(events)
    # now: the session [0, 1] is still going on, so it is not its own neighbour
    rows, values = state.neighbours_sparse([0, 1], NOW)
    scores = dict(zip(rows.tolist(), values.tolist(), strict=True))
    assert scores[0] == pytest.approx(1.0)  # in both neighbours, the best
    assert scores[2] > scores[3] > 0 and 9 not in scores  # [0, 1, 2] shares more than [0, 3]
    # after half an hour of silence that session is over and becomes a neighbour like the others
    later = dict(zip(*[a.tolist() for a in state.neighbours_sparse([0, 1], NOW + gap + 1)], strict=True))
    assert later[1] > later[2] and later[3] < scores[3]


# -- the incremental history ---------------------------------------------------------------------------


def random_history(seed: int, n: int, count: int) -> list[HistoryEvent]:
    rng = random.Random(seed)
    kinds = [K.PLAY, K.PLAY, K.COMPLETE, K.COMPLETE, K.SKIP, K.LIKE, K.DISLIKE, K.BLOCK, K.QUEUE_REMOVE]
    ts, out = NOW - 200 * DAY, []
    for _ in range(count):
        ts += rng.choice([60.0, 200.0, 1000.0, 3 * 3600.0, 5 * DAY])
        out.append(HistoryEvent(rng.randrange(-1, n), rng.choice(kinds), ts, rng.uniform(0, 250), 240.0))
    return out


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_history_state_equals_the_reference_fold(seed):
    n = 12
    m = catalog(n).matrix
    events = random_history(seed, n, 400)
    now = events[-1].ts + 120
    comments = [(m[3], events[50].ts), (m[7], events[-3].ts)]
    prompt = m[5]
    state = HistoryState(m, CFG)
    assert state.extend(events[:150]) and state.extend(events[150:])
    ref = build_user_model(events, m, CFG, now, prompt, comments)
    got = state.user_model(now, prompt, comments)
    np.testing.assert_allclose(got.long, ref.long, atol=1e-5)
    assert (got.session is None) == (ref.session is None)
    if ref.session is not None:
        np.testing.assert_allclose(got.session, ref.session, atol=1e-6)
    assert got.session_rows == ref.session_rows
    assert got.liked_rows == ref.liked_rows and got.completed_rows == ref.completed_rows
    assert got.evidence == ref.evidence > 0
    np.testing.assert_allclose(got.vector(CFG, 16), ref.vector(CFG, 16), atol=1e-5)

    stats = track_stats(events, n)
    for name in ("plays", "completes", "skips", "likes", "last_played", "excluded", "returns"):
        np.testing.assert_array_equal(getattr(state.stats, name), getattr(stats, name))
    for row in range(-1, n):
        np.testing.assert_allclose(state.transitions_after(row), transitions_after(events, row, n, CFG))
    assert state.listens == listened_rows(events)
    sessions = listening_sessions(events, CFG)
    assert sum(map(len, sessions)) == len(state.listens) and state.neighbours.n_sessions == len(sessions)
    for sid, rows in enumerate(sessions):
        assert state.neighbours.session_tracks(sid).tolist() == list(dict.fromkeys(rows))
    assert set(state.touched.tolist()) == {e.row for e in events if e.row >= 0}

    assert not state.extend([HistoryEvent(0, K.PLAY, events[0].ts)])  # older than the last: refused


# -- queue rules ---------------------------------------------------------------------------------------


def rows_of(picks) -> list[int]:
    return [p.row for p in picks]


def no_explore(**kw) -> RecommendConfig:
    return CFG.replace(explore_slots=0, **kw)


def test_pick_follows_the_ranking_and_no_repeats():
    cat = catalog(20)
    s = ranked(20)
    never = np.zeros(20, bool)
    assert rows_of(pick(cat, s, s, never, 5, no_explore())) == [0, 1, 2, 3, 4]
    # played within the last no_repeat_last plays: out
    got = rows_of(pick(cat, s, s, never, 5, no_explore(no_repeat_last=3), recent_rows=[0, 9, 1, 2]))
    assert got == [0, 3, 4, 5, 6]  # row 0 was 4 plays ago: allowed again; 9, 1, 2 are not
    # 0 turns the rule off (it used to block the whole history)
    assert rows_of(pick(cat, s, s, never, 3, no_explore(no_repeat_last=0), recent_rows=[0, 1])) == [0, 1, 2]
    # already queued: out
    assert rows_of(pick(cat, s, s, never, 3, no_explore(), queued_rows=[0, 2])) == [1, 3, 4]


def test_artist_spacing_and_held_back_tracks_come_back():
    artists = ["A", "A", "A", "B", "C", "D", "E", "F"]
    cat = catalog(8, artists=artists)
    s = ranked(8)
    never = np.zeros(8, bool)
    got = rows_of(pick(cat, s, s, never, 8, no_explore(artist_spacing=2)))
    for i, r in enumerate(got):
        assert artists[r] not in [artists[x] for x in got[max(0, i - 2) : i]]
    # A's second track waits only as long as the rule says, then comes back before lower-ranked ones
    assert got[:5] == [0, 3, 4, 1, 5]
    # the current track counts
    got = rows_of(pick(cat, s, s, never, 2, no_explore(artist_spacing=2), queued_rows=[1]))
    assert artists[got[0]] != "A" and artists[got[1]] != "A"
    # multi-artist tracks: any shared artist counts
    cat2 = catalog(4)
    cat2.artist_sets[1] = frozenset({"x", "artist 0"})
    assert rows_of(pick(cat2, ranked(4), ranked(4), np.zeros(4, bool), 3, no_explore(artist_spacing=1))) == [0, 2, 1]


def test_spacing_relaxes_when_the_library_runs_out_of_artists():
    cat = catalog(5, artists=["Solo"] * 5)
    s = ranked(5)
    got = rows_of(pick(cat, s, s, np.zeros(5, bool), 5, no_explore(artist_spacing=3)))
    assert got == [0, 1, 2, 3, 4]


def test_versions_collapse_to_one():
    titles = ["Song (Live)", "Song - 2011 Remaster", "Song", "Other", "Song [Radio Edit]", "Part 1 - Deliverance"]
    cat = catalog(6, artists=["Band"] * 6, titles=titles)
    assert version_key("Band", "Song (Live at Wembley)") == version_key("Band", "song")
    assert version_key("Band", "Part 1 - Deliverance") != version_key("Band", "Part 1")  # no "live" inside words
    assert version_key("林夕雨", "雨夜的信 (现场版)") == version_key("林夕雨", "雨夜的信")
    assert version_key("Other Band", "Song") != version_key("Band", "Song")
    s = ranked(6)
    got = rows_of(pick(cat, s, s, np.zeros(6, bool), 6, no_explore(artist_spacing=0)))
    assert got == [0, 3, 5]
    # a version you just played keeps the others out too
    got = rows_of(pick(cat, s, s, np.zeros(6, bool), 6, no_explore(artist_spacing=0), recent_rows=[2]))
    assert got == [3, 5]


def test_blocklists_and_max_length():
    n = 8
    cat = catalog(
        n,
        artists=["Keep", "Nope", "Keep2", "Keep3", "Keep4", "Keep5", "Keep6", "Keep7"],
        genres=[["Pop"], ["Pop"], ["Metal", "Rock"], ["Pop"], ["Pop"], ["Pop"], ["Pop"], ["Pop"]],
        paths=[f"/m/{d}/{i}.mp3" for i, d in enumerate("aabbcxxa")],
        durations=[200, 200, 200, 200, 900, 200, 200, 200],
    )
    rules = QueueRules.from_settings(artists=["NOPE "], genres=["metal"], folders=["/m/x/"])
    s = ranked(n)
    got = rows_of(pick(cat, s, s, np.zeros(n, bool), n, no_explore(max_track_s=600), rules))
    assert got == [0, 3, 7]  # 1 artist, 2 genre, 4 too long, 5 and 6 in a blocked folder
    assert np.flatnonzero(blocked_rows(cat, rules, 600)).tolist() == [1, 2, 4, 5, 6]  # skipped by pick, first pass
    cat.paths[7] = "C:\\m\\x\\7.mp3"  # a Windows path under a blocked folder
    assert np.flatnonzero(blocked_rows(cat, QueueRules.from_settings(folders=["C:\\m\\x"]), None)).tolist() == [7]
    cat.paths[7] = "/m/a/7.mp3"
    # a folder name that is only a prefix of another folder does not block it
    rules = QueueRules.from_settings(folders=["/m/b"])
    cat.paths[3] = "/m/bb/3.mp3"
    assert 3 in rows_of(pick(cat, s, s, np.zeros(n, bool), n, no_explore(), rules))


def test_length_is_capped():
    cat = catalog(30)
    s = ranked(30)
    assert len(pick(cat, s, s, np.zeros(30, bool), 7, CFG)) == 7
    assert len(pick(cat, s, s, np.zeros(30, bool), 50, CFG)) == 30  # the library runs out first
    assert pick(cat, s, s, np.zeros(30, bool), 0, CFG) == []


def test_explore_slots_go_to_never_played_tracks():
    n = 40
    cat = catalog(n)
    # explore_min_z=-inf: every never-played track "fits" (the gate has its own test below)
    cfg = CFG.replace(explore_slots=2, artist_spacing=0, explore_min_z=-np.inf)
    s = ranked(n)
    never = np.zeros(n, bool)
    never[30:] = True  # the newest additions, ranked low by habit
    taste = np.zeros(n, np.float32)
    taste[35] = 0.9  # taste alone ranks the explore candidates: 35 first, then 30, 31, ...
    picks = pick(cat, s, taste, never, 20, cfg)
    explore_at = [i for i, p in enumerate(picks) if p.explore]
    assert explore_at == [8, 9, 18, 19]
    assert [picks[i].row for i in explore_at] == [35, 30, 31, 32]
    assert all(never[picks[i].row] for i in explore_at)
    assert all(not never[p.row] for p in picks if not p.explore)
    assert picks[8].score == pytest.approx(0.9)  # explore entries carry their taste score

    # the slots stay at queue positions 8-9 whatever was queued before
    picks = pick(cat, s, taste, never, 6, cfg, start_position=5)
    assert [i + 5 for i, p in enumerate(picks) if p.explore] == [8, 9]
    # the product default keeps the last explore_slots of every 10
    picks = pick(cat, s, taste, never, 10, CFG.replace(artist_spacing=0, explore_min_z=-np.inf))
    assert [i for i, p in enumerate(picks) if p.explore] == list(range(10 - CFG.explore_slots, 10))
    # nothing new in the library: those slots go to the ranking
    picks = pick(cat, s, taste, np.zeros(n, bool), 10, cfg)
    assert not any(p.explore for p in picks) and rows_of(picks) == list(range(10))


def test_dismissed_tracks_never_appear():
    n = 12
    cat = catalog(n)
    events = [ev(0, K.DISLIKE, 100), ev(1, K.BLOCK, 90), ev(2, K.QUEUE_REMOVE, 80)]
    stats = track_stats(events, n)
    taste = ranked(n)
    scores = taste + track_bias(stats, CFG, NOW)
    never = np.ones(n, bool)  # even offered as "new to you", their -inf score keeps them out
    for cfg in (CFG, no_explore(), CFG.replace(explore_slots=10)):
        got = rows_of(pick(cat, scores, taste, never, n, cfg))
        assert not {0, 1, 2} & set(got) and len(got) == n - 3


def test_explore_slots_only_take_new_tracks_that_fit():
    n = 200
    rng = np.random.default_rng(1)
    taste = rng.normal(0.0, 1.0, n).astype(np.float32)
    never = np.zeros(n, bool)
    never[100:] = True
    taste[100:] = np.clip(taste[100:], None, 1.5)  # no new track is 2 std above the mean taste...
    cfg = CFG.replace(explore_slots=3, artist_spacing=0, explore_min_z=2.0)
    picks = pick(catalog(n), ranked(n), taste, never, 10, cfg)
    assert not any(p.explore for p in picks)  # ...so the explore slots go to the ranking
    taste[150] = 4.0  # one new track that clearly fits
    picks = pick(catalog(n), ranked(n), taste, never, 10, cfg)
    assert [p.row for p in picks if p.explore] == [150]
    assert explore_count(cfg, 0.0) == 3 and explore_count(cfg, 1.0) == 0 and explore_count(cfg, 2 / 3) == 1


def test_rank_for_evaluation_layout():
    n = 30
    cfg = CFG.replace(explore_slots=2, explore_min_z=-np.inf)
    scores = ranked(n)
    taste = np.zeros(n, np.float32)
    taste[25], taste[28] = 0.9, 0.8
    never = np.zeros(n, bool)
    never[20:] = True
    exclude = np.zeros(n, bool)
    exclude[[0, 25]] = True
    out = rank_for_evaluation(scores, taste, never, 10, cfg, exclude)
    assert out.tolist() == [1, 2, 3, 4, 5, 6, 7, 8, 28, 20]
    assert len(set(out.tolist())) == 10
    # no new tracks: all slots from the ranking
    out = rank_for_evaluation(scores, taste, np.zeros(n, bool), 10, cfg, exclude)
    assert out.tolist() == list(range(1, 11))
    assert math.isclose(scores[1], ranked(n)[1])  # the caller's scores are not modified


def test_one_session_rule_for_the_session_vector_neighbours_and_transitions():
    """A like keeps an evening one session everywhere: the current session, the sessions of
    "sessions like this one" and your own transitions split at the same place (recommend.sessions)."""
    gap = CFG.session_gap_s
    t0 = NOW - 3 * gap
    events = [ev(0, K.PLAY, NOW - t0), ev(5, K.LIKE, NOW - t0 - 0.8 * gap), ev(1, K.PLAY, NOW - t0 - 1.6 * gap)]
    events += [ev(2, K.PLAY, NOW - t0 - 2.7 * gap)]  # 1.1 gaps after the last event: a new session
    events.sort(key=lambda e: e.ts)
    now = events[-1].ts + 60
    assert listening_sessions(events, CFG) == [[0, 1], [2]]
    assert transitions_after(events, 0, 10, CFG)[1] == 1.0 and transitions_after(events, 1, 10, CFG)[2] == 0.0
    assert [e.row for e in current_session(events, CFG, now)] == [2]
    assert [e.row for e in current_session(events[:3], CFG, events[2].ts + 60)] == [0, 5, 1]
    state = HistoryState(catalog(10).matrix, CFG)
    assert state.extend(events)
    assert state.transitions_after(0)[1] == 1.0 and state.transitions_after(1)[2] == 0.0
    assert state.neighbours.n_sessions == 2
    rows, _values = state.neighbours_sparse([2], now)  # the ongoing session [2] is not its own neighbour
    assert 2 not in rows.tolist()


def test_a_long_imported_history_keeps_its_long_term_taste():
    """Twelve years of daily plays (a Last.fm import): the decayed sum must not overflow to a zero taste."""
    m = catalog(12).matrix
    events = [HistoryEvent(i % 12, K.COMPLETE, NOW - (12 * 365 - i) * DAY, 200.0, 240.0) for i in range(12 * 365)]
    state = HistoryState(m, CFG)
    assert state.extend(events)
    got = state.user_model(NOW).long
    ref = build_user_model(events, m, CFG, NOW).long
    assert got is not None and np.isfinite(got).all() and abs(float(np.linalg.norm(got)) - 1.0) < 1e-5
    np.testing.assert_allclose(got, ref, atol=1e-5)
