"""The one way into SQLite: a connection per thread, pragmas, transactions, migrations.

Every SQL statement of the project lives in ``player_plugin.store``. ``Database`` is cheap to pass
around (it holds a path); each thread that touches it gets its own ``sqlite3`` connection, because
a connection must never be shared between threads (the Qt workers and the UI thread each have one).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import sqlite_utils

from player_plugin.private_files import private_dir
from player_plugin.store.migrations import SCHEMA_VERSION, SchemaTooNewError, migrate

# How long a statement waits for another connection's lock before giving up. Our own write
# transactions (a scan batch, an embedding chunk, a queue rewrite) last well under a second, so
# this only runs out when another program holds the file (or a crashed one left it locked).
BUSY_TIMEOUT_S = 10.0

# Tables a database of ours has from schema version 1 on; a versioned file without them is foreign.
_OUR_TABLES = frozenset({"roots", "tracks", "settings"})
_TABLES_SHOWN = 5  # table names quoted when refusing a foreign database


class StoreError(Exception):
    """The database cannot be opened or is not one of ours."""


class DatabaseLockedError(StoreError):
    """Another process held the database locked for longer than ``BUSY_TIMEOUT_S``."""


def is_locked(exc: BaseException) -> bool:
    """Whether ``exc`` is SQLite's "database is locked/busy" (another connection holds the lock)."""
    code = getattr(exc, "sqlite_errorcode", None)
    if isinstance(code, int):
        return code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
    return isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc)


class DatabaseDamagedError(StoreError):
    """SQLite found a damaged page (or the file is not a database at all) in a file that opened."""


# SQLite's primary result codes for a damaged file: SQLITE_CORRUPT, SQLITE_NOTADB.
_DAMAGED_CODES = frozenset({11, 26})


def is_damaged(exc: BaseException) -> bool:
    """Whether ``exc`` is SQLite reporting a damaged database ("database disk image is malformed")."""
    code = getattr(exc, "sqlite_errorcode", None)
    if isinstance(code, int):
        return code & 0xFF in _DAMAGED_CODES
    return isinstance(exc, sqlite3.DatabaseError) and "malformed" in str(exc)


def damaged_message(path: os.PathLike[str] | str, detail: object) -> str:
    return (
        f"database {path} is damaged ({detail}); this command changed nothing in it: restore a backup, "
        "or move the file aside and scan again"
    )


def full_message(path: os.PathLike[str] | str, exc: BaseException) -> str | None:
    """The message for SQLite's "database or disk is full" at ``path`` (the free space of its disk, and
    that a failed transaction kept what was saved before it); None for any other error."""
    if "database or disk is full" not in str(exc):
        return None
    try:
        free = f"{shutil.disk_usage(Path(path).parent).free / 1e6:,.1f} MB free there"
    except OSError:
        free = "its disk's free space unknown"
    return (
        f"database {path}: no room to write ({free}: the disk is full, or a quota or file-size limit was "
        "reached); what was saved before stays: free some space and run the command again"
    )


def is_storage_error(exc: BaseException) -> bool:
    """Whether ``exc`` came from the database (SQLite, or this module's checks), not from the work around it."""
    return isinstance(exc, sqlite3.Error | StoreError)


def storage_message(path: os.PathLike[str] | str | None, exc: BaseException) -> str:
    """The one line the CLI and the app say for a database error at ``path`` (None: not known)."""
    if isinstance(exc, StoreError):
        return str(exc)
    where = path if path is not None else "the database"
    if is_locked(exc):
        return locked_message(where)
    said = explained(path, exc) if path is not None else None
    if said is not None:
        return said
    if is_damaged(exc):
        return damaged_message(where, exc)
    return f"database {where}: {exc}"


def quick_check(conn: sqlite3.Connection) -> str | None:
    """None when SQLite's ``quick_check`` finds the file intact, else its first complaint (read-only)."""
    try:
        row = conn.execute("PRAGMA quick_check(1)").fetchone()
    except sqlite3.DatabaseError as exc:
        if is_damaged(exc):
            return str(exc)
        raise
    result = " ".join(str(row[0]).split()) if row else "no answer"
    return None if result == "ok" else result


def locked_message(path: os.PathLike[str] | str) -> str:
    return (
        f"database {path} is locked by another process (waited {BUSY_TIMEOUT_S:g} s); "
        "close the other program or try again"
    )


def _create_private(path: Path) -> None:
    """Create the database file with mode 0600 before SQLite does, so it is never world-readable.

    SQLite gives its -wal and -shm files the permissions of the main file, so they stay private too.
    """
    if path.is_dir():
        raise StoreError(f"cannot open database {path}: it is a folder (give a file, e.g. {path / 'library.db'})")
    try:
        private_dir(path.parent)  # new folders 0700
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        except FileExistsError:
            return
    except OSError as exc:
        raise StoreError(f"cannot create database {path}: {exc.strerror or exc}") from exc
    os.close(fd)


def check_ours(conn: sqlite3.Connection, path: os.PathLike[str] | str) -> None:
    """Refuse a SQLite file that another program made (tables, but not our schema), or a newer version
    of ours, before anything writes to it: not even the journal mode may change in such a file."""
    version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    tables = {
        r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
    }
    if (version == 0 and tables) or (version > 0 and not _OUR_TABLES.issubset(tables)):
        shown = ", ".join(sorted(tables)[:_TABLES_SHOWN]) + (", …" if len(tables) > _TABLES_SHOWN else "")
        raise StoreError(
            f"{path} is a SQLite database of another program (tables: {shown or 'none'}); "
            "refusing to change it: give a new file with --db"
        )
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"{path}: database schema version {version} is newer than this program's {SCHEMA_VERSION}; "
            "upgrade player_plugin"
        )


def refused_message(path: os.PathLike[str] | str, exc: BaseException) -> str | None:
    """What file modes refuse the user about ``path``, as the message for ``exc``, when that is why SQLite
    failed ("unable to open database file", "attempt to write a readonly database" say neither what nor
    why); None when the modes allow it all."""
    text = str(exc)
    if "unable to open database file" not in text and "readonly database" not in text:
        return None
    path = Path(path)
    folder = path.parent
    if path.exists() and not os.access(path, os.R_OK):
        return f"cannot open database {path}: permission denied (you may not read it: check its owner and mode)"
    if path.exists() and not os.access(path, os.W_OK):
        return (
            f"database {path} is read-only for you (permission denied) and this command writes to it: "
            "check its owner and mode, or give another file with --db"
        )
    if folder.is_dir() and not os.access(folder, os.W_OK | os.X_OK):
        return (
            f"cannot open database {path}: permission denied in its folder {folder}, where SQLite keeps "
            f"{path.name}-wal and {path.name}-shm: make the folder writable for you or give another file with --db"
        )
    return None


def explained(path: os.PathLike[str] | str, exc: BaseException) -> str | None:
    """The message for an error SQLite words vaguely at ``path``: file modes that refuse it, or no room left."""
    return refused_message(path, exc) or full_message(path, exc)


def open_error(path: Path, exc: BaseException) -> StoreError:
    """The one-line StoreError for a failure to open, configure or migrate ``path``."""
    if isinstance(exc, StoreError):
        return exc
    said = explained(path, exc) if isinstance(exc, sqlite3.OperationalError) else None
    if said is not None:
        return StoreError(said)
    if is_locked(exc):
        return DatabaseLockedError(locked_message(path))
    if isinstance(exc, SchemaTooNewError):
        return StoreError(f"{path}: {exc}")
    if is_damaged(exc) and "not a database" not in str(exc):
        return DatabaseDamagedError(damaged_message(path, exc))
    if isinstance(exc, sqlite3.DatabaseError) and "not a database" in str(exc):
        return StoreError(f"cannot open database {path}: not a SQLite database, or a damaged one ({exc})")
    return StoreError(f"cannot open database {path}: {exc}")


class Database:
    """A SQLite database file with the project schema, opened lazily once per thread."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path).expanduser()
        self._local = threading.local()
        self._lock = threading.Lock()
        # one thread at a time opens: the first one migrates, and a second thread's first connection
        # must not look at the schema half made (it took it for another program's and refused the file)
        self._opening = threading.Lock()
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
        import sqlite_utils  # only bulk writers need it: not loaded by a one-shot read command

        db = getattr(self._local, "utils", None)
        if db is None or db.conn is not self.conn:
            db = sqlite_utils.Database(self.conn)
            self._local.utils = db
        return db

    def _open(self) -> sqlite3.Connection:
        with self._opening:
            return self._connect()

    def _connect(self) -> sqlite3.Connection:
        in_memory = str(self.path) == ":memory:"
        if not in_memory:
            _create_private(self.path)
        conn = None
        try:
            # an absolute path: a relative one starting "file:" would be read as an SQLite URI
            target = self.path if in_memory else os.path.abspath(self.path)
            conn = sqlite3.connect(target, isolation_level=None, check_same_thread=True, timeout=BUSY_TIMEOUT_S)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
            if not in_memory:
                check_ours(conn, self.path)
                journal = str(conn.execute("PRAGMA journal_mode").fetchone()[0]).lower()
                if journal != "wal" and self.path.stat().st_size > 0:
                    # switching to WAL rewrites the header: a damaged file is found before that, and
                    # left exactly as it was (ours are always WAL, so this runs once per copied-in file)
                    problem = quick_check(conn)
                    if problem is not None:
                        raise DatabaseDamagedError(damaged_message(self.path, problem))
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if mode.lower() != "wal" and not in_memory:
                raise StoreError(f"{self.path}: cannot switch to WAL journal (got {mode!r})")
            conn.execute("PRAGMA synchronous = NORMAL")
        except (sqlite3.DatabaseError, StoreError) as exc:
            if conn is not None:
                conn.close()
            raise open_error(self.path, exc) from exc
        with self._lock:
            if not self._migrated:
                try:
                    migrate(conn)
                except sqlite3.DatabaseError as exc:
                    conn.close()
                    if is_locked(exc) or isinstance(exc, SchemaTooNewError):
                        raise open_error(self.path, exc) from exc
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

    def check_intact(self) -> None:
        """Raise DatabaseDamagedError when SQLite's quick_check finds a damaged page (it reads every
        page: call it before a long job that writes early, such as a scan, not on every open)."""
        problem = quick_check(self.conn)
        if problem is not None:
            raise DatabaseDamagedError(damaged_message(self.path, problem))

    # -- facts ---------------------------------------------------------------------------------

    def schema_version(self) -> int:
        return int(self.conn.execute("PRAGMA user_version").fetchone()[0])

    @staticmethod
    def latest_schema_version() -> int:
        return SCHEMA_VERSION
