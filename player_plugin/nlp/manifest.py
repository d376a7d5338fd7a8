"""Model manifests: what a model folder holds and whether its files are intact.

The app never exports or downloads a model: it loads the files a ``manifest.json`` names and
checks each one's sha256 first, so a truncated copy or a swapped file is caught before use.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

REBUILD_HINT = "python export/export_encoder.py --model {model_id}"


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
    path = folder / "manifest.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ModelError(
            f"{path}: model manifest not found; rebuild with: {REBUILD_HINT.format(model_id=folder.name)}"
        ) from exc
    except (OSError, ValueError) as exc:
        raise ModelError(f"{path}: unreadable model manifest ({exc})") from exc
    if not isinstance(data, dict) or "model_id" not in data:
        raise ModelError(f"{path}: not a model manifest (no 'model_id')")
    return Manifest(str(data["model_id"]), folder, data)


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
