"""A typed prompt leads at any history length, in any language (recommend/prompt_space.py, issue 14)."""

from __future__ import annotations

import numpy as np
import pytest

from player_plugin.engine import Engine
from player_plugin.recommend.prompt_space import FULL_CENTRE_AT, LibraryCentre, centre_weight, centred_query, corpus
from player_plugin.text_norm import has_cjk

E5 = "multilingual-e5-small"
PROMPT = "rainy night, mellow"


@pytest.fixture
def engine(e5_demo_engine):
    return e5_demo_engine


def _id(engine: Engine, title: str) -> int:
    return next(t.id for t in engine.tracks.find(title, limit=5) if t.tags.title == title)


def test_the_corpus_speaks_our_listeners_languages_and_the_offset_grows_with_the_library():
    texts = corpus()
    assert len(texts) >= 40 and sum(map(has_cjk, texts)) >= 15 and sum(not has_cjk(t) for t in texts) >= 15
    assert centre_weight(0) == 0.0 and centre_weight(FULL_CENTRE_AT // 2) == 0.5 and centre_weight(10**6) == 1.0
    rng = np.random.default_rng(0)
    centres = {True: rng.normal(size=8).astype(np.float32), False: rng.normal(size=8).astype(np.float32)}
    q = rng.normal(size=8).astype(np.float32)
    small, large = centred_query("rain", q, centres, 32), centred_query("rain", q, centres, 10**5)
    full = (q - centres[False]) / np.linalg.norm(q - centres[False])
    np.testing.assert_allclose(large, full, atol=1e-6)
    assert not np.allclose(small, large) and abs(np.linalg.norm(small) - 1) < 1e-6
    assert not np.allclose(centred_query("雨夜", q, centres, 10**5), large)  # each script has its own offset


def test_library_fit_is_the_cosine_to_each_tracks_script_mean_removed():
    rng = np.random.default_rng(1)
    m = rng.normal(size=(3000, 16)).astype(np.float32)
    m /= np.linalg.norm(m, axis=1, keepdims=True)
    titles = ["雨" if i % 3 == 0 else "Rain" for i in range(3000)]
    q = rng.normal(size=16).astype(np.float32)
    q /= np.linalg.norm(q)
    got = LibraryCentre(m, titles).fit(m, q)
    cjk = np.array([t == "雨" for t in titles])
    c = m.copy()
    for g in (True, False):
        c[cjk == g] -= m[cjk == g].mean(axis=0)  # 3000 tracks: the whole offset goes
    expected = (c / np.linalg.norm(c, axis=1, keepdims=True)) @ q
    np.testing.assert_allclose(got, expected, atol=1e-5)


def test_a_newcomers_prompt_leads_after_a_handful_of_plays(engine):
    """The scenario of issue 14: one play and like, five completions, one more like, then a prompt."""
    now = 1_700_000_000.0
    engine.clock = lambda: now
    midnight = _id(engine, "Midnight Transit")
    engine.record(midnight, "play", at=now - 3000)
    engine.record(midnight, "like", at=now - 2990)
    for i, title in enumerate(["Rain on Glass", "火车慢", "旧街灯", "雨夜的信", "南方以南"]):
        engine.record(_id(engine, title), "complete", at=now - 2400 + 300 * i)
    engine.record(_id(engine, "城市在下沉"), "like", at=now - 300)
    plain = [e.track_id for e in engine.refill(10)]
    engine.set_prompt(PROMPT)
    steered = engine.refill(10)
    cites = sum(PROMPT in e.reason for e in steered)
    assert cites >= 7, [e.reason for e in steered]
    assert [e.track_id for e in steered] != plain
    # 32 tracks: the prompt's gate holds all ten picks, but only its best tenth of the library (4) "fits";
    # the rest of the gate is "near" it (Ninefold Iron, metal, was told it fits "rainy night, mellow")
    said = [e.reason.split(";")[0] for e in steered]
    assert sum(r.startswith(("Fits", "Matches")) for r in said) == 4, said
    assert sum(r.startswith("Near") for r in said) == 6, said
    engine.set_prompt(None)  # clearing the prompt returns to the history at once
    assert [e.track_id for e in engine.refill(10)] == plain


def test_a_long_unrelated_history_does_not_drown_the_prompt(engine):
    now = 1_700_000_000.0
    engine.clock = lambda: now
    engine.set_prompt(PROMPT)
    fresh = {e.track_id for e in engine.refill(10)}
    metal = [_id(engine, "Ninefold Iron"), _id(engine, "Cathedral of Ash")]
    for i in range(200):  # a week of heavy metal, the last a minute ago
        track = metal[i % 2]
        engine.track_started(track, at=now - 60 - 240 * (200 - i))
        engine.track_ended(track, 230.0, 230.0, at=now - 60 - 240 * (200 - i) + 230)
    after = engine.refill(10)
    assert len(fresh & {e.track_id for e in after}) >= 7  # the prompt decides what fits; history only orders
    assert all(PROMPT in e.reason for e in after)


def test_the_first_queue_mirrors_the_librarys_mix_of_languages(engine):
    """No history, no prompt: half the demo library is Chinese-titled, so is about half the first queue
    (ranked by the raw closeness to the library's heart it was 9 of 10)."""
    library = [t.tags.title for t in engine.tracks.iter_all()]
    share = sum(map(has_cjk, library)) / len(library)
    first = engine.refill(10)
    cjk = sum(has_cjk(engine.tracks.get(e.track_id).tags.title) for e in first)
    assert abs(cjk / len(first) - share) <= 0.2, (cjk, share)


@pytest.mark.parametrize(
    ("prompt", "wish"),
    [
        ("欧美R&B入坑曲", False),
        ("英文歌 for the morning", False),
        ("no chinese songs tonight", False),
        ("华语经典老歌", True),
        ("粤语 rainy night", True),
        ("不要欧美", True),
        ("不想听欧美的歌", True),
        ("非欧美", True),
        ("华语R&B：百听不厌的华语节奏布鲁斯", True),  # "never tired of": no negation (a NetEase name)
        ("中英文歌", None),  # both
        ("rainy night, mellow", None),
        ("K-pop 精选", None),  # K-pop titles are mostly Latin: no wish read into it
        ("englishman in new york", None),  # a word, not the language
    ],
)
def test_a_prompt_that_names_a_language_wishes_for_that_script(prompt, wish):
    from player_plugin.recommend.prompt_language import script_wish

    assert script_wish(prompt) is wish


def test_a_language_named_in_the_prompt_decides_the_script_of_what_fits(engine):
    """On the half-Chinese demo library: "欧美" (Western) in a Chinese prompt gives Latin titles only, 华语
    (Chinese) in an English one CJK titles only — in Up Next's picks that cite the prompt and in `similar`."""
    for prompt, cjk in (("欧美 下雨天的安静歌", False), ("华语 songs for a rainy night", True)):
        engine.set_prompt(prompt)
        picks = [e for e in engine.refill(10) if prompt in e.reason]
        assert len(picks) >= 7, [e.reason for e in engine.queue()]
        assert all(has_cjk(engine.tracks.get(e.track_id).tags.title) == cjk for e in picks), prompt
        found = engine.similar(prompt, 10)
        assert found and all(has_cjk(t.tags.title) == cjk for t, _ in found)
    engine.set_prompt(None)


def test_a_first_like_tells_a_sound_not_a_script(engine):
    """One like of a Chinese rain ballad: the first queue holds English songs too (it was 9 of 10
    Chinese: every Chinese-titled track shares an offset in the e5 space); a listener who keeps to
    Chinese songs for a while gets Chinese songs (recommend/prompt_space.script_neutral)."""
    now = 1_700_000_000.0
    engine.clock = lambda: now
    engine.record(_id(engine, "雨夜的信"), "play", at=now - 200)
    engine.record(_id(engine, "雨夜的信"), "like", at=now - 60)
    first = [engine.tracks.get(e.track_id).tags.title for e in engine.refill(10)]
    assert sum(map(has_cjk, first)) <= 7, first
    assert "Rain on Glass" in first  # the English rain ballad: the like's sound
    for i, title in enumerate(["火车慢", "旧街灯", "南方以南", "城市在下沉", "外婆的院子", "不说再见"]):
        engine.record(_id(engine, title), "complete", at=now - 50 + i)
    later = [engine.tracks.get(e.track_id).tags.title for e in engine.refill(10)]
    assert sum(map(has_cjk, later)) >= 8, later


def test_forgotten_history_is_gone_even_when_new_events_reuse_its_ids(engine):
    """A fixed clock: the like after "forget" gets the forgotten like's id and time; the folded history
    must not survive as if nothing had changed."""
    now = 1_700_000_000.0
    engine.clock = lambda: now
    rain = _id(engine, "Rain on Glass")
    engine.record(_id(engine, "雨夜的信"), "like", at=now - 60)
    engine.refill(10)
    engine.forget_history()
    engine.record(rain, "like", at=now - 60)
    after = [e.track_id for e in engine.refill(10)]
    engine.forget_history()
    engine.recommender.invalidate()  # a fresh fold of the same single like
    engine.record(rain, "like", at=now - 60)
    assert [e.track_id for e in engine.refill(10)] == after
