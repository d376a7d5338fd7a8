"""A manifest.json with wrong field types is a ModelError naming the file and the field (and one
line from the CLI), never a raw KeyError/ValueError/AttributeError or a broadcast error later."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from player_plugin import paths
from player_plugin.cli import main
from player_plugin.nlp.manifest import ModelError, load_manifest
from player_plugin.nlp.seq2seq import Seq2SeqGenerator

REAL = Path(__file__).resolve().parents[1] / "onnx_models"
ENCODER_ID = "multilingual-e5-small"
SEQ2SEQ_ID = "seq2seq-v1"
SHA = "0" * 64


def _real(model_id: str) -> dict:
    return json.loads((REAL / model_id / "manifest.json").read_text(encoding="utf-8"))


def _write(root: Path, data: dict, model_id: str) -> Path:
    folder = root / model_id
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "manifest.json").write_text(json.dumps(data), encoding="utf-8")
    return folder


def _set(data: dict, dotted: str, value) -> dict:
    out = copy.deepcopy(data)
    *parents, last = dotted.split(".")
    node = out
    for key in parents:
        node = node[key]
    node[last] = value
    return out


ENCODER_CASES = [
    ("dim", "384"),
    ("dim", 0),
    ("dim", True),
    ("files", []),
    ("files", {}),
    ("files", {"tokenizer.json": "abc"}),
    ("files", {"../../etc/passwd": SHA}),
    ("optional_files", {"model.fp32.onnx": 5}),
    ("variants", 5),
    ("variants", {"cpu": "missing.onnx"}),
    ("tokenizer", 7),
    ("tokenizer", "unlisted.json"),
    ("tokenizer_config", "x"),
    ("tokenizer_config.pad_id", "0"),
    ("tokenizer_config.truncation_max_length", -1),
    ("prefixes", ["query: "]),
    ("prefixes", {"query": 1}),
    ("sizes", []),
    ("sizes", {"tokenizer.json": "big"}),
    ("inputs", "input_ids"),
    ("output", 5),
    ("model_id", 5),
    ("model_id", "../elsewhere"),
    ("max_tokens", "512"),
]


@pytest.mark.parametrize(("field", "value"), ENCODER_CASES, ids=[f"{f}={v!r}" for f, v in ENCODER_CASES])
def test_bad_encoder_field_names_file_and_field(tmp_path, field, value):
    folder = _write(tmp_path, _set(_real(ENCODER_ID), field, value), ENCODER_ID)
    with pytest.raises(ModelError) as err:
        load_manifest(folder)
    message = str(err.value)
    assert str(folder / "manifest.json") in message
    top = field.split(".")[0]
    assert f"'{field}" in message or f"'{top}" in message, message
    assert "\n" not in message


SEQ2SEQ_CASES = [
    ("out_dim", "128"),
    ("K", 0),
    ("dim", [384]),
    ("graphs", []),
    ("graphs", {"encoder": "nope.onnx", "decoder": "decoder.onnx"}),
    ("track_map", 5),
    ("max_context", -3),
]


@pytest.mark.parametrize(("field", "value"), SEQ2SEQ_CASES, ids=[f"{f}={v!r}" for f, v in SEQ2SEQ_CASES])
def test_bad_seq2seq_field_is_a_model_error(tmp_path, field, value):
    _write(tmp_path, _set(_real(SEQ2SEQ_ID), field, value), SEQ2SEQ_ID)
    with pytest.raises(ModelError) as err:
        Seq2SeqGenerator.load(SEQ2SEQ_ID, models_root=tmp_path)
    assert "manifest.json" in str(err.value) and f"'{field.split('.')[0]}" in str(err.value)


def test_the_shipped_manifests_pass():
    for folder in sorted(p for p in REAL.iterdir() if (p / "manifest.json").is_file()):
        assert load_manifest(folder).model_id == folder.name


@pytest.mark.parametrize(("field", "value"), [("variants", 5), ("tokenizer_config", "x"), ("prefixes", ["q"])])
def test_cli_says_one_line(tmp_path, monkeypatch, capsys, field, value):
    models = tmp_path / "models"
    _write(models, _set(_real(ENCODER_ID), field, value), ENCODER_ID)
    monkeypatch.setenv("PLAYER_PLUGIN_MODELS", str(models))
    assert paths.models_dir() == models
    db = str(tmp_path / "lib.db")
    assert main(["--db", db, "scan", "--demo"]) == 0
    capsys.readouterr()
    assert main(["--db", db, "embed"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("player-plugin: error: "), err
    assert "manifest.json" in err[0] and f"'{field}'" in err[0] and "internal error" not in err[0]
