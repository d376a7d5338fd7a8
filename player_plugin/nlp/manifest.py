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


def _bad(path: Path, field: str, wanted: str, value: Any) -> ModelError:
    shown = json.dumps(value, ensure_ascii=False, default=str)
    if len(shown) > _SHOWN_CHARS:
        shown = shown[:_SHOWN_CHARS] + "…"
    return ModelError(
        f"{path}: field {field!r} must be {wanted}, got {shown} ({type(value).__name__}); fix or rebuild it"
    )


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _positive_int(data: dict, key: str, path: Path, *, required: bool = False, within: str = "") -> None:
    if key not in data and not required:
        return
    value = data.get(key)
    if not _is_int(value) or value < 1:
        raise _bad(path, f"{within}{key}", "a positive integer", value)


def _file_name(value: Any) -> bool:
    """A plain relative name inside the model folder (no absolute path, no '..')."""
    if not isinstance(value, str) or not value or "\x00" in value or "\\" in value:
        return False
    parts = PurePosixPath(value).parts
    return not PurePosixPath(value).is_absolute() and ".." not in parts and bool(parts)


def _checksums(data: dict, key: str, path: Path, *, required: bool) -> dict[str, str]:
    if key not in data and not required:
        return {}
    value = data.get(key)
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
    value = data.get(key)
    if not isinstance(value, str) or value not in listed:
        raise _bad(path, key, "the name of a file listed under 'files'", value)


def validate_manifest(data: dict, path: Path) -> None:
    """Check the types and shapes of every field the app reads; raise ModelError naming the file and
    the field. The Seq2Seq generator's manifest (``graphs``, ``kind: seq2seq-…``) is checked for its
    fields, any other for a text encoder's (``tokenizer``, ``tokenizer_config``, ``variants``…)."""
    model_id = data.get("model_id")
    if not isinstance(model_id, str) or not model_id.strip() or not _file_name(model_id) or "/" in model_id:
        raise _bad(path, "model_id", "a model folder name", model_id)
    files = _checksums(data, "files", path, required=True)
    optional = _checksums(data, "optional_files", path, required=False)
    if "sizes" in data:
        sizes = data["sizes"]
        if not isinstance(sizes, dict):
            raise _bad(path, "sizes", "an object of file name -> size in bytes", sizes)
        for name, size in sizes.items():
            if not _is_int(size) or size < 0:
                raise _bad(path, f"sizes.{name}", "a size in bytes", size)
    _positive_int(data, "dim", path, required=True)
    _positive_int(data, "max_tokens", path)
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
        if "pad_id" in cfg and (not _is_int(cfg["pad_id"]) or cfg["pad_id"] < 0):
            raise _bad(path, "tokenizer_config.pad_id", "a token id (an integer >= 0)", cfg["pad_id"])
        if "truncation_max_length" in cfg:
            _positive_int(cfg, "truncation_max_length", path, within="tokenizer_config.")
    _strings(data, "prefixes", path)
    variants = _strings(data, "variants", path, listed=known)
    if variants and variants.get("cpu") is not None and variants["cpu"] not in files:
        raise _bad(path, "variants.cpu", "a file listed under 'files' (the CPU model is required)", variants["cpu"])
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
    for key in ("out_dim", "K"):
        _positive_int(data, key, path, required=True)
    _positive_int(data, "max_context", path)


def find_manifests(models_root: Path) -> list[Manifest]:
    """Every readable manifest under ``models_root`` (one folder per model)."""
    if not models_root.is_dir():
        return []
    out = []
    for sub in sorted(p for p in models_root.iterdir() if p.is_dir()):
        if (sub / "manifest.json").is_file():
            try:
                out.append(load_manifest(sub))
            except ModelError:
                continue
    return out
