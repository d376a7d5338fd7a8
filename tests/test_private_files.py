"""What the product creates is private: 0700 folders and 0600 files, whatever the umask."""

from __future__ import annotations

import os
import stat

import pytest

from player_plugin import paths
from player_plugin.nlp.file_cache import CHECKSUMS_FILE, cached_sha256
from player_plugin.private_files import private_dir, write_private
from player_plugin.store import Database


@pytest.fixture
def open_umask():
    old = os.umask(0o022)  # a usual desktop umask: mkdir would give 0755, files 0644
    yield
    os.umask(old)


def mode(p) -> int:
    return stat.S_IMODE(os.stat(p).st_mode)


def test_the_database_and_the_folders_made_for_it(tmp_path, open_umask):
    db_path = tmp_path / "a" / "b" / "library.db"
    db = Database(db_path)
    db.conn.execute("SELECT 1")
    db.close()
    assert (mode(tmp_path / "a"), mode(tmp_path / "a" / "b"), mode(db_path)) == (0o700, 0o700, 0o600)
    before = mode(tmp_path)
    private_dir(tmp_path)
    assert mode(tmp_path) == before


def test_the_default_data_and_cache_folders(tmp_path, open_umask):
    db = Database(paths.default_db_path())
    db.conn.execute("SELECT 1")
    db.close()
    assert mode(paths.data_dir()) == 0o700
    f = tmp_path / "model.bin"
    f.write_bytes(b"x")
    cached_sha256(f)
    assert mode(paths.cache_dir()) == 0o700 and mode(paths.cache_dir() / CHECKSUMS_FILE) == 0o600


def test_write_private_replaces_atomically_and_leaves_no_temporary(tmp_path, open_umask):
    target = tmp_path / "out.json"
    target.write_text("old")
    os.chmod(target, 0o644)
    write_private(target, b"new")
    assert target.read_bytes() == b"new" and mode(target) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]
