"""A disk that fills up under the database: the command says so in one line with the free space, exits
non-zero, keeps what was saved before, and the same command run again once there is room finishes the
job. The disk is a real one: a small tmpfs mounted for the test (root only; elsewhere it skips)."""

from __future__ import annotations

import sys

import pytest

from player_plugin.cli import main
from player_plugin.store import Database
from tests import small_disk as disk

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="a tmpfs mount")


@pytest.fixture
def small_disk(tmp_path):
    with disk.small_disk(tmp_path / "small") as mount:
        yield mount


def test_disk_full_during_embed(small_disk, capsys) -> None:
    db = small_disk / "lib.db"
    assert main(["scan", "--demo", "--db", str(db)]) == 0
    capsys.readouterr()
    assert main(["embed", "--db", str(db)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith(f"player-plugin: error: database {db}: no room to write (")
    assert "MB free there" in err[0] and "what was saved before stays" in err[0]

    assert main(["library", "--db", str(db)]) == 0  # the scan's tracks are all there
    assert capsys.readouterr().out.startswith("32 tracks")
    disk.grow(small_disk)
    assert main(["embed", "--db", str(db)]) == 0  # room again: the same command finishes the job
    assert "embedded 32 tracks" in capsys.readouterr().out
    store = Database(db)
    try:
        assert store.conn.execute("SELECT COUNT(DISTINCT track_id) FROM track_vectors").fetchone()[0] == 32
    finally:
        store.close()
