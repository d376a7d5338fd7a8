"""Qt fixtures for the desktop app tests: offscreen, a temp copy of the demo library, a temp db."""

from __future__ import annotations

import os

os.environ["QT_QPA_PLATFORM"] = "offscreen"  # before any Qt import
os.environ.setdefault("QT_LOGGING_RULES", "qt.multimedia*=false")

import shutil  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from player_plugin import paths  # noqa: E402


def pytest_configure(config):
    config.addinivalue_line("markers", "real_audio: use QMediaPlayer instead of the silent clock")


TEST_MODEL = "all-minilm-l6-v2"  # small and fast; the app's default is multilingual-e5-small
WAIT_MS = 60_000  # generous: the test machine may be a loaded 2-core box
SEEK_BEFORE_END_MS = 2_500  # tests that play a demo track to its end (a minute) start this close to it
SEEK_SLACK_MS = 1_000  # where a seek lands may differ from where it was asked (packet boundaries)


def seek_near_end(qtbot, playback) -> None:
    """Jump close to the end of the loaded track and wait until playback is really there (a demo track
    lasts a minute: a seek that did not take would run it whole, past any sensible timeout)."""
    qtbot.waitUntil(lambda: playback.duration_ms() > 0, timeout=WAIT_MS)
    target = playback.duration_ms() - SEEK_BEFORE_END_MS
    playback.seek(target)
    qtbot.waitUntil(lambda: playback.position_ms() >= target - SEEK_SLACK_MS, timeout=WAIT_MS)


@pytest.fixture(scope="session")
def demo_music(tmp_path_factory) -> Path:
    """A read-only-by-convention copy of the bundled demo library (shared by the tests)."""
    dest = tmp_path_factory.mktemp("music") / "demo"
    shutil.copytree(paths.demo_library_dir(), dest)
    return dest


@pytest.fixture(scope="session")
def big_music(tmp_path_factory) -> Path:
    """Many files (copies of the demo library), so a scan runs long enough to cancel or interrupt."""
    root = tmp_path_factory.mktemp("big")
    for i in range(24):
        shutil.copytree(paths.demo_library_dir(), root / f"copy{i:02d}")
    return root


@pytest.fixture(scope="session")
def prepared_db(tmp_path_factory, demo_music) -> Path:
    """A database with the demo copy scanned and embedded once; tests get copies of it."""
    from player_plugin.shared_encoder import make_engine

    db_path = tmp_path_factory.mktemp("prepared") / "library.db"
    engine = make_engine(db_path, model_id=TEST_MODEL)
    engine.scan([demo_music])
    engine.embed()
    engine.db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.close()
    return db_path


@pytest.fixture
def make_window(qtbot, tmp_path):
    """``make_window(db=None, model_id=TEST_MODEL, **kw)`` → a shown, not yet started MainWindow."""
    from player_plugin.shared_encoder import make_engine
    from player_plugin.ui.main_window import MainWindow

    made = []

    def make(db: Path | None = None, model_id: str = TEST_MODEL, **kwargs):
        db_path = tmp_path / f"library{len(made)}.db"
        if db is not None:
            shutil.copyfile(db, db_path)
        engine = make_engine(db_path, model_id=model_id)
        kwargs.setdefault("scan_demo", False)
        # Most tests use the silent clock (deterministic, and QtMultimedia's FFmpeg backend without an
        # audio device has crashed now and then on rapid source switches); the tests that are about
        # real playback pass silent_audio=False.
        kwargs.setdefault("silent_audio", True)
        window = MainWindow(engine, **kwargs)
        qtbot.addWidget(window)
        window.show()
        made.append((window, engine))
        return window

    yield make
    for window, engine in made:
        window.close()
        window.shutdown()
        engine.close()


@pytest.fixture
def ready_window(make_window, prepared_db, qtbot, request):
    """The app on the prepared demo copy, started, with Up Next filled (real audio with
    ``@pytest.mark.real_audio``)."""
    window = make_window(prepared_db, silent_audio=request.node.get_closest_marker("real_audio") is None)
    with qtbot.waitSignal(window.jobs.embed_finished, timeout=WAIT_MS):
        window.start()
    qtbot.waitUntil(lambda: len(window.upnext.entries()) >= 5, timeout=WAIT_MS)
    # and no fill still running: its late result would answer the next test's waitSignal(queue_changed)
    qtbot.waitUntil(lambda: not window.queue_runner.busy, timeout=WAIT_MS)
    return window
