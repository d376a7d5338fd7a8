"""``player-plugin embed`` / ``similar`` and the embedding job, on a copy of the demo library, with real models.

MiniLM (small, fast) for the bookkeeping; the default multilingual e5 model where meaning is the point
(embedded once for the module).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import threading
from pathlib import Path

import mutagen
import numpy as np
import pytest

from player_plugin import cli, paths
from player_plugin.embedding import Embedder, EmbedProgress, track_text
from player_plugin.engine import Engine
from player_plugin.nlp.encoder import DEFAULT_MODEL_ID, Encoder
from player_plugin.nlp.textview import TrackText, lyric_lines, lyric_windows
from player_plugin.store import Database, TrackRepository, VectorRepository

MODELS_ROOT = Path(__file__).resolve().parents[1] / "onnx_models"
MINILM = "all-minilm-l6-v2"
E5 = DEFAULT_MODEL_ID
DEMO_TRACKS = 32


@pytest.fixture(scope="module")
def minilm() -> Encoder:
    return Encoder.load(MINILM, models_root=MODELS_ROOT, prefer_gpu=False)


def copy_demo(dest: Path) -> Path:
    shutil.copytree(paths.demo_library_dir(), dest, ignore=shutil.ignore_patterns("*.md"))
    return dest


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def run_quiet(*argv: str) -> tuple[int, str, str]:
    """cli.main outside a test function (module fixtures cannot use capsys)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(list(argv))
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def library(tmp_path, capsys):
    """A scanned copy of the demo library: (music folder, database path)."""
    music = copy_demo(tmp_path / "Music")
    db = tmp_path / "lib.db"
    code, out, _ = run(capsys, "scan", str(music), "--json", "--db", str(db))
    assert code == 0 and json.loads(out)["added"] == DEMO_TRACKS
    return music, db


def embed(capsys, db: Path, *extra: str) -> dict:
    code, out, err = run(capsys, "embed", "--db", str(db), "--json", *extra)
    assert code == 0, err
    return json.loads(out)


def hashes(db: Path, model_id: str) -> dict[int, str]:
    d = Database(db)
    try:
        return VectorRepository(d).text_hashes(model_id)
    finally:
        d.close()


# -- the embed command ------------------------------------------------------------------------------------


def test_embed_is_incremental(library, capsys):
    music, db = library
    first = embed(capsys, db, "--model", MINILM)
    assert (first["model"], first["embedded"], first["unchanged"]) == (MINILM, DEMO_TRACKS, 0)
    assert first["cancelled"] is False and first["provider"].endswith("ExecutionProvider")
    assert first["texts"] > DEMO_TRACKS  # metadata lines + lyric windows
    before = hashes(db, MINILM)
    assert len(before) == DEMO_TRACKS

    again = embed(capsys, db)  # the library now remembers the model
    assert (again["model"], again["embedded"], again["unchanged"]) == (MINILM, 0, DEMO_TRACKS)

    # new lyrics in a sidecar → exactly that track
    lrc = music / "Mira Vale" / "Slow Weather" / "02 Rain on Glass.lrc"
    lrc.write_text("[00:01.00]Thunder over the harbour\n[00:05.00]Nobody sleeps tonight\n", encoding="utf-8")
    # a new tag in another file → exactly that track
    mp3 = music / "Iron Sermon" / "Cathedral of Ash" / "02 Ninefold Iron.mp3"
    audio = mutagen.File(mp3, easy=True)
    audio["genre"] = "Doom Metal"
    audio.save()
    code, out, _ = run(capsys, "scan", "--json", "--db", str(db))
    assert code == 0 and json.loads(out)["updated"] == 2

    third = embed(capsys, db)
    assert (third["embedded"], third["unchanged"]) == (2, DEMO_TRACKS - 2)
    after = hashes(db, MINILM)
    changed = {tid for tid in before if before[tid] != after[tid]}
    d = Database(db)
    titles = {TrackRepository(d).get(t).tags.title for t in changed}
    d.close()
    assert titles == {"Rain on Glass", "Ninefold Iron"}
    assert embed(capsys, db)["embedded"] == 0


def test_cancelled_run_keeps_whole_chunks_and_resumes(library, minilm):
    _, db_path = library
    db = Database(db_path)
    try:
        stop = threading.Event()
        seen: list[EmbedProgress] = []

        def progress(p: EmbedProgress) -> None:
            seen.append(p)
            if p.done >= 8:
                stop.set()

        report = Embedder(db, minilm, chunk_tracks=8).run(progress=progress, cancel=stop)
        assert report.cancelled and report.embedded == 8
        assert [p.done for p in seen] == [0, 8] and seen[0].total == DEMO_TRACKS
        assert VectorRepository(db).count(MINILM) == 8

        calls = 0

        def cancel_after_two_chunks() -> bool:
            nonlocal calls
            calls += 1
            return calls > 2

        report = Embedder(db, minilm, chunk_tracks=8).run(cancel=cancel_after_two_chunks)
        assert (report.cancelled, report.embedded, report.unchanged) == (True, 16, 8)
        assert VectorRepository(db).count(MINILM) == 24  # whole chunks only

        report = Embedder(db, minilm, chunk_tracks=8).run()
        assert (report.cancelled, report.embedded, report.unchanged) == (False, 8, 24)
        assert VectorRepository(db).count(MINILM) == DEMO_TRACKS
        ids, matrix = VectorRepository(db).matrix(MINILM)
        assert matrix.shape == (DEMO_TRACKS, 384)
        np.testing.assert_allclose(np.linalg.norm(matrix, axis=1), 1.0, atol=1e-5)
    finally:
        db.close()


def test_missing_model_fails_cleanly(library, capsys, tmp_path, monkeypatch):
    _, db = library
    models = tmp_path / "models"
    models.mkdir()
    monkeypatch.setenv("PLAYER_PLUGIN_MODELS", str(models))
    code, out, err = run(capsys, "embed", "--db", str(db), "--model", MINILM, "--cpu")
    assert code == 1 and out == ""
    assert str(models / MINILM) in err and f"python export/export_encoder.py --model {MINILM}" in err
    assert "Traceback" not in err


def test_corrupt_model_fails_cleanly(library, capsys, tmp_path, monkeypatch):
    _, db = library
    folder = tmp_path / "models" / MINILM
    folder.mkdir(parents=True)
    for name in ("manifest.json", "tokenizer.json", "golden.json", "model.int8.onnx"):
        shutil.copyfile(MODELS_ROOT / MINILM / name, folder / name)
    onnx = folder / "model.int8.onnx"
    with open(onnx, "r+b") as f:
        f.seek(os.path.getsize(onnx) // 2)
        byte = f.read(1)
        f.seek(-1, os.SEEK_CUR)
        f.write(bytes([byte[0] ^ 0xFF]))
    monkeypatch.setenv("PLAYER_PLUGIN_MODELS", str(tmp_path / "models"))
    monkeypatch.setenv("PLAYER_PLUGIN_DEVICE", "cpu")
    code, out, err = run(capsys, "embed", "--db", str(db), "--model", MINILM, "--json")
    assert code == 1 and out == ""
    assert err.startswith("player-plugin: ") and str(onnx) in err and "checksum mismatch" in err
    assert f"python export/export_encoder.py --model {MINILM}" in err and "Traceback" not in err
    assert hashes(db, MINILM) == {}


# -- the text view -----------------------------------------------------------------------------------------


def _count(encoder: Encoder):
    return lambda lines: [len(ids) - 2 for ids in encoder.token_ids(lines)]


def test_lyric_windows(minilm):
    chorus = ["Hold on, hold on, the night is young", "We sing it loud until the morning sun"]
    verses = [f"verse line number {i} about the long road home and the city lights" for i in range(40)]
    lyrics = "\n".join(chorus + verses[:20] + chorus + ["", "  HOLD ON,   hold on, the night is young  "] + verses[20:])
    lines = lyric_lines(lyrics)
    assert lines.count(chorus[0]) == 1 and len(lines) == 2 + 40  # chorus once, case/whitespace folded

    windows = lyric_windows(lyrics, _count(minilm), window_tokens=64, max_windows=100)
    assert len(windows) > 4
    assert "\n".join(windows).split("\n") == lines  # every distinct line once, in order
    for w in windows:
        assert sum(_count(minilm)(w.split("\n"))) <= 64
    assert "\n".join(windows).count(chorus[0]) == 1

    capped = lyric_windows(lyrics, _count(minilm), window_tokens=64, max_windows=3)
    assert len(capped) == 3
    assert capped[0] == windows[0] and capped[-1] == windows[-1] and capped[1] in windows  # spread over the song
    assert lyric_windows(lyrics, _count(minilm)) == lyric_windows(lyrics, _count(minilm))  # deterministic
    assert lyric_windows(None, _count(minilm)) == [] and lyric_windows(" \n\n ", _count(minilm)) == []


def test_track_text_and_hash(library, minilm):
    _, db_path = library
    db = Database(db_path)
    try:
        track = next(t for t in TrackRepository(db).iter_all() if t.tags.title == "雨夜的信")
    finally:
        db.close()
    text = track_text(track, minilm)
    assert text.meta.startswith("Title: 雨夜的信 | Artist: 林夕雨") and "Genre: Mandopop, Ballad" in text.meta
    assert text.windows and "窗外的雨下了一整夜" in text.windows[0]
    assert track_text(track, minilm).hash == text.hash

    from dataclasses import replace

    changed = track_text(replace(track, lyrics=track.lyrics + "\n最后一句新的歌词"), minilm)
    assert changed.meta == text.meta and changed.hash != text.hash
    assert track_text(replace(track, lyrics=None), minilm).hash != text.hash
    retitled = track_text(replace(track, tags=replace(track.tags, title="雨夜")), minilm)
    assert retitled.hash != text.hash
    assert TrackText("a", ("b", "c")).hash != TrackText("a", ("c", "b")).hash != TrackText("a", ("b",)).hash


# -- with the default multilingual model ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def e5_library(tmp_path_factory):
    """The demo library embedded with MiniLM, then switched to the default e5 model (through the CLI)."""
    tmp = tmp_path_factory.mktemp("e5lib")
    music = copy_demo(tmp / "Music")
    db = tmp / "lib.db"
    code, _, err = run_quiet("scan", str(music), "--db", str(db))
    assert code == 0, err
    reports = {}
    for model in (MINILM, E5):
        code, out, err = run_quiet("embed", "--db", str(db), "--model", model, "--json")
        assert code == 0, err
        reports[model] = json.loads(out)
    return db, reports


_E5_CACHE: dict[str, Encoder] = {}


@pytest.fixture
def shared_e5(monkeypatch):
    """The CLI's ``Encoder.load`` loads each model once for the module (real encoders, only cached)."""
    real_load = Encoder.load

    def load(model_id: str = DEFAULT_MODEL_ID, **kwargs) -> Encoder:
        if model_id not in _E5_CACHE:
            _E5_CACHE[model_id] = real_load(model_id, **kwargs)
        return _E5_CACHE[model_id]

    monkeypatch.setattr(Encoder, "load", staticmethod(load))


def test_switching_model_embeds_everything_and_keeps_the_old_vectors(e5_library, capsys, shared_e5):
    db, reports = e5_library
    assert reports[MINILM]["embedded"] == DEMO_TRACKS
    assert (reports[E5]["model"], reports[E5]["embedded"], reports[E5]["unchanged"]) == (E5, DEMO_TRACKS, 0)
    assert len(hashes(db, MINILM)) == len(hashes(db, E5)) == DEMO_TRACKS
    rerun = embed(capsys, db)  # the library's model is now e5
    assert (rerun["model"], rerun["embedded"], rerun["unchanged"]) == (E5, 0, DEMO_TRACKS)
    assert embed(capsys, db, "--model", MINILM)["embedded"] == 0  # switching back: nothing to do
    assert embed(capsys, db, "--model", E5)["embedded"] == 0


def test_similar_json_shape(e5_library, capsys, shared_e5):
    db, _ = e5_library
    code, out, err = run(capsys, "similar", "雨夜", "--json", "--count", "3", "--db", str(db), "--model", E5)
    assert code == 0, err
    data = json.loads(out)
    assert list(data) == ["query", "model", "results"]
    assert (data["query"], data["model"], len(data["results"])) == ("雨夜", E5, 3)
    for r in data["results"]:
        assert list(r) == ["track_id", "title", "artist", "score"]
        assert isinstance(r["track_id"], int) and isinstance(r["score"], float) and -1 <= r["score"] <= 1
    scores = [r["score"] for r in data["results"]]
    assert scores == sorted(scores, reverse=True)
    assert data["results"][0]["title"] == "雨夜的信"

    # the other model's vectors answer for it
    code, out, _ = run(capsys, "similar", "heavy metal", "--json", "--db", str(db), "--model", MINILM)
    data = json.loads(out)
    assert data["model"] == MINILM and len(data["results"]) == 10
    assert {r["artist"] for r in data["results"][:2]} == {"Iron Sermon"}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("下雨的夜晚想念一个人", "雨夜的信"),  # Chinese query, Chinese rain ballad
        ("rainy night alone, soft and slow", "Rain on Glass"),  # English query, English ambient rain song
        ("taking the slow train home, missing mom", "火车慢"),  # English query, Traditional Chinese lyrics
        ("a smoky jazz club at 2 a.m.", "Smoke and Velvet"),
        ("想念外婆", "外婆的院子"),
    ],
)
def test_prompt_search_finds_the_expected_track(e5_library, capsys, shared_e5, query, expected):
    db, _ = e5_library
    code, out, err = run(capsys, "similar", query, "--json", "-n", "5", "--db", str(db))
    assert code == 0, err
    data = json.loads(out)
    assert data["model"] == E5
    titles = [r["title"] for r in data["results"]]
    assert expected in titles, titles


def test_dance_prompt_prefers_dance_tracks_to_ballads(e5_library):
    db_path, _ = e5_library
    engine = Engine(Database(db_path), encoder_factory=lambda mid: _E5_CACHE.get(mid) or Encoder.load(mid))
    try:
        ranked = [t.tags.title for t, _ in engine.similar("dance party under neon lights", count=DEMO_TRACKS)]
    finally:
        engine.close()
    dance = {"Strobe Heart", "Midnight Transit", "霓虹心跳"}
    ballads = {"雨夜的信", "旧街灯", "不说再见", "Nocturne in E Minor"}
    assert max(ranked.index(t) for t in dance) < min(ranked.index(t) for t in ballads), ranked


def test_a_track_removed_while_embedding_is_skipped(library, minilm):
    """A scan may prune tracks while the embedder works (the app runs both): no foreign-key crash."""
    _, db_path = library
    db = Database(db_path)
    try:
        embedder = Embedder(db, minilm, chunk_tracks=8)
        todo, _ = embedder.pending()
        victim = todo[12][0]  # in the second chunk

        def progress(p: EmbedProgress) -> None:
            if p.done == 8:
                with db.transaction():
                    TrackRepository(db).delete([victim.id])

        report = embedder.run(progress=progress)
        assert not report.cancelled and report.embedded == DEMO_TRACKS - 1
        assert VectorRepository(db).count(MINILM) == DEMO_TRACKS - 1
        assert VectorRepository(db).get(victim.id, MINILM) is None
        assert embedder.run().embedded == 0
    finally:
        db.close()
