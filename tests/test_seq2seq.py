"""The Seq2Seq generator: committed ONNX model, integrity checks, golden parity, determinism, harness use."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from player_plugin.evaluation.blend import UpNextRecommender
from player_plugin.evaluation.dataset import load_dataset
from player_plugin.evaluation.evaluate import evaluate
from player_plugin.evaluation.seq2seq import Seq2SeqRecommender, blend_taste
from player_plugin.nlp.manifest import ModelError, load_manifest, sha256_file
from player_plugin.nlp.seq2seq import DEFAULT_MODEL_ID, Seq2SeqGenerator
from player_plugin.recommend.prompt_space import LibraryCentre
from player_plugin.recommend.seq2seq_rec import aggregate, seq2seq_scores

MODELS = Path(__file__).resolve().parents[1] / "onnx_models"
FOLDER = MODELS / DEFAULT_MODEL_ID


@pytest.fixture(scope="module")
def gen() -> Seq2SeqGenerator:
    return Seq2SeqGenerator.load(models_root=MODELS)


def _unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=-1, keepdims=True)).astype(np.float32)


def test_committed_model_is_small_and_listed():
    m = load_manifest(FOLDER)
    assert m.model_id == DEFAULT_MODEL_ID
    for check in m.check_files():
        assert check.ok, f"{check.name}: {check.status}"
    onnx_bytes = sum((FOLDER / f).stat().st_size for f in m.files if f.endswith((".onnx", ".npz")))
    assert onnx_bytes < 25 * 1024 * 1024
    assert m.data["parity"]["max_abs_diff"] < 1e-4


def test_golden_outputs(gen):
    golden = json.loads((FOLDER / "golden.json").read_text(encoding="utf-8"))
    assert golden["cases"]
    for case in golden["cases"]:
        x = np.asarray(case["session"], np.float32)
        p = None if case["prompt"] is None else np.asarray(case["prompt"], np.float32)
        out = gen.generate(x, np.asarray(case["outcomes"]), p)
        np.testing.assert_allclose(out, np.asarray(case["output"], np.float32), atol=golden["atol"])


def test_generate_shapes_unit_norm_deterministic(gen):
    rng = np.random.default_rng(0)
    x = _unit(rng.normal(size=(10, gen.dim)))
    a = gen.generate(x, np.zeros(10, int), None)
    assert a.shape == (gen.steps, gen.out_dim) and a.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-4)
    np.testing.assert_array_equal(a, gen.generate(x, np.zeros(10, int), None))
    assert gen.generate(x, steps=3).shape == (3, gen.out_dim)
    # outcomes and a prompt are inputs the model reads
    skipped = gen.generate(x, np.array([0] * 9 + [1]))
    assert not np.allclose(a, skipped)
    prompted = gen.generate(x, None, _unit(rng.normal(size=gen.dim)))
    assert not np.allclose(a, prompted)
    # one track, and a session longer than max_context (keeps the newest), both work
    assert gen.generate(x[:1]).shape == (gen.steps, gen.out_dim)
    long = _unit(rng.normal(size=(gen.max_context + 7, gen.dim)))
    np.testing.assert_allclose(gen.generate(long), gen.generate(long[-gen.max_context :]), atol=1e-6)
    # a batch equals its rows one by one
    xb = _unit(rng.normal(size=(3, 6, gen.dim)))
    batch = gen.generate_batch(xb)
    for i in range(3):
        np.testing.assert_allclose(batch[i], gen.generate(xb[i]), atol=1e-5)


def test_unseen_tracks_get_their_neighbours(gen):
    """A session of brand-new tracks (vectors no training run saw) ranks the library tracks near it first.

    Real track vectors come from the golden sessions (held-out test-split tracks); the session is made of fresh
    perturbations of one golden session, the library of every other golden track plus five new tracks close to
    the session.
    """
    rng = np.random.default_rng(1)
    cases = json.loads((FOLDER / "golden.json").read_text(encoding="utf-8"))["cases"]
    first = max(range(len(cases)), key=lambda i: len(cases[i]["session"]))
    base = np.asarray(cases[first]["session"], np.float32)
    others = np.concatenate([np.asarray(c["session"], np.float32) for i, c in enumerate(cases) if i != first])
    jitter = lambda x, s: _unit(x + s * rng.normal(size=x.shape) / np.sqrt(x.shape[-1]))  # noqa: E731
    session = jitter(base, 0.15)
    near = jitter(base[rng.choice(len(base), 5)], 0.15)
    vectors = np.concatenate([near, others, session])
    session_rows = np.arange(len(vectors) - len(session), len(vectors))
    # one script group (every title Latin): the script-centred generator reads each vector less the library's mean
    centre = LibraryCentre(vectors, [f"Track {i}" for i in range(len(vectors))])
    s = seq2seq_scores(gen, vectors, session_rows, centre=centre)
    s[session_rows] = -np.inf
    top = set(np.argsort(-s)[:10].tolist())
    assert len(top & set(range(5))) >= 3  # chance: under 1


def _copy_model(tmp_path: Path) -> Path:
    dst = tmp_path / DEFAULT_MODEL_ID
    shutil.copytree(FOLDER, dst)
    return dst


def test_checksum_mismatch_raises(tmp_path):
    dst = _copy_model(tmp_path)
    data = bytearray((dst / "decoder.onnx").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (dst / "decoder.onnx").write_bytes(bytes(data))
    with pytest.raises(ModelError, match="checksum mismatch"):
        Seq2SeqGenerator.load(models_root=tmp_path)


def test_missing_files_raise(tmp_path):
    dst = _copy_model(tmp_path)
    (dst / "track_map.npz").unlink()
    with pytest.raises(ModelError, match="missing"):
        Seq2SeqGenerator.load(models_root=tmp_path)
    with pytest.raises(ModelError, match="no such"):
        Seq2SeqGenerator.load(models_root=tmp_path / "nowhere")
    (dst / "manifest.json").unlink()
    with pytest.raises(ModelError, match="manifest"):
        Seq2SeqGenerator.load(models_root=tmp_path)


def test_aggregate_and_blend():
    sims = np.array([[1.0, 0.0], [0.0, 1.0]], np.float32)
    assert aggregate(sims, "max").tolist() == [1.0, 1.0]
    mean = aggregate(sims, "mean", 0.5)
    assert mean[0] > mean[1] and abs(mean.sum() - 1.0) < 1e-6
    taste = np.array([0.0, 1.0, 2.0])
    np.testing.assert_array_equal(blend_taste(taste, np.array([3.0, 2.0, 1.0]), 0.0), taste)
    assert np.argmax(blend_taste(taste, np.array([30.0, 0.0, 0.0]), 5.0)) == 0
    np.testing.assert_array_equal(blend_taste(taste, np.ones(3), 1.0), taste)  # a flat opinion changes nothing


def _tiny_dataset(folder: Path, rng: np.random.Generator) -> None:
    folder.mkdir()
    n = 60
    lines = ["track_id\ttitle\tartist\talbum\tgenre\ttags"]
    lines += [f"t{i}\tSong {i}\tArtist {i % 7}\t\t\t" for i in range(n)]
    (folder / "tracks.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with open(folder / "playlists.jsonl", "w", encoding="utf-8") as f:
        for p in range(40):
            tracks = rng.choice(n, 25, replace=False)
            f.write(json.dumps({"playlist_id": f"p{p}", "tracks": [f"t{i}" for i in tracks]}) + "\n")


def test_recommender_in_harness(gen, tmp_path):
    rng = np.random.default_rng(2)
    _tiny_dataset(tmp_path / "tiny", rng)
    ds = load_dataset(tmp_path / "tiny")
    vectors = _unit(rng.normal(size=(ds.n_tracks, gen.dim)))
    recs = {
        "seq2seq": Seq2SeqRecommender(vectors, gen),
        "seq2seq_max": Seq2SeqRecommender(vectors, gen, agg="max"),
        "upnext+seq2seq": UpNextRecommender(vectors, generator=gen, seq2seq_weight=1.0),
    }
    res = evaluate(ds, recs, "test")["results"]
    for name in recs:
        assert res[name]["all"]["points"] > 0
        assert 0.0 <= res[name]["all"]["ndcg@10"] <= 1.0
    rec = recs["seq2seq"]
    ctx = np.arange(10)
    np.testing.assert_allclose(rec.scores_batch([ctx])[0], rec.scores(ctx), atol=1e-5)
    assert not seq2seq_scores(gen, vectors, [-1, -1], centre=rec.centre).any()  # no usable track: no opinion


def test_manifest_sha_matches_files():
    m = load_manifest(FOLDER)
    for name, sha in m.files.items():
        assert sha256_file(FOLDER / name) == sha


def test_missing_model_fallback(tmp_path, caplog):
    from player_plugin.recommend.seq2seq_rec import load_generator_or_none

    with caplog.at_level("WARNING"):
        assert load_generator_or_none(models_root=tmp_path) is None
        assert load_generator_or_none(models_root=tmp_path) is None
    said = [r for r in caplog.records if "without the Seq2Seq generator" in r.getMessage()]
    assert len(said) == 1  # says so once
    assert load_generator_or_none(models_root=MODELS) is not None


def test_session_outcomes():
    from player_plugin.models import EventKind
    from player_plugin.recommend.profile import HistoryEvent
    from player_plugin.recommend.seq2seq_rec import session_outcomes

    events = [
        HistoryEvent(1, EventKind.PLAY, 0.0),
        HistoryEvent(1, EventKind.COMPLETE, 1.0),
        HistoryEvent(2, EventKind.PLAY, 2.0),
        HistoryEvent(2, EventKind.SKIP, 3.0),
        HistoryEvent(3, EventKind.PLAY, 4.0),
        HistoryEvent(3, EventKind.LIKE, 5.0),
    ]
    assert session_outcomes(events, [1, 2, 3]).tolist() == [0, 1, 2]
