"""Shared test helpers: an isolated HOME, and real tiny audio files tagged on the fly."""

from __future__ import annotations

import shutil
from pathlib import Path

import mutagen
import pytest

FIXTURES = Path(__file__).parent / "fixtures" / "audio"
FORMATS = {
    "mp3": "tone.mp3",
    "flac": "tone.flac",
    "ogg": "tone.ogg",
    "opus": "tone.opus",
    "m4a": "tone.m4a",
}


@pytest.fixture(autouse=True)
def isolated_home(tmp_path_factory, monkeypatch):
    """Every test gets its own HOME and data folders: nothing touches the real user's files."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    for var in ("PLAYER_PLUGIN_HOME", "PLAYER_PLUGIN_DB", "PLAYER_PLUGIN_MODELS"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    return home


def make_track(
    folder: Path,
    name: str,
    fmt: str = "mp3",
    *,
    title: str | None = None,
    artist: str | None = "Test Artist",
    album: str | None = "Test Album",
    genre: str | None = None,
    lyrics: str | None = None,
) -> Path:
    """Copy a real fixture to ``folder/name.fmt`` and tag it with mutagen's easy interface."""
    folder.mkdir(parents=True, exist_ok=True)
    dest = folder / f"{name}.{fmt}"
    shutil.copyfile(FIXTURES / FORMATS[fmt], dest)
    audio = mutagen.File(dest, easy=True)
    if audio.tags is None:
        audio.add_tags()
    for key, value in (("title", title), ("artist", artist), ("album", album), ("genre", genre)):
        if value is not None:
            audio[key] = value
    audio.save()
    if lyrics is not None:
        _embed_lyrics(dest, fmt, lyrics)
    return dest


def _embed_lyrics(path: Path, fmt: str, text: str) -> None:
    audio = mutagen.File(path)
    if fmt == "mp3":
        from mutagen.id3 import USLT

        audio.tags.add(USLT(encoding=3, lang="eng", desc="", text=text))
    elif fmt == "m4a":
        audio.tags["\xa9lyr"] = [text]
    else:
        audio.tags["LYRICS"] = [text]
    audio.save()


def database_at_version(path: Path, version: int) -> Path:
    """A database file as a release with schema ``version`` left it (the real steps up to there), to
    test what the migrations after it do."""
    import sqlite3

    from player_plugin.store.migrations import STEPS, _split

    conn = sqlite3.connect(path, isolation_level=None)
    try:
        for done, step in enumerate(STEPS[:version]):
            for statement in _split(step):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {done + 1}")
    finally:
        conn.close()
    return path


@pytest.fixture
def track_factory():
    return make_track


def embedded_demo_library(root: Path, encoder=None, model_id: str | None = None) -> Path:
    """A copy of the demo library under ``root``, scanned and embedded into ``root/template.db``
    (tests copy the file); ``encoder`` and ``model_id`` as for ``Engine`` (default: the app's)."""
    from player_plugin.engine import Engine
    from player_plugin.paths import demo_library_dir
    from player_plugin.store import Database

    shutil.copytree(demo_library_dir(), root / "lib")
    factory = None if encoder is None else (lambda _mid: encoder)
    engine = Engine(Database(root / "template.db"), encoder_factory=factory, model_id=model_id)
    assert engine.scan([root / "lib"]).added == 32
    assert engine.embed().embedded == 32
    engine.close()
    return root / "template.db"


E5 = "multilingual-e5-small"


@pytest.fixture(scope="module")
def e5():
    """The default encoder (multilingual-e5-small, int8, on the CPU), once per test module."""
    from player_plugin.nlp.encoder import Encoder

    return Encoder.load(E5, prefer_gpu=False)


@pytest.fixture(scope="module")
def e5_demo_template(tmp_path_factory, e5):
    return embedded_demo_library(tmp_path_factory.mktemp("demo"), e5, E5)


@pytest.fixture
def e5_demo_engine(e5_demo_template, tmp_path, e5):
    """An engine on its own copy of the demo library, embedded with :func:`e5`."""
    from player_plugin.engine import Engine
    from player_plugin.store import Database

    shutil.copyfile(e5_demo_template, tmp_path / "library.db")
    engine = Engine(Database(tmp_path / "library.db"), encoder_factory=lambda _mid: e5, model_id=E5)
    yield engine
    engine.close()
