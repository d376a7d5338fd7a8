"""The prompt adapter (recommend/prompt_adapter.py, fitted by export/train_prompt_adapter.py): the shipped
file loads and never saw the test split, it moves prompts written in CJK only, the app's fits, its
``w_u`` and ``similar`` go by it (the generator by the prompt's own vector), and a damaged adapter is
ignored with one log line."""

from __future__ import annotations

import json
import logging
import shutil

import numpy as np
import pytest

from player_plugin import paths
from player_plugin.nlp.encoder import DEFAULT_MODEL_ID
from player_plugin.recommend import prompt_adapter as pa
from player_plugin.recommend.prompt_space import centred_query
from player_plugin.text_norm import has_cjk


@pytest.fixture(autouse=True)
def fresh_adapters():
    pa.prompt_adapter.cache_clear()
    yield
    pa.prompt_adapter.cache_clear()


@pytest.fixture
def engine(e5_demo_engine):
    return e5_demo_engine


def test_the_shipped_adapter_is_for_the_default_encoder_and_never_saw_the_test_split(e5):
    adapter = pa.prompt_adapter(DEFAULT_MODEL_ID)
    assert adapter is not None and adapter.weight.shape == (e5.dim, e5.dim) and adapter.alpha > 0
    with np.load(paths.resources_dir() / pa.ADAPTER_FOLDER / f"{DEFAULT_MODEL_ID}.npz") as f:
        about = json.loads(str(f["about"]))
    assert about["model_id"] == DEFAULT_MODEL_ID and about["kind"] == "prompt-adapter"
    assert "train and validation" in about["data"] and "test" not in about["data"]
    assert about["prompt_script"] == "cjk"  # every NetEase name and tag is written in Chinese
    assert pa.prompt_adapter("some-other-encoder") is None


@pytest.mark.parametrize("prompt", ["欧美R&B入坑曲", "抖腿车载DJ 低音炮", "那些你熟悉却又不知道名字的轻音乐"])
def test_a_chinese_request_is_led_towards_its_music_and_stays_near_what_it_says(e5, prompt):
    q = centred_query(prompt, e5.embed_query(prompt), None, 10_000)
    lead = pa.prompt_lead(q, prompt, DEFAULT_MODEL_ID)
    assert lead.shape == q.shape and abs(float(np.linalg.norm(lead)) - 1.0) < 1e-5
    assert 0.2 < float(lead @ q) < 0.999  # moved, not replaced


@pytest.mark.parametrize("prompt", ["rainy night, mellow", "dance party under neon lights", None, ""])
def test_a_prompt_in_another_script_or_none_is_left_as_it_is(e5, prompt):
    q = centred_query("x", e5.embed_query("rainy night"), None, 10_000)
    assert np.array_equal(pa.prompt_lead(q, prompt, DEFAULT_MODEL_ID), q)


def test_up_next_and_similar_follow_the_lead(engine, monkeypatch):
    """With the lead replaced by one track's own vector, that track fits a Chinese prompt best: in
    ``similar`` and in the picks that cite the prompt (both go through ``prompt_lead``)."""
    prompt = "下雨天的安静歌"
    index = engine.recommender.index()
    row = int(
        np.flatnonzero([not has_cjk(t) for t in index.catalog.titles])[0]
    )  # a Latin title: not what the words say
    target = index.catalog.matrix[row] - index.centre.means[int(index.centre.group[row])]
    target = (target / np.linalg.norm(target)).astype(np.float32)
    monkeypatch.setattr(pa, "learned_lead", lambda q, text, model_id: target if text == prompt else q)
    found = engine.similar(prompt, 3)
    assert found[0][0].id == int(index.catalog.ids[row])
    engine.set_prompt(prompt)
    picks = [e.track_id for e in engine.refill(10) if prompt in e.reason]
    assert int(index.catalog.ids[row]) in picks


def test_the_english_newcomer_scenario_is_untouched_by_the_adapter(engine, monkeypatch):
    with_adapter = [t.id for t, _ in engine.similar("rainy night, mellow", 10)]
    monkeypatch.setattr(pa, "learned_lead", lambda q, text, model_id: np.asarray(q, np.float32))  # no adapter
    assert [t.id for t, _ in engine.similar("rainy night, mellow", 10)] == with_adapter


@pytest.mark.parametrize(
    ("damage", "why"),
    [
        (lambda p: p.write_bytes(b"not a zip"), ""),
        (lambda p: np.savez(p, weight=np.ones((3, 4), np.float32), about=json.dumps(_about())), "shape"),
        (lambda p: np.savez(p, weight=np.full((4, 4), np.nan, np.float32), about=json.dumps(_about())), "finite"),
        (lambda p: np.savez(p, weight=np.eye(4, dtype=np.float32), about=json.dumps(_about("e5-large"))), "fitted"),
        (lambda p: np.savez(p, weight=np.eye(4, dtype=np.float32), about=json.dumps(_about(script="greek"))), "script"),
    ],
)
def test_a_damaged_adapter_is_ignored_with_one_line(tmp_path, monkeypatch, caplog, damage, why):
    shutil.copytree(paths.resources_dir(), tmp_path / "resources")
    monkeypatch.setattr(paths, "resources_dir", lambda: tmp_path / "resources")
    path = tmp_path / "resources" / pa.ADAPTER_FOLDER / f"{DEFAULT_MODEL_ID}.npz"
    path.unlink()
    damage(path)
    q = np.eye(4, dtype=np.float32)[0]
    with caplog.at_level(logging.WARNING):
        assert np.array_equal(pa.prompt_lead(q, "中文", DEFAULT_MODEL_ID), q)
        pa.prompt_lead(q, "中文", DEFAULT_MODEL_ID)
    warnings = [r for r in caplog.records if "ignoring the prompt adapter" in r.getMessage()]
    assert len(warnings) == 1 and why in warnings[0].getMessage()


def _about(model_id: str = DEFAULT_MODEL_ID, script: str = "cjk") -> dict:
    return {"model_id": model_id, "alpha": 2.0, "prompt_script": script}


def test_the_user_model_leads_by_the_adapter_and_the_generator_keeps_the_prompts_own_vector(engine):
    engine.set_prompt("欧美R&B入坑曲")
    svc = engine.recommender
    own, lead = svc.prompt_vector(), svc.prompt_lead_vector()
    assert own is not None and lead is not None and float(own @ lead) < 0.999
    index = svc.index()
    model = svc.user_model(index.catalog, [], svc.config(), svc.clock())
    # the lead, not the own vector (a renormalised unit vector: equal up to rounding, which differs by CPU)
    np.testing.assert_allclose(model.prompt, lead, atol=1e-6)
    assert np.array_equal(pa.prompt_lead(own, svc.prompt, DEFAULT_MODEL_ID), lead)
    engine.set_prompt("rainy night, mellow")
    assert np.array_equal(svc.prompt_vector(), svc.prompt_lead_vector())
