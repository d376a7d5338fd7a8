"""The prompt-script head (recommend/prompt_language.py, fitted by export/train_prompt_script.py): the
shipped file loads and was fitted without the test split, it reads a lean into prompts that name no
language, words that name one still decide, the lean lowers the other script's fit by the penalty,
and a damaged head is ignored with one log line."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from player_plugin import paths
from player_plugin.nlp.encoder import DEFAULT_MODEL_ID, Encoder
from player_plugin.recommend import prompt_language as pl


@pytest.fixture(autouse=True)
def fresh_heads():
    pl.script_head.cache_clear()
    yield
    pl.script_head.cache_clear()


@pytest.fixture(scope="module")
def encoder() -> Encoder:
    return Encoder.load(DEFAULT_MODEL_ID)


def test_the_shipped_head_is_for_the_default_encoder_and_never_saw_the_test_split(encoder):
    head = pl.script_head(DEFAULT_MODEL_ID)
    assert head is not None
    assert head.weight.shape == (encoder.dim,)
    with np.load(paths.resources_dir() / pl.HEAD_FOLDER / f"{DEFAULT_MODEL_ID}.npz") as f:
        about = json.loads(str(f["about"]))
    assert about["model_id"] == DEFAULT_MODEL_ID
    assert "train and validation" in about["data"] and "test" not in about["data"]
    assert about["prompt_script"] == "cjk"  # every NetEase name is written in Chinese
    assert pl.script_head("some-other-encoder") is None


def _wish(encoder, prompt: str) -> pl.LanguageWish:
    return pl.language_wish(prompt, encoder.embed_query(prompt), DEFAULT_MODEL_ID)


@pytest.mark.parametrize(
    ("prompt", "towards_cjk"),
    [
        ("轻音乐", False),  # light music: instrumental, Latin titles
        ("电音 蹦迪", False),  # EDM for the club
        ("古风", True),  # Chinese ancient style
        ("经典老歌", True),  # golden oldies
        ("钢琴曲 助眠", False),  # piano to sleep to
    ],
)
def test_a_prompt_that_names_no_language_leans_by_its_meaning(encoder, prompt, towards_cjk):
    wish = _wish(encoder, prompt)
    assert wish.script is None and abs(wish.lean) > 0.3 and (wish.lean > 0) is towards_cjk


@pytest.mark.parametrize(
    ("prompt", "script"),
    [("华语 轻音乐", True), ("不要中文 古风", False), ("english dance party", False), ("中英文 轻音乐", None)],
)
def test_words_that_name_a_language_decide_and_the_head_stays_out(encoder, prompt, script):
    assert _wish(encoder, prompt) == pl.LanguageWish(script=script)


def test_prompts_in_a_script_the_head_never_saw_and_missing_parts_get_no_wish(encoder):
    # fitted on names written in Chinese: an English prompt is not its to judge
    for prompt in ("jazz for a quiet evening", "dance party under neon lights"):
        assert _wish(encoder, prompt) == pl.NO_WISH
    assert pl.language_wish("轻音乐", None, DEFAULT_MODEL_ID) == pl.NO_WISH
    assert pl.language_wish("轻音乐", encoder.embed_query("轻音乐"), "no-such-model") == pl.NO_WISH
    assert pl.language_wish("", encoder.embed_query("x"), DEFAULT_MODEL_ID) == pl.NO_WISH


def test_a_lean_lowers_the_other_scripts_fit_and_a_named_script_shuts_it_out():
    from player_plugin.recommend.catalog_index import CatalogIndex
    from player_plugin.recommend.queue import Catalog

    rng = np.random.default_rng(0)
    v = rng.standard_normal((40, 8)).astype(np.float32)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    titles = [f"雨 {i}" if i % 2 else f"Rain {i}" for i in range(40)]
    meta = [(t, ["A"], [], f"/m/{i}.mp3", 200.0) for i, t in enumerate(titles)]
    index = CatalogIndex.build(Catalog.build(np.arange(40), v, meta), "m", 0)
    q = v[3] / np.linalg.norm(v[3])
    plain = index.prompt_fit(q).copy()
    cjk = np.array([i % 2 == 1 for i in range(40)])
    leaned = index.prompt_fit(q, pl.LanguageWish(lean=-0.5)).copy()  # towards Latin titles
    np.testing.assert_allclose(leaned[~cjk], plain[~cjk])
    np.testing.assert_allclose(leaned[cjk], plain[cjk] - 0.5 * pl.LEAN_PENALTY, atol=1e-6)
    named = index.prompt_fit(q, pl.LanguageWish(script=True))
    assert np.all(np.isneginf(named[~cjk])) and np.allclose(named[cjk], plain[cjk])


def _resources_with(tmp_path, monkeypatch, **arrays) -> None:
    root = tmp_path / "resources"
    shutil.copytree(paths.resources_dir(), root, ignore=shutil.ignore_patterns("demo_library"))
    target = root / pl.HEAD_FOLDER / f"{DEFAULT_MODEL_ID}.npz"
    if arrays.pop("garbage", False):
        target.write_bytes(b"PK\x03\x04 not a zip at all")
    else:
        with np.load(paths.resources_dir() / pl.HEAD_FOLDER / f"{DEFAULT_MODEL_ID}.npz") as f:
            data = {k: f[k] for k in f.files}
        data.update(arrays)
        with target.open("wb") as out:
            np.savez(out, **data)
    monkeypatch.setattr(paths, "resources_dir", lambda: root)


@pytest.mark.parametrize(
    "damage",
    [
        {"garbage": True},
        {"about": json.dumps({"model_id": "all-minilm-l6-v2"})},
        {"weight": np.full(384, np.nan, np.float32)},
        {"bias": np.float32(np.inf)},
        {"about": json.dumps({"model_id": DEFAULT_MODEL_ID, "prompt_script": "klingon"})},
    ],
    ids=["not-a-zip", "another-model", "nan-weights", "infinite-bias", "unknown-script"],
)
def test_a_damaged_head_is_ignored_with_one_line(tmp_path, monkeypatch, caplog, encoder, damage):
    _resources_with(tmp_path, monkeypatch, **damage)
    q = encoder.embed_query("轻音乐")
    assert pl.language_wish("轻音乐", q, DEFAULT_MODEL_ID) == pl.NO_WISH
    assert pl.language_wish("欧美 轻音乐", q, DEFAULT_MODEL_ID).script is False  # the words still work
    lines = [r.getMessage() for r in caplog.records if "prompt-script head" in r.getMessage()]
    assert len(lines) == 1 and "\n" not in lines[0]


def test_the_language_gap_bounds_are_what_each_rule_would_leave():
    """export/train_prompt_script.language_gap_bounds (docs/evaluation.md, "Where the prompt task's
    language gap is left"): a named language decides, else the reading's side or its share; the
    one-script floor is E[min(T, 1 - T)]."""
    import importlib.util

    script = Path(__file__).resolve().parents[1] / "export" / "train_prompt_script.py"
    spec = importlib.util.spec_from_file_location("train_prompt_script", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    share = np.array([0.0, 1.0, 0.3, 0.6])
    read = np.array([0.9, 0.7, 0.2, 0.44])  # the first is overruled: "欧美" names Latin titles
    line = module.language_gap_bounds(share, read, ["欧美R&B", "古风", "轻音乐", "城市夜色"])
    # by side: 0, 0, 0.3, 0.6 -> 0.225; the read share (to a tenth): 0, 0.3, 0.1, 0.2 -> 0.150; floor 0, 0, 0.3, 0.4
    assert "one script by the reading 0.225" in line, line
    assert "the read share 0.150" in line, line
    assert "knowing each side 0.175" in line, line
