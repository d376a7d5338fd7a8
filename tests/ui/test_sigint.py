"""Ctrl-C in the terminal running the desktop app: the event loop quits, the workers stop, the
database is closed intact, and the process exits 130 without a traceback (a real app process)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from player_plugin.cli_errors import EXIT_INTERRUPTED
from player_plugin.store import Database
from tests.ui.conftest import TEST_MODEL

ROOT = Path(__file__).resolve().parents[2]
READY_TIMEOUT_S = 60  # start-up on a loaded 2-core machine
EXIT_TIMEOUT_S = 10  # from SIGINT to exit (the poll is 200 ms; the workers stop at their next batch)
BUSY_S = 1.0  # let the demo scan and the embedding get going before Ctrl-C

_APP = """
import sys
from pathlib import Path
from PySide6.QtCore import QTimer
from player_plugin.ui.app import ensure_application, run_app
ensure_application()
QTimer.singleShot(0, lambda: print("READY", flush=True))  # runs once the app's event loop does
sys.exit(run_app(Path(sys.argv[1]), model_id=sys.argv[2]))
"""


def test_sigint_quits_the_app_cleanly(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    env = {
        **os.environ,
        "HOME": str(home),
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_CACHE_HOME": str(home / "cache"),
        "XDG_CONFIG_HOME": str(home / "config"),
        "QT_QPA_PLATFORM": "offscreen",
        "PYTHONPATH": str(ROOT),
    }
    env.pop("PLAYER_PLUGIN_EXIT_WHEN_READY", None)
    db_path = tmp_path / "library.db"
    proc = subprocess.Popen(
        [sys.executable, "-c", _APP, str(db_path), TEST_MODEL],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + READY_TIMEOUT_S
        line = ""
        while time.monotonic() < deadline and not line.startswith("READY"):
            line = proc.stdout.readline()
            if not line and proc.poll() is not None:
                break
        assert line.startswith("READY"), f"the app did not start: {proc.stderr.read()}"
        time.sleep(BUSY_S)
        proc.send_signal(signal.SIGINT)
        started = time.monotonic()
        _out, err = proc.communicate(timeout=EXIT_TIMEOUT_S)
        took = time.monotonic() - started
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == EXIT_INTERRUPTED, (proc.returncode, err)
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    assert took < EXIT_TIMEOUT_S
    db = Database(db_path)
    assert db.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert db.conn.execute("SELECT count(*) FROM roots").fetchone()[0] == 1  # the demo library it scanned
    db.close()
