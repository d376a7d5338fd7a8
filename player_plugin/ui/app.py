"""Entry point of the desktop app: ``run_app(db_path)``.

The engine comes from ``player_plugin.shared_encoder.make_engine`` (one encoder shared by the embed
and recommendation workers under a lock); this module adds what only a Qt host needs: the platform
preflight, quiet FFmpeg logging, Ctrl-C, and the event loop.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from player_plugin.cli_errors import EXIT_INTERRUPTED
from player_plugin.shared_encoder import make_engine
from player_plugin.ui import preflight

log = logging.getLogger(__name__)

# Qt's FFmpeg backend dumps every file's metadata and streams (~15 lines) to stderr per track played.
QUIET_LOGGING_RULES = "qt.multimedia.ffmpeg*=false"

SIGINT_POLL_MS = 200  # how often the event loop lets Python look for a Ctrl-C


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
