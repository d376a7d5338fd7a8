"""The evaluation vector cache is private like everything the product writes: 0700 folders, 0600 files."""

from __future__ import annotations

import os
import stat
from types import SimpleNamespace

import numpy as np
import pytest

from player_plugin.evaluation import vector_cache

DIM = 4


@pytest.fixture
def open_umask():
    old = os.umask(0o022)  # a usual desktop umask: mkdir would give 0755, np.save 0644
    yield
    os.umask(old)


def mode(p) -> int:
    return stat.S_IMODE(os.stat(p).st_mode)


class FakeDataset:
    """What ``dataset_vectors`` reads of a Dataset: a name, a fingerprint and the track texts."""

    name = "tiny"

    def __init__(self, n: int) -> None:
        self.n_tracks = n

    def fingerprint(self) -> str:
        return "f00d"

    def texts(self) -> list[str]:
        return [f"track {i}" for i in range(self.n_tracks)]


class FakeEncoder:
    """A deterministic stand-in for the ONNX encoder; ``fail_after`` parts it raises (an interrupted run)."""

    model_id = "fake-model"
    dim = DIM

    def __init__(self, fail_after: int | None = None) -> None:
        self.manifest = SimpleNamespace(data={"variants": {"cpu": "m.onnx"}}, files={"m.onnx": "ab" * 32})
        self.calls = 0
        self.fail_after = fail_after

    def embed(self, texts, kind="passage"):
        if self.fail_after is not None and self.calls >= self.fail_after:
            raise KeyboardInterrupt
        self.calls += 1
        idx = np.array([int(t.split()[1]) for t in texts], np.float32)
        rows = np.stack([idx + 1, idx * 2, np.ones_like(idx), -idx], axis=1)
        return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def test_cache_folders_and_files_are_private(tmp_path, monkeypatch, open_umask):
    cache = tmp_path / "new" / "cache"  # neither folder exists yet
    monkeypatch.setenv("PLAYER_PLUGIN_CACHE", str(cache))
    monkeypatch.setattr(vector_cache, "PART", 3)
    dataset, encoder = FakeDataset(7), FakeEncoder()
    expected = FakeEncoder().embed(dataset.texts())

    vectors = vector_cache.dataset_vectors(dataset, encoder)
    np.testing.assert_array_equal(vectors, expected)
    assert encoder.calls == 3  # 7 texts in parts of 3

    assert mode(tmp_path / "new") == 0o700 and mode(cache) == 0o700
    final = cache / f"{vector_cache.cache_key(dataset, encoder)}.npy"
    assert os.listdir(cache) == [final.name]  # no parts folder, no temporary file left
    assert mode(final) == 0o600

    again = FakeEncoder()
    loaded = vector_cache.dataset_vectors(dataset, again)  # from the cache now
    assert again.calls == 0
    np.testing.assert_array_equal(loaded, expected)
    assert loaded.dtype == np.float32 and loaded.shape == (7, DIM)


def test_parts_of_an_interrupted_run_are_private_and_resume(tmp_path, monkeypatch, open_umask):
    cache = tmp_path / "cache"
    monkeypatch.setenv("PLAYER_PLUGIN_CACHE", str(cache))
    monkeypatch.setattr(vector_cache, "PART", 2)
    dataset = FakeDataset(5)
    with pytest.raises(KeyboardInterrupt):
        vector_cache.dataset_vectors(dataset, FakeEncoder(fail_after=2))

    parts = cache / f"{vector_cache.cache_key(dataset, FakeEncoder())}.parts"
    assert mode(cache) == 0o700 and mode(parts) == 0o700
    assert sorted(os.listdir(parts)) == ["00000.npy", "00001.npy"]
    assert all(mode(parts / f) == 0o600 for f in os.listdir(parts))

    resumed = FakeEncoder()
    vectors = vector_cache.dataset_vectors(dataset, resumed)
    assert resumed.calls == 1  # only the missing third part
    np.testing.assert_array_equal(vectors, FakeEncoder().embed(dataset.texts()))
    assert not parts.exists()
    assert mode(cache / f"{parts.stem}.npy") == 0o600
