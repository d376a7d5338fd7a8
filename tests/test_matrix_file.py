"""A big library's vectors in a private unnamed file (player_plugin/matrix_file.py): read back exactly,
indexed like an array, in blocks for the full passes, and the fill over it is the fill in memory."""

from __future__ import annotations

import os
import stat

import numpy as np
import pytest

from player_plugin import matrix_file as mf
from player_plugin import paths
from player_plugin.models import Event, EventKind, TrackTags
from player_plugin.recommend.service import RecommendService
from player_plugin.store import Database, EventRepository, SettingsRepository, TrackRepository, VectorRepository
from player_plugin.store.tracks import ScannedFile


def _vectors(n: int, dim: int = 24, seed: int = 0) -> np.ndarray:
    v = np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def _built(a: np.ndarray, as_bytes: bool = False) -> np.ndarray | mf.FileRows:
    """``a``'s rows through a RowsBuilder, as the store adds them."""
    build = mf.RowsBuilder(len(a), a.shape[1])
    for row in a:
        build.add(row.tobytes() if as_bytes else row)
    return build.finish()


def _in_file(a: np.ndarray, monkeypatch) -> mf.FileRows:
    monkeypatch.setattr(mf, "FILE_MIN_ROWS", 1)
    out = _built(a, as_bytes=True)
    assert isinstance(out, mf.FileRows)
    return out


def test_rows_come_back_exactly_however_they_are_indexed(monkeypatch):
    a = _vectors(1000)
    m = _in_file(a, monkeypatch)
    assert m.shape == a.shape and len(m) == len(a) and m.ndim == 2 and m.dtype == np.float32
    rng = np.random.default_rng(3)
    keys = [
        5,
        -1,
        np.int64(999),
        slice(None),
        slice(10, 20),
        slice(990, 2000),
        slice(7, 700, 13),
        slice(50, 10),
        rng.integers(0, 1000, 300),  # any order, repeats
        np.array([4, 5, 6, 7, 100, 101, 3]),
        [0, 999, -2],
        np.arange(1000) % 3 == 0,  # a mask
        np.zeros(0, np.int64),
        (np.array([8, 2]), 5),
        (3, slice(2, 6)),
    ]
    for key in keys:
        np.testing.assert_array_equal(m[key], a[key])
    for bad in (1000, -1001, np.array([3, 1000]), np.ones(5, bool)):
        with pytest.raises(IndexError):
            m[bad]
    with pytest.raises(TypeError):  # no silent full read: whole passes go block by block
        np.asarray(m)


def test_full_passes_are_the_same_in_a_file_and_in_memory(monkeypatch):
    a = _vectors(20_500, dim=16)  # over two blocks and a bit
    m = _in_file(a, monkeypatch)
    q = _vectors(1, dim=16)[0]
    qs = _vectors(3, dim=16, seed=1).T
    w = np.random.default_rng(2).random(len(a)).astype(np.float32)
    for got, want in ((mf.product(m, q), mf.product(a, q)), (mf.product(m, qs), mf.product(a, qs))):
        np.testing.assert_array_equal(got, want)
    np.testing.assert_allclose(mf.product(a, q), a @ q, atol=1e-6)
    np.testing.assert_array_equal(mf.weighted_sum(m, w), mf.weighted_sum(a, w))
    np.testing.assert_allclose(mf.weighted_sum(a, w), w @ a, rtol=1e-4)
    keep = np.flatnonzero(np.arange(len(a)) % 4 != 1)
    kept = mf.take_rows(m, keep)
    assert isinstance(kept, mf.FileRows)
    np.testing.assert_array_equal(kept[:], a[keep])


def test_the_file_is_private_and_has_no_name(monkeypatch):
    m = _in_file(_vectors(300), monkeypatch)
    cache = paths.cache_dir()
    assert stat.S_IMODE(os.stat(cache).st_mode) == 0o700
    assert not [p for p in cache.rglob("*") if p.is_file()]  # nothing to read stale, nothing left behind
    assert stat.S_IMODE(os.fstat(m._fd).st_mode) == 0o600


def test_below_the_threshold_and_without_a_cache_folder_the_matrix_stays_in_memory(monkeypatch, tmp_path, caplog):
    a = _vectors(50)
    assert isinstance(_built(a), np.ndarray)
    blocker = tmp_path / "a file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    monkeypatch.setattr(mf, "FILE_MIN_ROWS", 1)
    got = _built(a)
    assert isinstance(got, np.ndarray)
    np.testing.assert_array_equal(got, a)
    assert "keeping the library's vectors in memory" in caplog.text


def test_a_full_disk_mid_write_loses_no_row(monkeypatch, caplog):
    """/dev/full refuses every write with ENOSPC, as a full cache folder would."""
    a = _vectors(100)
    monkeypatch.setattr(mf, "FILE_MIN_ROWS", 1)
    monkeypatch.setattr(mf, "BLOCK_ROWS", 16)
    monkeypatch.setattr(mf, "_private_file", lambda: open("/dev/full", "w+b"))  # noqa: SIM115
    got = _built(a)
    assert isinstance(got, np.ndarray)
    np.testing.assert_array_equal(got, a)
    assert "the cache folder is full" in caplog.text


def _library_db(path, n: int, dim: int = 32) -> Database:
    """A real store: ``n`` tracks in 12 styles (half of them Chinese-titled), vectors, a short history."""
    db = Database(path)
    tracks, vectors, events = TrackRepository(db), VectorRepository(db), EventRepository(db)
    rng = np.random.default_rng(0)
    styles = rng.standard_normal((12, dim)).astype(np.float32)
    ids = []
    with db.transaction():
        for i in range(n):
            s = i % 12
            title = f"雨夜 {i}" if i % 2 else f"Rain {i}"
            tags = TrackTags(title=title, artists=(f"Artist {i % 40}",), genres=(f"Genre {s}",), duration_s=200.0)
            tid = tracks.insert(ScannedFile(f"/music/{i}.mp3", 1000, i, "", tags, None, None), now=1.0)
            v = styles[s] + 0.6 * rng.standard_normal(dim).astype(np.float32)
            vectors.put(tid, "m", v / np.linalg.norm(v), "h")
            ids.append(tid)
    for k, tid in enumerate(ids[:60:3]):
        events.record(Event(tid, EventKind.PLAY, None, 1_000_000.0 + 300 * k))
        events.record(Event(tid, EventKind.COMPLETE if k % 4 else EventKind.SKIP, None, 1_000_200.0 + 300 * k))
    return db


def test_the_fill_over_a_file_backed_library_is_the_fill_in_memory(tmp_path, monkeypatch):
    """The whole service path (history, taste, prompt fit, library centre, reasons) over the same
    store, once with the matrix in a file and once in memory: the same picks, the same reasons."""
    db = _library_db(tmp_path / "lib.db", 600)
    SettingsRepository(db).set_prompt("late night rain")
    prompt = _vectors(1, dim=32, seed=9)[0]

    def fills(min_rows: int) -> tuple[type, list]:
        monkeypatch.setattr(mf, "FILE_MIN_ROWS", min_rows)
        svc = RecommendService(db, lambda: None, lambda: "m", clock=lambda: 1_010_000.0)
        svc.set_generator(None)
        svc._prompt_vec = ("m", svc.prompt, svc.catalog().n, prompt)  # no encoder in this test
        kind = type(svc.catalog().matrix)
        out = [[(e.track_id, e.reason) for e in svc.recommend(10, [], None)]]
        SettingsRepository(db).set_prompt(None)
        out.append([(e.track_id, e.reason) for e in svc.recommend(10, [], None)])
        SettingsRepository(db).set_prompt("late night rain")
        return kind, out

    in_file, from_file = fills(1)
    in_memory, from_memory = fills(10**9)
    assert in_file is mf.FileRows and in_memory is np.ndarray
    assert from_file == from_memory
    assert all(len(f) == 10 for f in from_file)


def test_the_generators_map_of_a_file_backed_library_is_the_map_in_memory(monkeypatch):
    from player_plugin.recommend.prompt_space import LibraryCentre
    from player_plugin.recommend.seq2seq_rec import TrackView, load_generator_or_none, mapped_library

    generator = load_generator_or_none()
    if generator is None:
        pytest.skip("the shipped generator is missing")
    a = _vectors(9000, dim=generator.dim)  # two blocks
    monkeypatch.setattr(mf, "BLOCK_ROWS", 4096)
    m = _in_file(a, monkeypatch)
    titles = [f"雨夜 {i}" if i % 3 == 0 else f"Rain {i}" for i in range(len(a))]
    centre_a, centre_m = LibraryCentre(a, titles), LibraryCentre(m, titles)
    np.testing.assert_array_equal(mapped_library(generator, m, centre_m), mapped_library(generator, a, centre_a))
    read = TrackView(generator, a, centre_a).rows(np.arange(len(a)))  # raw, or script-centred
    np.testing.assert_allclose(mapped_library(generator, a, centre_a), generator.map_tracks(read), atol=1e-6)


def test_rows_kept_between_reads_are_the_rows_of_the_file(monkeypatch):
    """Many overlapping reads through a small cache: every answer is the file's rows, in order."""
    monkeypatch.setattr(mf, "CACHE_ROWS", 64)
    a = _vectors(2000)
    m = _in_file(a, monkeypatch)
    rng = np.random.default_rng(5)
    hot = rng.integers(0, 2000, 40)
    for k in range(300):
        rows = np.concatenate([hot[: k % 40], rng.integers(0, 2000, int(rng.integers(0, 90)))])
        np.testing.assert_array_equal(m[rows], a[rows])
        np.testing.assert_array_equal(m[int(rows[0]) if len(rows) else 0], a[int(rows[0]) if len(rows) else 0])
