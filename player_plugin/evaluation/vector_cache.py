"""Track vectors of an evaluation dataset, embedded once with the project's encoder and cached.

The cache lives in the user's cache folder, keyed by dataset content hash + model id + model file
checksum + text-view version, so a new export or a changed text view never reuses stale vectors.
Embedding 75,000 tracks takes a while on a laptop CPU: it is done in parts of 4,096 texts, each
saved as it finishes, so an interrupted run resumes where it stopped. Like everything the product
writes, the cache is private (``private_files``): its folders are 0700, its files 0600, each written
atomically.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import platformdirs

from player_plugin.evaluation.dataset import Dataset
from player_plugin.nlp.encoder import Encoder
from player_plugin.nlp.textview import TEXTVIEW_VERSION
from player_plugin.private_files import private_dir, write_private

PART = 4096


def cache_dir() -> Path:
    override = os.environ.get("PLAYER_PLUGIN_CACHE")
    return Path(override) if override else Path(platformdirs.user_cache_dir("player-plugin", appauthor=False)) / "eval"


def cache_key(dataset: Dataset, encoder: Encoder) -> str:
    variant = encoder.manifest.data.get("variants", {}).get("cpu", "")
    model_sha = encoder.manifest.files.get(variant, "")[:12]
    return f"{dataset.name}-{dataset.fingerprint()}-{encoder.model_id}-{model_sha}-tv{TEXTVIEW_VERSION}"


def save_array(path: Path, array: np.ndarray) -> None:
    """``array`` as a ``.npy`` file at ``path``: 0600, atomically (``path`` is whole or absent)."""
    buf = io.BytesIO()
    np.save(buf, array)
    write_private(path, buf.getvalue())


def dataset_vectors(
    dataset: Dataset,
    encoder: Encoder,
    folder: Path | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> np.ndarray:
    """[n_tracks, dim] float32 unit rows for ``dataset.texts()``, from the cache when possible."""
    folder = folder or cache_dir()
    key = cache_key(dataset, encoder)
    final = folder / f"{key}.npy"
    if final.exists():
        vectors = np.load(final)
        if vectors.shape == (dataset.n_tracks, encoder.dim):
            return vectors
    parts_dir = private_dir(folder / f"{key}.parts")  # ``folder`` too, if new
    texts = dataset.texts()
    n_parts = (len(texts) + PART - 1) // PART
    for p in range(n_parts):
        part_file = parts_dir / f"{p:05d}.npy"
        if part_file.exists():
            continue
        chunk = texts[p * PART : (p + 1) * PART]
        save_array(part_file, encoder.embed(chunk, kind="passage"))
        if progress:
            progress(min((p + 1) * PART, len(texts)), len(texts))
    vectors = (
        np.concatenate([np.load(parts_dir / f"{p:05d}.npy") for p in range(n_parts)])
        if n_parts
        else (np.zeros((0, encoder.dim), np.float32))
    )
    save_array(final, vectors)
    for f in parts_dir.iterdir():  # the parts, and any temporary file a killed run left behind
        f.unlink()
    parts_dir.rmdir()
    return vectors
