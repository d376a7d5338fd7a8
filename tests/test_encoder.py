"""The runtime encoder (``player_plugin.nlp.encoder``): real models, real tokenizer, real onnxruntime.

tests/test_export_artifacts.py checks the raw ONNX files; this checks what the app runs: manifest
verification, ``Encoder`` (tokenisation, length-sorted padded batches, prefixes) and the session
factory's provider choice and CPU fallback. Dynamic int8 quantises activations per batch, so golden
comparisons embed each text alone and batched rows are only required to be close; the goldens are
fp32 vectors and the int8 model is held to them by cosine (tests/goldens.py says why and how far).
"""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import numpy as np
import pytest

from player_plugin.nlp import runtime
from player_plugin.nlp.encoder import Encoder
from player_plugin.nlp.manifest import REBUILD_HINT, ModelError
from player_plugin.nlp.runtime import CPU, CUDA
from tests.goldens import FP32_ATOL, assert_int8_matches_golden

MODELS_ROOT = Path(__file__).resolve().parents[1] / "onnx_models"
E5 = "multilingual-e5-small"
MINILM = "all-minilm-l6-v2"


@pytest.fixture(scope="module")
def minilm() -> Encoder:
    return Encoder.load(MINILM, models_root=MODELS_ROOT, prefer_gpu=False)


@pytest.fixture(scope="module")
def e5() -> Encoder:
    return Encoder.load(E5, models_root=MODELS_ROOT, prefer_gpu=False)


@pytest.fixture
def cpu_only(monkeypatch):
    monkeypatch.setenv("PLAYER_PLUGIN_DEVICE", "cpu")


def golden(model_id: str) -> list[dict]:
    return json.loads((MODELS_ROOT / model_id / "golden.json").read_text(encoding="utf-8"))["items"]


def copy_model(tmp_path: Path, model_id: str = MINILM, link_model: bool = False) -> Path:
    """A copy of a model folder under ``tmp_path/models``; the big ONNX file may be a symlink."""
    src = MODELS_ROOT / model_id
    dest = tmp_path / "models" / model_id
    dest.mkdir(parents=True)
    for name in ("manifest.json", "tokenizer.json", "golden.json", "model.int8.onnx"):
        if name.endswith(".onnx") and link_model:
            (dest / name).symlink_to(src / name)
        else:
            shutil.copyfile(src / name, dest / name)
    return dest


def hint(model_id: str) -> str:
    return REBUILD_HINT.format(model_id=model_id)


# -- loading and verification ------------------------------------------------------------------------


def test_load_reports_what_runs(minilm, e5):
    assert (minilm.model_id, minilm.dim, minilm.provider) == (MINILM, 384, CPU)
    assert (e5.model_id, e5.dim, e5.provider) == (E5, 384, CPU)
    assert e5.model_path == MODELS_ROOT / E5 / "model.int8.onnx"
    assert e5.prefixes == {"query": "query: ", "passage": "passage: "}
    assert e5.pad_id == 1 and minilm.pad_id == 0


def test_a_clean_copy_loads(tmp_path, cpu_only):
    copy_model(tmp_path, link_model=True)
    enc = Encoder.load(MINILM, models_root=tmp_path / "models")
    assert enc.embed(["hello"]).shape == (1, 384)


def test_corrupt_model_file_is_refused_with_the_fix(tmp_path, cpu_only):
    folder = copy_model(tmp_path)
    path = folder / "model.int8.onnx"
    data = bytearray(path.read_bytes())
    data[len(data) // 2 : len(data) // 2 + 16] = bytes(b ^ 0xFF for b in data[len(data) // 2 : len(data) // 2 + 16])
    path.write_bytes(bytes(data))
    with pytest.raises(ModelError) as err:
        Encoder.load(MINILM, models_root=tmp_path / "models")
    msg = str(err.value)
    assert str(path) in msg and "checksum mismatch" in msg and hint(MINILM) in msg


def test_truncated_tokenizer_is_refused(tmp_path, cpu_only):
    folder = copy_model(tmp_path, link_model=True)
    tok = folder / "tokenizer.json"
    tok.write_bytes(tok.read_bytes()[:1000])
    with pytest.raises(ModelError, match="checksum mismatch") as err:
        Encoder.load(MINILM, models_root=tmp_path / "models")
    assert str(tok) in str(err.value)


def test_missing_model_file_names_it(tmp_path, cpu_only):
    folder = copy_model(tmp_path, link_model=True)
    (folder / "model.int8.onnx").unlink()
    with pytest.raises(ModelError) as err:
        Encoder.load(MINILM, models_root=tmp_path / "models")
    msg = str(err.value)
    assert str(folder / "model.int8.onnx") in msg and "missing" in msg and hint(MINILM) in msg


def test_missing_model_folder(tmp_path):
    with pytest.raises(ModelError) as err:
        Encoder.load("no-such-model", models_root=tmp_path)
    msg = str(err.value)
    assert str(tmp_path / "no-such-model") in msg and hint("no-such-model") in msg


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "model manifest not found"),
        (b"{ not json", "unreadable model manifest"),
        (b"\xff\xfe\x00garbage", "unreadable model manifest"),
        (b'{"dim": 384}', "not a model manifest"),
        (b"[1, 2]", "not a model manifest"),
    ],
)
def test_unreadable_manifest(tmp_path, content, expected):
    folder = copy_model(tmp_path, link_model=True)
    manifest = folder / "manifest.json"
    if content is None:
        manifest.unlink()
    else:
        manifest.write_bytes(content)
    with pytest.raises(ModelError, match=expected) as err:
        Encoder.load(MINILM, models_root=tmp_path / "models")
    assert str(manifest) in str(err.value)


def test_manifest_of_another_model_is_refused(tmp_path):
    """A folder whose manifest names another model would store vectors under the wrong key."""
    folder = copy_model(tmp_path, link_model=True)
    folder.rename(folder.with_name("renamed"))
    with pytest.raises(ModelError, match="names model 'all-minilm-l6-v2', not 'renamed'"):
        Encoder.load("renamed", models_root=tmp_path / "models")


# -- golden vectors through the Encoder ------------------------------------------------------------


@pytest.mark.parametrize("model_id", [MINILM, E5])
def test_golden_vectors_each_text_alone(model_id, minilm, e5):
    enc = {MINILM: minilm, E5: e5}[model_id]
    items = golden(model_id)
    assert any(any("\u4e00" <= c <= "\u9fff" for c in it["text"]) for it in items)  # Chinese is covered
    vectors = []
    for item in items:
        assert enc.token_ids(enc.prefixed([item["text"]], item["kind"]))[0] == item["ids"], item["text"][:40]
        vec = enc.embed([item["text"]], kind=item["kind"])
        assert vec.shape == (1, 384) and vec.dtype == np.float32
        vectors.append(vec[0])
    assert_int8_matches_golden(model_id, np.stack(vectors), items)


# -- batches ------------------------------------------------------------------------------------------------


# int8 MiniLM is the more batch-sensitive model (its activations' ranges differ more between texts)
MIN_COSINE = {E5: 0.98, MINILM: 0.95}


def _mixed_texts(model_id: str) -> list[str]:
    """Mixed lengths, deliberately unsorted: long, short, Chinese, a one-word text."""
    return [it["text"] for it in golden(model_id)][::-1] + ["ok"]


@pytest.mark.parametrize("model_id", [MINILM, E5])
def test_batches_keep_input_order_and_match_single_texts(model_id, minilm, e5):
    enc = {MINILM: minilm, E5: e5}[model_id]
    enc_small = Encoder(enc.manifest, enc.session, enc.tokenizer, batch_size=4)  # several batches
    texts = _mixed_texts(model_id)
    lengths = [len(ids) for ids in enc.token_ids(texts)]
    assert lengths != sorted(lengths)
    calls: list[tuple[int, int]] = []
    batched = enc_small.embed(texts, progress=lambda done, total: calls.append((done, total)))
    assert batched.shape == (len(texts), 384) and batched.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(batched, axis=1), 1.0, atol=1e-4)
    alone = np.stack([enc.embed([t])[0] for t in texts])
    cosines = np.sum(batched * alone, axis=1)
    assert float(cosines.mean()) > 0.98 and float(cosines.min()) > MIN_COSINE[model_id], cosines
    # row i belongs to text i: its best match among the single vectors is itself
    assert (np.argmax(batched @ alone.T, axis=1) == np.arange(len(texts))).all()
    assert calls[-1] == (len(texts), len(texts)) and len(calls) == -(-len(texts) // 4)


@pytest.mark.parametrize("model_id", [MINILM, E5])
def test_padding_is_exact_with_the_fp32_model(model_id, minilm, e5):
    """fp32 has no batch-dependent quantisation: padded, sorted batches must equal single texts exactly."""
    path = MODELS_ROOT / model_id / "model.fp32.onnx"
    if not path.is_file():
        pytest.skip(f"{path} not exported here (optional, git-ignored)")
    enc = {MINILM: minilm, E5: e5}[model_id]
    fp32 = Encoder(enc.manifest, runtime.create_session(path, prefer_gpu=False), enc.tokenizer, batch_size=4)
    texts = _mixed_texts(model_id) + [""]
    batched = fp32.embed(texts)
    alone = np.stack([fp32.embed([t])[0] for t in texts])
    np.testing.assert_allclose(batched, alone, atol=1e-5)
    # fp32 has no int8 kernels: it reproduces the golden (fp32) vectors on any CPU
    for item in golden(model_id):
        vec = fp32.embed([item["text"]], kind=item["kind"])[0]
        np.testing.assert_allclose(vec, np.asarray(item["embedding"], np.float32), atol=FP32_ATOL, err_msg=item["text"])


def test_empty_input(minilm, e5):
    for enc in (minilm, e5):
        out = enc.embed([])
        assert out.shape == (0, 384) and out.dtype == np.float32
    assert minilm.embed(np.array([], dtype=str)).shape == (0, 384)


def test_long_text_is_truncated_to_the_model_limit(minilm):
    ids = minilm.token_ids(["word " * 1000])[0]
    assert len(ids) == minilm.max_tokens == 256
    assert minilm.embed(["word " * 1000]).shape == (1, 384)


# -- meaning -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "good", "bad"),
    [
        ("伤心的情歌", "a sad love song", "upbeat dance music"),
        ("rainy night", "窗外的雨下了一整夜，我把想说的话写成了信", "霓虹灯下 心跳加速 音乐响起 一起跳舞"),
        ("适合派对的舞曲", "Move your body, we dance until the sun comes up", "a quiet piano lullaby for sleeping"),
        ("想家", "火车慢慢地开，妈妈的叮咛还在耳边，车票上写着回家的日期", "heavy metal, iron and fire"),
    ],
)
def test_cross_lingual_ranking(e5, query, good, bad):
    q = e5.embed_query(query)
    passages = e5.embed([good, bad], kind="passage")
    assert float(q @ passages[0]) > float(q @ passages[1])


def test_e5_prefixes_are_applied(e5):
    text = "rainy night, mellow"
    prefix_ids = e5.tokenizer.encode("query:", add_special_tokens=False).ids
    ids = e5.token_ids(e5.prefixed([text], "query"))[0]
    assert ids[0] == 0 and ids[1 : 1 + len(prefix_ids)] == prefix_ids
    passage_ids = e5.tokenizer.encode("passage:", add_special_tokens=False).ids
    assert e5.token_ids(e5.prefixed([text], "passage"))[0][1 : 1 + len(passage_ids)] == passage_ids
    # embed_query embeds exactly "query: " + text; passages get "passage: "
    q = e5.embed_query(text)
    np.testing.assert_allclose(q, e5.embed_ids(e5.token_ids(["query: " + text]))[0], atol=1e-6)
    np.testing.assert_allclose(
        e5.embed([text], kind="passage")[0], e5.embed_ids(e5.token_ids(["passage: " + text]))[0], atol=1e-6
    )
    assert float(q @ e5.embed([text], kind="passage")[0]) < 0.999


def test_minilm_has_no_prefixes(minilm):
    text = "rainy night"
    np.testing.assert_allclose(minilm.embed_query(text), minilm.embed([text])[0], atol=1e-6)


# -- execution providers -------------------------------------------------------------------------------------


def test_choose_provider_on_this_machine():
    choice = runtime.choose_provider()
    assert CPU in choice.available and choice.chosen in choice.available and choice.reason
    if choice.reason.startswith("CUDA libraries not loadable"):
        # the reason names what is missing, e.g. "(libcublasLt.so.13: cannot open shared object file: …)"
        assert choice.chosen == CPU and (".so" in choice.reason or ".dll" in choice.reason), choice.reason


def test_no_nvidia_driver_skips_the_cuda_probe(monkeypatch):
    """Without the driver's libcuda.so.1 nothing of CUDA is loaded (the probe costs seconds per start)."""

    def probe():
        raise AssertionError("the CUDA libraries were probed on a machine with no NVIDIA driver")

    monkeypatch.delenv("PLAYER_PLUGIN_DEVICE", raising=False)
    monkeypatch.setattr(runtime, "nvidia_driver_present", lambda: False)
    monkeypatch.setattr(runtime, "_cuda_library_loads", probe)
    choice = runtime.choose_provider()
    assert choice.chosen == CPU
    if CUDA in choice.available:
        assert choice.reason == "no NVIDIA driver on this machine"


def test_device_env_forces_cpu(monkeypatch):
    monkeypatch.setattr(runtime, "nvidia_driver_present", lambda: True)
    monkeypatch.setattr(runtime, "_cuda_library_loads", lambda: (True, "pretend"))
    assert runtime.choose_provider().chosen == (CUDA if CUDA in runtime._ort().get_available_providers() else CPU)
    monkeypatch.setenv("PLAYER_PLUGIN_DEVICE", "cpu")
    choice = runtime.choose_provider()
    assert (choice.chosen, choice.reason) == (CPU, "PLAYER_PLUGIN_DEVICE=cpu")
    assert runtime.choose_provider(prefer_gpu=False).chosen == CPU


def _pretend_cuda(monkeypatch):
    """CUDA looks usable to our probe, but its provider cannot actually run on this machine."""
    monkeypatch.delenv("PLAYER_PLUGIN_DEVICE", raising=False)
    pretend = runtime.ProviderChoice((CUDA, CPU), CUDA, "pretend")
    monkeypatch.setattr(runtime, "choose_provider", lambda prefer_gpu=True: pretend)
    monkeypatch.setattr("player_plugin.nlp.encoder.choose_provider", runtime.choose_provider)


def _cuda_runs_here() -> bool:
    return runtime._cuda_library_loads()[0]


@pytest.mark.skipif(_cuda_runs_here(), reason="CUDA really works here: nothing to fall back from")
def test_broken_cuda_falls_back_to_a_working_cpu_session(monkeypatch, caplog):
    _pretend_cuda(monkeypatch)
    caplog.set_level(logging.INFO, logger="player_plugin.nlp.runtime")
    session = runtime.create_session(MODELS_ROOT / MINILM / "model.int8.onnx", threads=1)
    assert session.get_providers()[0] == CPU
    ids = np.array([[101, 7592, 102]], dtype=np.int64)
    (out,) = session.run(["embedding"], {"input_ids": ids, "attention_mask": np.ones_like(ids)})
    assert out.shape == (1, 384)
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert any("CUDA" in r.getMessage() and CPU in r.getMessage() for r in warnings), caplog.text


def test_cuda_session_that_raises_falls_back(monkeypatch, caplog):
    """A CUDA install broken enough that onnxruntime raises (not just falls back) must not crash us."""
    _pretend_cuda(monkeypatch)
    ort = runtime._ort()
    real = ort.InferenceSession

    def session(path, sess_options=None, providers=None):
        if providers and providers[0] == CUDA:
            raise RuntimeError("CUDA failure 999: unknown error")
        return real(path, sess_options=sess_options, providers=providers)

    monkeypatch.setattr(ort, "InferenceSession", session)
    caplog.set_level(logging.WARNING, logger="player_plugin.nlp.runtime")
    sess = runtime.create_session(MODELS_ROOT / MINILM / "model.int8.onnx", threads=1)
    assert sess.get_providers() == [CPU]
    assert "CUDA session failed (CUDA failure 999" in caplog.text


@pytest.mark.skipif(_cuda_runs_here(), reason="CUDA really works here: nothing to fall back from")
def test_encoder_with_broken_cuda_runs_the_cpu_model(monkeypatch, caplog):
    """CUDA chosen → the fp16 file is tried; when CUDA does not run it, the int8 CPU file is loaded instead."""
    _pretend_cuda(monkeypatch)
    caplog.set_level(logging.WARNING)
    enc = Encoder.load(MINILM, models_root=MODELS_ROOT, threads=1)
    assert enc.provider == CPU
    assert enc.model_path == MODELS_ROOT / MINILM / "model.int8.onnx"
    item = golden(MINILM)[0]
    assert_int8_matches_golden(MINILM, enc.embed([item["text"]], kind=item["kind"]), [item])
    assert "CUDA" in caplog.text


def test_encoder_uses_int8_when_the_gpu_file_is_absent(tmp_path, monkeypatch):
    _pretend_cuda(monkeypatch)
    copy_model(tmp_path, link_model=True)  # no fp16/fp32 files in the copy
    enc = Encoder.load(MINILM, models_root=tmp_path / "models", threads=1)
    assert enc.model_path.name == "model.int8.onnx"
    assert enc.embed(["hello"]).shape == (1, 384)
