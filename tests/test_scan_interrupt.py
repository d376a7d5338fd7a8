"""A scan killed mid-way (SIGKILL, no cleanup) leaves a consistent database; the next scan finishes."""

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap

from player_plugin.library.scanner import Scanner
from player_plugin.store import Database, TrackRepository
from tests.conftest import make_track

CHILD = textwrap.dedent(
    """
    import os, signal, sys
    from player_plugin.library.scanner import Scanner
    from player_plugin.store import Database

    db_path, root, kill_after = sys.argv[1], sys.argv[2], int(sys.argv[3])

    def progress(p):
        if p.phase == "read" and p.done >= kill_after:
            os.kill(os.getpid(), signal.SIGKILL)  # no except, no finally, no atexit

    Scanner(Database(db_path), batch_size=10).scan([root], progress=progress)
    """
)


def test_killed_scan_leaves_consistent_db_and_rescan_completes(tmp_path):
    root = tmp_path / "lib"
    for i in range(60):
        fmt = ("mp3", "flac", "ogg")[i % 3]
        make_track(root / f"album{i // 10}", f"song{i:02d}", fmt, title=f"Song {i}", lyrics=f"line {i}")
    db_path = tmp_path / "lib.db"
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    proc = subprocess.run([sys.executable, str(script), str(db_path), str(root), "25"], env=env, capture_output=True)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()

    conn = sqlite3.connect(db_path)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    n_tracks = conn.execute("SELECT count(*) FROM tracks").fetchone()[0]
    n_lyrics = conn.execute("SELECT count(*) FROM lyrics").fetchone()[0]
    conn.close()
    assert n_tracks % 10 == 0 and 20 <= n_tracks < 60  # whole batches only
    assert n_lyrics == n_tracks  # no track without the lyrics written with it

    report = Scanner(Database(db_path)).scan([root])
    assert (report.added, report.unchanged, report.removed, report.failed) == (60 - n_tracks, n_tracks, 0, 0)
    repo = TrackRepository(Database(db_path))
    assert repo.counts().tracks == 60 and repo.counts().with_lyrics == 60
