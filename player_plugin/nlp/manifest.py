"""Model manifests: what a model folder holds and whether its files are intact.

The app never exports or downloads a model: it loads the files a ``manifest.json`` names and
checks each one's sha256 first, so a truncated copy or a swapped file is caught before use.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

REBUILD_HINT = "python export/export_encoder.py --model {model_id}"
MAX_MANIFEST_BYTES = 1024 * 1024  # ours are 5-20 KB
_SHA256 = re.compile(r"[0-9a-fA-F]{64}")
_SHOWN_CHARS = 40  # how much of a wrong value a message quotes
# Bounds on the numbers a manifest gives: far above any real model's, low enough that a typo (or 10**30) is an
# error naming the file rather than a failed allocation or an overflow deep in numpy or tokenizers.
MAX_DIM = 65536  # dim / out_dim: vector widths (ours are 384 and 128)
MAX_TOKENS = 8192  # max_tokens / truncation_max_length / max_context: sequence lengths (ours: 256-512, 50)
MAX_STEPS = 1024  # K: vectors the generator makes per session, one decoder run each (ours: 10)
MAX_INDEX = 2**31 - 1  # token ids and outcome rows: fit an int32 (tokenizers uses u32, the graphs i64)
SUPPORTED_POOLING = ("mean",)  # what export/export_encoder.py builds into the graph; the runtime pools nothing
_TOKENIZER_BOOLS = ("lowercase", "add_special_tokens")
_TOKENIZER_STRINGS = ("pad_token", "padding", "padding_side", "truncation_strategy", "runtime", "source")


class ModelError(Exception):
    """A model is missing, corrupt or unusable; the message names the file and the fix."""


@dataclass(frozen=True, slots=True)
class FileCheck:
    name: str
    path: Path
    expected_sha256: str
    actual_sha256: str | None  # None when the file is missing
    size: int | None

    @property
    def ok(self) -> bool:
        return self.actual_sha256 == self.expected_sha256

    @property
    def status(self) -> str:
        if self.actual_sha256 is None:
            return "missing"
        return "ok" if self.ok else "checksum mismatch"


@dataclass(frozen=True)
class Manifest:
    model_id: str
    folder: Path
    data: dict

    @property
    def files(self) -> dict[str, str]:
        """File name → expected sha256."""
        return dict(self.data.get("files", {}))

    def check_files(self) -> list[FileCheck]:
        return [_check(self.folder / name, name, sha) for name, sha in sorted(self.files.items())]


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def _check(path: Path, name: str, expected: str) -> FileCheck:
    if not path.is_file():
        return FileCheck(name, path, expected, None, None)
    return FileCheck(name, path, expected, sha256_file(path), path.stat().st_size)


def load_manifest(folder: Path) -> Manifest:
    """The manifest of the model in ``folder``, its fields checked (see :func:`validate_manifest`)."""
    path = folder / "manifest.json"
    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_MANIFEST_BYTES + 1)
        if len(raw) > MAX_MANIFEST_BYTES:
            raise ModelError(f"{path}: larger than {MAX_MANIFEST_BYTES} bytes; not a model manifest")
        data = json.loads(raw.decode("utf-8"))
    except FileNotFoundError as exc:
        raise ModelError(
            f"{path}: model manifest not found; rebuild with: {REBUILD_HINT.format(model_id=folder.name)}"
        ) from exc
    except (OSError, ValueError, RecursionError) as exc:
        raise ModelError(f"{path}: unreadable model manifest ({exc})") from exc
    if not isinstance(data, dict) or "model_id" not in data:
        raise ModelError(f"{path}: not a model manifest (no 'model_id')")
    validate_manifest(data, path)
    return Manifest(data["model_id"], folder, data)


# -- validation ----------------------------------------------------------------------------------


_MISSING = object()  # a required field that is not there


def _bad(path: Path, field: str, wanted: str, value: Any) -> ModelError:
    if value is _MISSING:
        return ModelError(f"{path}: field {field!r} is missing (it must be {wanted}); fix or rebuild it")
    shown = json.dumps(value, ensure_ascii=False, default=str)
    if len(shown) > _SHOWN_CHARS:
        shown = shown[:_SHOWN_CHARS] + "…"
    return ModelError(
        f"{path}: field {field!r} must be {wanted}, got {shown} ({type(value).__name__}); fix or rebuild it"
    )


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _positive_int(data: dict, key: str, path: Path, *, at_most: int, required: bool = False, within: str = "") -> None:
    if key not in data and not required:
        return
    value = data.get(key, _MISSING)
    if not _is_int(value) or not 1 <= value <= at_most:
        raise _bad(path, f"{within}{key}", f"an integer from 1 to {at_most}", value)


def _index(value: Any, path: Path, field: str, what: str) -> None:
    if not _is_int(value) or not 0 <= value <= MAX_INDEX:
        raise _bad(path, field, f"{what} (an integer from 0 to {MAX_INDEX})", value)


def _typed(data: dict, path: Path, keys: tuple[str, ...], kind: type, wanted: str, within: str = "") -> None:
    for key in keys:
        if key in data and not isinstance(data[key], kind):
            raise _bad(path, f"{within}{key}", wanted, data[key])


def _file_name(value: Any) -> bool:
    """A plain relative name inside the model folder (no absolute path, no '..')."""
    if not isinstance(value, str) or not value or "\x00" in value or "\\" in value:
        return False
    parts = PurePosixPath(value).parts
    return not PurePosixPath(value).is_absolute() and ".." not in parts and bool(parts)


def _model_name(data: dict, key: str, path: Path) -> None:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip() or not _file_name(value) or "/" in value:
        raise _bad(path, key, "a model folder name", value)


def _checksums(data: dict, key: str, path: Path, *, required: bool) -> dict[str, str]:
    if key not in data and not required:
        return {}
    value = data.get(key, _MISSING)
    if not isinstance(value, dict) or (required and not value):
        raise _bad(path, key, "an object of file name -> sha256", value)
    for name, sha in value.items():
        if not _file_name(name):
            raise _bad(path, f"{key}.{name}", "named by a file inside the model folder", name)
        if not isinstance(sha, str) or not _SHA256.fullmatch(sha):
            raise _bad(path, f"{key}.{name}", "a sha256 (64 hex digits)", sha)
    return value


def _strings(data: dict, key: str, path: Path, *, listed: dict[str, str] | None = None) -> dict[str, str]:
    """An optional object of str -> str (each value a listed file when ``listed`` is given)."""
    if key not in data:
        return {}
    value = data[key]
    if not isinstance(value, dict):
        raise _bad(path, key, "an object of names -> strings", value)
    for name, item in value.items():
        if not isinstance(item, str):
            raise _bad(path, f"{key}.{name}", "a string", item)
        if listed is not None and item not in listed:
            raise _bad(path, f"{key}.{name}", "a file listed under 'files' or 'optional_files'", item)
    return value


def _listed_file(data: dict, key: str, path: Path, listed: dict[str, str], *, required: bool = False) -> None:
    if key not in data and not required:
        return
    value = data.get(key, _MISSING)
    if not isinstance(value, str) or value not in listed:
        raise _bad(path, key, "the name of a file listed under 'files'", value)


# The track vectors a generator was trained on (its manifest's "track_space", recommend/seq2seq_rec.TrackView):
# the encoder's as they are, or each one less its script group's mean (the language-neutral space of
# recommend/prompt_space.py): e5 gives every CJK-titled track a shared offset, and a generator fed it spends
# itself on "stay in this script" (issue 14; docs/seq2seq.md).
TRACK_SPACES = ("raw", "script-centred")


def validate_manifest(data: dict, path: Path) -> None:
    """Check the types and shapes of every field the app reads; raise ModelError naming the file and
    the field. The Seq2Seq generator's manifest (``graphs``, ``kind: seq2seq-…``) is checked for its
    fields, any other for a text encoder's (``tokenizer``, ``tokenizer_config``, ``variants``…)."""
    _model_name(data, "model_id", path)
    files = _checksums(data, "files", path, required=True)
    optional = _checksums(data, "optional_files", path, required=False)
    if "sizes" in data:
        sizes = data["sizes"]
        if not isinstance(sizes, dict):
            raise _bad(path, "sizes", "an object of file name -> size in bytes", sizes)
        for name, size in sizes.items():
            if not _is_int(size) or size < 0:
                raise _bad(path, f"sizes.{name}", "a size in bytes", size)
    _positive_int(data, "dim", path, required=True, at_most=MAX_DIM)
    _positive_int(data, "max_tokens", path, at_most=MAX_TOKENS)
    _typed(data, path, ("architecture",), str, "a string")
    if is_seq2seq(data):
        _validate_seq2seq(data, path, files)
    else:
        _validate_encoder(data, path, files, {**files, **optional})


def is_seq2seq(data: dict) -> bool:
    """The Seq2Seq generator's manifest (every other manifest is a text encoder's)."""
    kind = data.get("kind")
    return "graphs" in data or (isinstance(kind, str) and kind.startswith("seq2seq"))


def _validate_encoder(data: dict, path: Path, files: dict[str, str], known: dict[str, str]) -> None:
    _listed_file(data, "tokenizer", path, files, required=True)
    if "tokenizer_config" in data:
        cfg = data["tokenizer_config"]
        if not isinstance(cfg, dict):
            raise _bad(path, "tokenizer_config", "an object", cfg)
        for key, value in cfg.items():
            if key.endswith("_id"):  # pad_id, bos_id, eos_id, unk_id…
                _index(value, path, f"tokenizer_config.{key}", "a token id")
        _positive_int(cfg, "truncation_max_length", path, at_most=MAX_TOKENS, within="tokenizer_config.")
        _typed(cfg, path, _TOKENIZER_BOOLS, bool, "true or false", "tokenizer_config.")
        _typed(cfg, path, _TOKENIZER_STRINGS, str, "a string", "tokenizer_config.")
    if "pooling" in data and (not isinstance(data["pooling"], str) or data["pooling"] not in SUPPORTED_POOLING):
        raise _bad(path, "pooling", " or ".join(map(repr, SUPPORTED_POOLING)), data["pooling"])
    if "normalized" in data and data["normalized"] is not True:  # scores are dot products of unit vectors
        raise _bad(path, "normalized", "true (the graph must L2-normalise its output)", data["normalized"])
    _strings(data, "prefixes", path)
    if "variants" not in data:
        raise _bad(path, "variants", "an object of variant -> model file, with a 'cpu' one", _MISSING)
    variants = _strings(data, "variants", path, listed=known)
    if variants.get("cpu") not in files:  # Encoder.load falls back to it on every machine
        wanted = "a file listed under 'files' (the CPU model is required)"
        raise _bad(path, "variants.cpu", wanted, variants.get("cpu", _MISSING))
    if "inputs" in data:
        inputs = data["inputs"]
        if not isinstance(inputs, list) or not all(isinstance(i, str) for i in inputs):
            raise _bad(path, "inputs", "a list of input names", inputs)
    if "output" in data and not isinstance(data["output"], str):
        raise _bad(path, "output", "an output name", data["output"])


def _validate_seq2seq(data: dict, path: Path, files: dict[str, str]) -> None:
    graphs = _strings(data, "graphs", path, listed=files)
    for role in ("encoder", "decoder"):
        if role not in graphs and f"{role}.onnx" not in files:  # the loader's default names
            raise _bad(path, f"graphs.{role}", "a file listed under 'files'", graphs.get(role))
    _listed_file(data, "track_map", path, files)
    kind = data.get("kind", "seq2seq")
    if not isinstance(kind, str) or not kind.startswith("seq2seq"):
        raise _bad(path, "kind", "a string starting with 'seq2seq'", kind)
    _positive_int(data, "out_dim", path, required=True, at_most=MAX_DIM)
    _positive_int(data, "K", path, required=True, at_most=MAX_STEPS)
    _positive_int(data, "max_context", path, at_most=MAX_TOKENS)
    if "track_encoder" in data:  # the text encoder whose vectors it reads
        _model_name(data, "track_encoder", path)
    if "outcomes" in data:
        outcomes = data["outcomes"]
        if not isinstance(outcomes, dict):
            raise _bad(path, "outcomes", "an object of outcome name -> row", outcomes)
        for name, row in outcomes.items():
            _index(row, path, f"outcomes.{name}", "a row")
    _strings(data, "io", path)
    if "track_space" in data and (not isinstance(data["track_space"], str) or data["track_space"] not in TRACK_SPACES):
        raise _bad(path, "track_space", " or ".join(map(repr, TRACK_SPACES)), data["track_space"])


def survey_manifests(models_root: Path) -> list[tuple[Path, Manifest | ModelError]]:
    """Each model folder under ``models_root`` that has a ``manifest.json``, in name order, with its manifest
    or the one-line error that says why it is unusable (``doctor`` lists both)."""
    if not models_root.is_dir():
        return []
    out: list[tuple[Path, Manifest | ModelError]] = []
    for sub in sorted(p for p in models_root.iterdir() if p.is_dir()):
        if (sub / "manifest.json").is_file():
            try:
                out.append((sub, load_manifest(sub)))
            except ModelError as exc:
                out.append((sub, exc))
    return out


def find_manifests(models_root: Path) -> list[Manifest]:
    """Every valid manifest under ``models_root`` (one folder per model); broken ones are left out."""
    return [m for _, m in survey_manifests(models_root) if isinstance(m, Manifest)]
