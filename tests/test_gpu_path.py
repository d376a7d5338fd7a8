"""The GPU path, as far as a machine without a GPU can check it: the variant each provider runs, the
node-placement check (on a real profile), the batch sizes, what doctor and `models` say, and
`models build --gpu` refusing clearly without the export extra. (On a CUDA machine the encoder also
profiles its session once and logs any work node the CUDA provider left on the CPU.)"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from player_plugin import paths
from player_plugin.nlp import gpu

MODELS = paths.models_dir()
CLI = [sys.executable, "-m", "player_plugin.cli"]


def test_each_provider_runs_its_variant():
    variants = {"cpu": "model.int8.onnx", "fp32": "model.fp32.onnx", "cuda": "model.fp16.onnx"}
    assert gpu.variant_order(variants, on_cuda=True) == [
        ("cuda", "model.fp16.onnx"),
        ("fp32", "model.fp32.onnx"),
        ("cpu", "model.int8.onnx"),
    ]
    assert gpu.variant_order(variants, on_cuda=False) == [("cpu", "model.int8.onnx")]
    assert gpu.variant_order({"cuda": "x.onnx"}, on_cuda=False) == [("cpu", "model.int8.onnx")]
    assert (gpu.batch_size_for("CUDAExecutionProvider"), gpu.batch_size_for("CPUExecutionProvider")) == (256, 32)


def test_the_placement_check_reads_where_each_node_ran():
    ids = np.array([[101, 7592, 102]], dtype=np.int64)
    model = MODELS / "all-minilm-l6-v2" / "model.int8.onnx"
    result = gpu.placement(model, ["CPUExecutionProvider"], {"input_ids": ids, "attention_mask": np.ones_like(ids)})
    assert result.all_on == "CPUExecutionProvider" and result.by_provider["CPUExecutionProvider"] > 50
    assert any(x.startswith(("DynamicQuantizeMatMul", "MatMul")) for x in result.cpu_hot)
    assert gpu.check_placement(model, ["CPUExecutionProvider"]) is None  # only checked on CUDA


def test_a_profile_with_work_left_on_the_cpu_is_reported():
    events = [
        {"cat": "Session", "name": "model_run", "args": {}},
        {"cat": "Node", "name": "mm_kernel_time", "args": {"op_name": "MatMul", "provider": "CUDAExecutionProvider"}},
        {"cat": "Node", "name": "sh_kernel_time", "args": {"op_name": "Shape", "provider": "CPUExecutionProvider"}},
        {"cat": "Node", "name": "ln_kernel_time", "args": {"op_name": "LayerNormalization",
                                                           "provider": "CPUExecutionProvider"}},
        {"cat": "Node", "name": "ln_kernel_time", "args": {"op_name": "LayerNormalization",
                                                           "provider": "CPUExecutionProvider"}},  # a 2nd run
    ]  # fmt: skip
    result = gpu.parse_profile(events)
    assert dict(result.by_provider) == {"CUDAExecutionProvider": 1, "CPUExecutionProvider": 2}
    assert result.cpu_hot == ["LayerNormalization (ln)"] and result.all_on is None  # Shape on the CPU is fine


def test_the_encoder_on_the_cpu_runs_the_int8_file_in_cpu_batches():
    from player_plugin.nlp.encoder import Encoder

    enc = Encoder.load("all-minilm-l6-v2", prefer_gpu=False)
    assert enc.model_path.name == "model.int8.onnx" and enc.batch_size == gpu.CPU_BATCH_SIZE


def _models_copy(tmp_path: Path, fp16: bytes | None) -> Path:
    """The shipped models, linked into a folder of our own; the GPU file absent or replaced."""
    root = tmp_path / "models"
    for folder in MODELS.iterdir():
        if folder.is_dir():
            (root / folder.name).mkdir(parents=True)
            for f in folder.iterdir():
                if f.name != "model.fp16.onnx":
                    os.symlink(f, root / folder.name / f.name)
            manifest = folder / "manifest.json"
            if fp16 is not None and "cuda" in json.loads(manifest.read_text()).get("variants", {}):
                (root / folder.name / "model.fp16.onnx").write_bytes(fp16)
    return root


@pytest.mark.parametrize(("fp16", "state"), [(None, "not built"), (b"not an onnx file", "does not match the manifest")])
def test_doctor_says_which_file_runs_and_the_gpu_variants_state(tmp_path, fp16, state):
    env = {**os.environ, "PLAYER_PLUGIN_MODELS": str(_models_copy(tmp_path, fp16)), "PLAYER_PLUGIN_DEVICE": "cpu"}
    db = ["--db", str(tmp_path / "library.db")]
    out = subprocess.run([*CLI, *db, "doctor", "--json"], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    runs = {m["model_id"]: m.get("runs") for m in json.loads(out.stdout)["models"]["models"]}
    e5 = runs["multilingual-e5-small"]
    assert e5["file"] == "model.int8.onnx" and e5["provider"] == "CPUExecutionProvider"
    assert e5["gpu_variant"] == "model.fp16.onnx" and e5["gpu_variant_state"] == state
    assert runs["seq2seq-v1"] is None  # not a text encoder
    text = subprocess.run([*CLI, *db, "doctor"], capture_output=True, text=True, env=env, timeout=120).stdout
    assert f"runs: model.int8.onnx on CPU; GPU variant model.fp16.onnx: {state}" in text
    listed = subprocess.run([*CLI, "models"], capture_output=True, text=True, env=env, timeout=120)
    assert listed.returncode == 0 and "cuda: model.fp16.onnx (" in listed.stdout and "seq2seq" not in listed.stdout


@pytest.mark.skipif(importlib.util.find_spec("torch") is not None, reason="torch is installed here: it would build")
def test_models_build_gpu_says_what_it_needs():
    out = subprocess.run([*CLI, "models", "build", "--gpu"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 1 and "needs the export extra" in out.stderr and "player_plugin[export]" in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1
    usage = subprocess.run([*CLI, "models", "build"], capture_output=True, text=True, timeout=120)
    assert usage.returncode == 2 and "--gpu" in usage.stderr


def test_the_prepared_device_check_runs_where_there_is_no_gpu(tmp_path):
    """bench/gpu_embed.py, the command a lent GPU machine runs: here the CUDA side says why it is absent
    and the CPU side embeds the bench's texts through Encoder.load, with the file and provider it ran."""
    bench = Path(__file__).resolve().parents[1] / "bench" / "gpu_embed.py"
    env = {**os.environ, "HOME": str(tmp_path), "XDG_CACHE_HOME": str(tmp_path / "cache")}
    args = [sys.executable, str(bench), "--models", str(MODELS), "--corpus", "8", "--tracks", "30", "--passes", "1"]
    out = subprocess.run(args, capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["texts"] >= 8 + 30 + 3  # the corpus, 30 metadata texts, lyric windows of every tenth track
    if not result["cuda"]["available"]:
        assert result["cuda"]["reason"] and result["speedup"] is None and "CUDA  " in out.stdout
    cpu = result["cpu"]
    assert cpu["provider"] == "CPUExecutionProvider" and cpu["file"] == "model.int8.onnx" and cpu["texts_per_s"] > 0
    if (MODELS / "multilingual-e5-small" / "model.fp32.onnx").is_file():  # left by an export on this machine
        assert cpu["cos_fp32_min"] > 0.98
    else:
        assert cpu["cos_fp32_mean"] is None and "no fp32 file" in out.stdout
