"""`player-plugin mpd` / `prompt`: wrong command lines and an MPD that is not there are one line each."""

from __future__ import annotations

import subprocess
import sys


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "player_plugin.cli", *args], capture_output=True, text=True, timeout=60
    )


def test_mpd_and_prompt_say_what_is_wrong_in_one_line(tmp_path):
    db = ["--db", str(tmp_path / "library.db")]
    keep = run("mpd", "--keep", "0", "--socket", str(tmp_path / "none"), *db)
    assert keep.returncode == 2 and "--keep wants at least 1" in keep.stderr and "Traceback" not in keep.stderr
    tcp = run("mpd", "--host", "localhost", *db)
    assert tcp.returncode == 2 and "pass --music-dir" in tcp.stderr
    gone = run("prompt", "rainy night", "--socket", str(tmp_path / "no-such-socket"))
    assert gone.returncode == 1 and "cannot reach MPD" in gone.stderr
    assert len(gone.stderr.strip().splitlines()) == 1 and "Traceback" not in gone.stderr
