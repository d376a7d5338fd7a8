"""A manifest.json with wrong field types is a ModelError naming the file and the field (and one
line from the CLI), never a raw KeyError/ValueError/AttributeError or a broadcast error later."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from player_plugin import paths
from player_plugin.cli import main
from player_plugin.doctor import models_info, problems, report
from player_plugin.nlp.manifest import MAX_DIM, MAX_INDEX, MAX_TOKENS, ModelError, find_manifests, load_manifest
from player_plugin.nlp.seq2seq import Seq2SeqGenerator
from player_plugin.recommend.seq2seq_rec import load_generator_or_none

REAL = Path(__file__).resolve().parents[1] / "onnx_models"
ENCODER_ID = "multilingual-e5-small"
SEQ2SEQ_ID = "seq2seq-v1"
SHA = "0" * 64
DELETE = object()  # _set removes the field


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
    if value is DELETE:
        del node[last]
    else:
        node[last] = value
    return out


def _ids(cases) -> list[str]:
    return [f"{f}={'<deleted>' if v is DELETE else repr(v)[:30]}" for f, v in cases]


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
    # numbers out of any sane range: an error naming the file, not a numpy/tokenizers crash later
    ("dim", 10**30),
    ("dim", -1),
    ("dim", 1.5),
    ("dim", MAX_DIM + 1),
    ("dim", DELETE),
    ("max_tokens", 10**12),
    ("max_tokens", MAX_TOKENS + 1),
    ("tokenizer_config.pad_id", 10**20),
    ("tokenizer_config.pad_id", -1),
    ("tokenizer_config.pad_id", MAX_INDEX + 1),
    ("tokenizer_config.eos_id", 2**40),
    ("tokenizer_config.unk_id", "3"),
    ("tokenizer_config.bos_id", True),
    ("tokenizer_config.truncation_max_length", 10**9),
    ("tokenizer_config.lowercase", "no"),
    ("tokenizer_config.pad_token", 1),
    # fields the app relies on without reading them at run time
    ("pooling", "max"),
    ("pooling", []),
    ("normalized", "yes"),
    ("normalized", False),
    ("architecture", 5),
    ("variants", DELETE),
    ("variants.cpu", DELETE),
]


@pytest.mark.parametrize(("field", "value"), ENCODER_CASES, ids=_ids(ENCODER_CASES))
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
    ("dim", 10**30),
    ("out_dim", 10**30),
    ("K", 10**9),
    ("max_context", 10**12),
    ("kind", "text-encoder"),
    ("track_encoder", "../elsewhere"),
    ("outcomes.liked", "2"),
    ("outcomes.liked", 10**20),
    ("io", {"encoder.onnx": 5}),
    ("track_space", "centred"),
]
# Every field of the generator's manifest that the app reads or relies on, given a wrong type (the audit's [[]]).
SEQ2SEQ_FIELDS = [
    "model_id", "kind", "architecture", "track_encoder", "dim", "out_dim", "K", "max_context",
    "outcomes", "graphs", "track_map", "io", "files", "sizes", "track_space",
]  # fmt: skip
SEQ2SEQ_CASES += [(f, [[]]) for f in SEQ2SEQ_FIELDS]


@pytest.mark.parametrize(("field", "value"), SEQ2SEQ_CASES, ids=_ids(SEQ2SEQ_CASES))
def test_bad_seq2seq_field_is_a_model_error(tmp_path, field, value):
    folder = _write(tmp_path, _set(_real(SEQ2SEQ_ID), field, value), SEQ2SEQ_ID)
    with pytest.raises(ModelError) as err:
        Seq2SeqGenerator.load(SEQ2SEQ_ID, models_root=tmp_path)
    message = str(err.value)
    assert str(folder / "manifest.json") in message and f"'{field.split('.')[0]}" in message, message
    assert "\n" not in message


def test_a_broken_generator_manifest_is_a_warning_naming_the_file(tmp_path, caplog):
    """Up Next falls back to the user model alone (on purpose), but says why, once, naming the file."""
    folder = _write(tmp_path, _set(_real(SEQ2SEQ_ID), "K", "ten"), SEQ2SEQ_ID)
    with caplog.at_level("WARNING"):
        assert load_generator_or_none(SEQ2SEQ_ID, tmp_path) is None
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1 and str(folder / "manifest.json") in warnings[0] and "'K'" in warnings[0], warnings


def test_the_shipped_manifests_pass():
    for folder in sorted(p for p in REAL.iterdir() if (p / "manifest.json").is_file()):
        assert load_manifest(folder).model_id == folder.name


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("variants", 5),
        ("tokenizer_config", "x"),
        ("prefixes", ["q"]),
        ("dim", 10**30),  # absurd numbers: one line naming the file, no "internal error"
        ("tokenizer_config.pad_id", 10**20),
        ("max_tokens", 10**12),
    ],
)
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
    assert str(models / ENCODER_ID / "manifest.json") in err[0] and f"{field}'" in err[0]
    assert "internal error" not in err[0]


def _models(root: Path, broken: dict[str, tuple[str, object]]) -> Path:
    """``root`` with every shipped model (files linked, manifest copied), ``broken`` ones' manifests changed."""
    for folder in sorted(p for p in REAL.iterdir() if (p / "manifest.json").is_file()):
        data = _real(folder.name)
        if folder.name in broken:
            data = _set(data, *broken[folder.name])
        target = _write(root, data, folder.name)
        for f in folder.iterdir():
            if f.name != "manifest.json":
                (target / f.name).symlink_to(f)
    return root


def test_doctor_lists_a_model_with_a_broken_manifest(tmp_path):
    root = _models(tmp_path / "models", {SEQ2SEQ_ID: ("dim", 10**30), ENCODER_ID: ("pooling", "max")})
    assert [m.model_id for m in find_manifests(root)] == ["all-minilm-l6-v2"]  # broken ones are not loaded
    models = {m["model_id"]: m for m in models_info(root)["models"]}
    assert set(models) == {"all-minilm-l6-v2", ENCODER_ID, SEQ2SEQ_ID}
    assert "error" not in models["all-minilm-l6-v2"] and models["all-minilm-l6-v2"]["files"]
    for model_id, field in ((ENCODER_ID, "pooling"), (SEQ2SEQ_ID, "dim")):
        error = models[model_id]["error"]
        assert str(root / model_id / "manifest.json") in error and f"'{field}'" in error and "\n" not in error


def test_doctor_exits_non_zero_on_a_broken_manifest(tmp_path, monkeypatch, capsys):
    models = _models(tmp_path / "models", {SEQ2SEQ_ID: ("K", [[]])})
    monkeypatch.setenv("PLAYER_PLUGIN_MODELS", str(models))
    db = str(tmp_path / "never.db")
    assert problems(report(Path(db))) != []
    assert main(["--db", db, "doctor"]) == 1
    out, err = capsys.readouterr()
    manifest = str(models / SEQ2SEQ_ID / "manifest.json")
    assert f"  {SEQ2SEQ_ID}" in out and manifest in out  # listed, with the reason
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("player-plugin: error: ") and manifest in lines[0], lines
    assert "'K'" in lines[0] and "internal error" not in lines[0]
    assert main(["--db", db, "doctor", "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    broken = [m for m in data["models"]["models"] if m.get("error")]
    assert [m["model_id"] for m in broken] == [SEQ2SEQ_ID] and manifest in broken[0]["error"]


def test_doctor_exits_zero_with_the_shipped_models(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PLAYER_PLUGIN_MODELS", str(_models(tmp_path / "models", {})))
    assert main(["--db", str(tmp_path / "never.db"), "doctor"]) == 0
    assert capsys.readouterr().err == ""
