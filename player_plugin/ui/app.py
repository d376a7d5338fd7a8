"""Entry point of the desktop app: ``run_app(db_path)``.

Also builds the engine the way the app needs it: the text encoder is shared by the embed worker
and the recommendation worker, and an ``Encoder`` is not safe to call from two threads at once, so
the app's encoder factory wraps it in a lock (held per call, so a long embedding run and a quick
prompt query interleave instead of one waiting for the other to finish).
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from player_plugin.cli_errors import EXIT_INTERRUPTED
from player_plugin.engine import Engine
from player_plugin.store import Database
from player_plugin.ui import preflight

log = logging.getLogger(__name__)

# Qt's FFmpeg backend dumps every file's metadata and streams (~15 lines) to stderr per track played.
QUIET_LOGGING_RULES = "qt.multimedia.ffmpeg*=false"

_LOCKED_METHODS = frozenset({"embed", "embed_ids", "embed_query", "token_ids"})
SIGINT_POLL_MS = 200  # how often the event loop lets Python look for a Ctrl-C


class LockedEncoder:
    """Forwards to an ``Encoder``; its compute methods run under one lock."""

    def __init__(self, encoder: Any, lock: threading.RLock) -> None:
        self._encoder = encoder
        self._lock = lock

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._encoder, name)
        if name in _LOCKED_METHODS and callable(attr):

            def locked(*args: Any, **kwargs: Any) -> Any:
                with self._lock:
                    return attr(*args, **kwargs)

            return locked
        return attr


class EncoderFactory:
    """``Engine(encoder_factory=...)``: loads each model once, remembers what was loaded or why not."""

    def __init__(self, loader: Any = None) -> None:
        if loader is None:
            from player_plugin.nlp.encoder import Encoder

            loader = Encoder.load
        self._loader = loader
        self._lock = threading.RLock()
        self._call_lock = threading.RLock()
        self._loaded: dict[str, LockedEncoder] = {}
        self.errors: dict[str, str] = {}
        self.load_seconds: dict[str, float] = {}

    def __call__(self, model_id: str) -> LockedEncoder:
        with self._lock:
            enc = self._loaded.get(model_id)
            if enc is None:
                started = time.perf_counter()
                try:
                    enc = LockedEncoder(self._loader(model_id), self._call_lock)
                except Exception as exc:
                    self.errors[model_id] = str(exc)
                    raise
                self.errors.pop(model_id, None)
                self.load_seconds[model_id] = time.perf_counter() - started
                self._loaded[model_id] = enc
            return enc

    def loaded(self, model_id: str) -> LockedEncoder | None:
        return self._loaded.get(model_id)


def make_engine(db_path: str | os.PathLike[str], model_id: str | None = None, loader: Any = None) -> Engine:
    """An engine for the app (thread-safe encoder sharing); tests pass a small ``model_id``."""
    factory = EncoderFactory(loader)
    engine = Engine(Database(db_path), encoder_factory=factory, model_id=model_id)
    engine.ui_encoder_factory = factory  # type: ignore[attr-defined]
    return engine


def quiet_qt_logging(env: dict[str, str] | os._Environ[str] | None = None) -> None:
    """Silence Qt's FFmpeg chatter; rules the user set in ``QT_LOGGING_RULES`` come later and win."""
    env = os.environ if env is None else env
    user_rules = env.get("QT_LOGGING_RULES", "")
    if QUIET_LOGGING_RULES not in user_rules:
        env["QT_LOGGING_RULES"] = ";".join(filter(None, (QUIET_LOGGING_RULES, user_rules)))


def ensure_application(argv: list[str] | None = None):
    """The process's QApplication (created when there is none)."""
    quiet_qt_logging()
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        app = QApplication(argv if argv is not None else sys.argv[:1])
        app.setApplicationName("Player Plugin")
        app.setApplicationDisplayName("Player Plugin")
        app.setOrganizationName("player-plugin")
        app.setDesktopFileName("player-plugin")
    return app


def run_app(db_path: Path, *, model_id: str | None = None, scan_demo: bool = True) -> int:
    """Start the desktop app on ``db_path`` and run its event loop; returns the exit status.

    When no window can open here (no display, missing system libraries) it says why in one message
    on stderr and returns ``EXIT_NO_PLATFORM`` before Qt is loaded (Qt itself would abort). Ctrl-C
    (SIGINT) quits the loop and shuts down as closing the window does, then returns 130."""
    problem = preflight.check()
    if problem is not None:
        print(problem.message, file=sys.stderr)
        return preflight.EXIT_NO_PLATFORM
    logging.basicConfig(level=os.environ.get("PLAYER_PLUGIN_LOG", "WARNING"))
    app = ensure_application()
    from player_plugin.ui.main_window import MainWindow

    engine = make_engine(db_path, model_id=model_id)
    window = MainWindow(engine, scan_demo=scan_demo)
    window.show()
    window.start()
    if os.environ.get("PLAYER_PLUGIN_EXIT_WHEN_READY"):  # used by bench/startup.py
        window.exit_when_idle()
    interrupted = threading.Event()
    try:
        with quit_on_sigint(app, interrupted):
            status = app.exec()
    finally:
        window.shutdown()
        engine.close()
    if interrupted.is_set():
        log.info("interrupted (SIGINT): workers stopped, database closed")
        return EXIT_INTERRUPTED
    return int(status)


@contextlib.contextmanager
def quit_on_sigint(app: Any, interrupted: threading.Event) -> Iterator[None]:
    """While the event loop runs, Ctrl-C (SIGINT) quits it, so the app shuts down as if closed.

    Python runs a signal handler only between bytecodes, never while Qt's C++ loop waits, so a
    timer hands control to Python every SIGINT_POLL_MS; the handler only sets a flag and quits.
    Outside the loop (start-up, shut-down) the previous handler is back in place.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    from PySide6.QtCore import QTimer

    def on_sigint(_signum: int, _frame: Any) -> None:
        interrupted.set()
        app.quit()

    previous = signal.signal(signal.SIGINT, on_sigint)
    timer = QTimer()
    timer.setInterval(SIGINT_POLL_MS)
    timer.timeout.connect(lambda: None)  # a Python call: pending signal handlers run here
    timer.start()
    try:
        yield
    finally:
        timer.stop()
        signal.signal(signal.SIGINT, previous)
