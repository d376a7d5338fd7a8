"""Facts about this installation, for ``player-plugin doctor`` and the settings dialog."""

from __future__ import annotations

import platform
import sqlite3
from importlib import metadata
from pathlib import Path

from player_plugin import paths
from player_plugin.nlp.manifest import Manifest, survey_manifests

_PACKAGES = (
    "player_plugin", "mutagen", "numpy", "sqlite-utils", "tokenizers", "onnxruntime-gpu",
    "onnxruntime", "PySide6-Essentials", "PySide6-Addons", "platformdirs",
)  # fmt: skip


def versions() -> dict[str, str]:
    out = {"python": platform.python_version(), "sqlite": sqlite3.sqlite_version}
    for name in _PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out


def database_info(db_path: Path) -> dict:
    from player_plugin.store.db import BUSY_TIMEOUT_S, StoreError, check_ours, damaged_message, open_error, quick_check
    from player_plugin.store.migrations import SCHEMA_VERSION

    info: dict = {"path": str(db_path), "exists": db_path.exists(), "latest_schema": SCHEMA_VERSION}
    if db_path.is_dir():
        info["error"] = f"{db_path} is a folder, not a database file"
    elif db_path.exists():
        try:
            # Read-only look: doctor must not migrate or create anything.
            conn = sqlite3.connect(f"{db_path.resolve().as_uri()}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_S)
            try:
                check_ours(conn, db_path)
                problem = quick_check(conn)  # every page read: a damaged one in mid-file is found here
                if problem is not None:
                    raise StoreError(damaged_message(db_path, problem))
                info["schema_version"] = conn.execute("PRAGMA user_version").fetchone()[0]
                info["journal_mode"] = conn.execute("PRAGMA journal_mode").fetchone()[0]
                info["tracks"] = conn.execute("SELECT count(*) FROM tracks").fetchone()[0]
            finally:
                conn.close()
            info["mode"] = oct(db_path.stat().st_mode & 0o777)
        except StoreError as exc:
            info["error"] = str(exc)
        except sqlite3.DatabaseError as exc:
            info["error"] = str(open_error(db_path, exc))
    return info


def models_info(models_root: Path | None = None) -> dict:
    """Each installed model with its files' checks; one whose manifest is unusable is listed with the
    one-line reason under ``error`` (and no files), so :func:`problems` counts it."""
    root = models_root or paths.models_dir()
    models = []
    for folder, manifest in survey_manifests(root):
        if not isinstance(manifest, Manifest):
            models.append({"model_id": folder.name, "folder": str(folder), "error": str(manifest), "files": []})
            continue
        models.append(
            {
                "model_id": manifest.model_id,
                "folder": str(manifest.folder),
                "files": [
                    {"name": c.name, "status": c.status, "sha256": c.actual_sha256, "size": c.size}
                    for c in manifest.check_files()
                ],
            }
        )
    return {"folder": str(root), "models": models}


def variant_files(manifest: Manifest) -> dict[str, tuple[str, bool]]:
    """A text encoder's variants: name → (file, whether it is on disk)."""
    return {k: (name, (manifest.folder / name).is_file()) for k, name in (manifest.data.get("variants") or {}).items()}


def file_state(manifest: Manifest, name: str) -> str:
    """ "ok" (its checksum is the manifest's), "not built" (not on disk) or "does not match the manifest"."""
    from player_plugin.nlp.model_files import verified_file

    if not (manifest.folder / name).is_file():
        return "not built"
    try:
        ok = verified_file(manifest, name, rebuild="player-plugin models build --gpu", required=False)
    except Exception:  # noqa: BLE001 - a manifest naming it without a checksum: not usable either
        ok = None
    return "ok" if ok is not None else "does not match the manifest"


def runs(manifest: Manifest, provider: str) -> dict | None:
    """The file a session of this text encoder runs with ``provider`` (the encoder's own order,
    nlp/gpu.py), and the GPU variant's state; None for a model that is not a text encoder."""
    from player_plugin.nlp.gpu import variant_order

    variants = manifest.data.get("variants")
    if not variants:
        return None
    on_cuda = provider == "CUDAExecutionProvider"
    order = variant_order(variants, on_cuda)
    name = next((n for k, n in order if k == "cpu" or file_state(manifest, n) == "ok"), order[-1][1])
    gpu = variants.get("cuda")
    state = gpu and file_state(manifest, gpu)
    return {"file": name, "provider": provider, "gpu_variant": gpu, "gpu_variant_state": state}


def providers_info() -> dict:
    try:
        from player_plugin.nlp.runtime import choose_provider

        choice = choose_provider()
    except ImportError as exc:
        return {"error": f"onnxruntime not importable: {exc}"}
    return {"available": list(choice.available), "chosen": choice.chosen, "reason": choice.reason}


def problems(data: dict) -> list[str]:
    """The one-line errors in a :func:`report`: an unusable database, a model whose manifest is broken.
    Doctor shows everything and exits non-zero when this is not empty."""
    out = [data["database"]["error"]] if data["database"].get("error") else []
    out += [m["error"] for m in data["models"]["models"] if m.get("error")]
    return out


def report(db_path: Path) -> dict:
    models, ort = models_info(), providers_info()
    provider = ort.get("chosen", "CPUExecutionProvider")
    for m in models["models"]:
        if not m.get("error"):
            from player_plugin.nlp.manifest import load_manifest

            if (what := runs(load_manifest(Path(m["folder"])), provider)) is not None:
                m["runs"] = what
    return {
        "versions": versions(),
        "database": database_info(db_path),
        "models": models,
        "onnxruntime": ort,
        "demo_library": str(paths.demo_library_dir()),
    }
