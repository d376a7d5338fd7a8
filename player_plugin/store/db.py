"""The one way into SQLite: a connection per thread, pragmas, transactions, migrations.

Every SQL statement of the project lives in ``player_plugin.store``. ``Database`` is cheap to pass
around (it holds a path); each thread that touches it gets its own ``sqlite3`` connection, because
a connection must never be shared between threads (the Qt workers and the UI thread each have one).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import sqlite_utils

from player_plugin.store.migrations import SCHEMA_VERSION, migrate


class StoreError(Exception):
    """The database cannot be opened or is not one of ours."""


def _create_private(path: Path) -> None:
    """Create the database file with mode 0600 before SQLite does, so it is never world-readable.

    SQLite gives its -wal and -shm files the permissions of the main file, so they stay private too.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        return
    os.close(fd)


class Database:
    """A SQLite database file with the project schema, opened lazily once per thread."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path).expanduser()
        self._local = threading.local()
        self._lock = threading.Lock()
        self._connections: list[sqlite3.Connection] = []
        self._migrated = False

    # -- connections -------------------------------------------------------------------------

    @property
    def conn(self) -> sqlite3.Connection:
        """This thread's connection (created, configured and migrated on first use)."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._open()
            self._local.conn = conn
        return conn

    @property
    def utils(self) -> sqlite_utils.Database:
        """sqlite-utils view of this thread's connection (table introspection, bulk inserts)."""
        db = getattr(self._local, "utils", None)
        if db is None or db.conn is not self.conn:
            db = sqlite_utils.Database(self.conn)
            self._local.utils = db
        return db

    def _open(self) -> sqlite3.Connection:
        if str(self.path) != ":memory:":
            _create_private(self.path)
        try:
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=True, timeout=30.0)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute("PRAGMA busy_timeout = 30000")
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if mode.lower() != "wal" and str(self.path) != ":memory:":
                raise StoreError(f"{self.path}: cannot switch to WAL journal (got {mode!r})")
            conn.execute("PRAGMA synchronous = NORMAL")
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path}: not a usable SQLite database ({exc})") from exc
        with self._lock:
            if not self._migrated:
                try:
                    migrate(conn)
                except sqlite3.DatabaseError as exc:
                    conn.close()
                    raise StoreError(f"{self.path}: migration failed ({exc})") from exc
                self._migrated = True
            self._connections.append(conn)
        return conn

    def close(self) -> None:
        """Close this thread's connection (other threads close their own, or at exit)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            with self._lock:
                if conn in self._connections:
                    self._connections.remove(conn)
            conn.close()
            self._local.conn = None
            self._local.utils = None

    # -- transactions ------------------------------------------------------------------------

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` … ``COMMIT``; rolls back on any exception. Nests as a savepoint."""
        conn = self.conn
        if conn.in_transaction:
            name = f"sp{id(object())}"
            conn.execute(f"SAVEPOINT {name}")
            try:
                yield conn
            except BaseException:
                conn.execute(f"ROLLBACK TO {name}")
                conn.execute(f"RELEASE {name}")
                raise
            conn.execute(f"RELEASE {name}")
            return
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    # -- facts ---------------------------------------------------------------------------------

    def schema_version(self) -> int:
        return int(self.conn.execute("PRAGMA user_version").fetchone()[0])

    @staticmethod
    def latest_schema_version() -> int:
        return SCHEMA_VERSION
