"""Linux's inotify through ctypes: the kernel tells which folders of the library changed.

Only what a library watch needs (library/watch.py): a descriptor opened non-blocking and close-on-exec,
folder watches (``IN_ONLYDIR``) and the events read back as ``(watch, mask, cookie, name)``. Every
call is a plain system call on local files: nothing is opened on the network, nothing is loaded but
libc. Elsewhere (macOS, Windows) :func:`available` is False and the library is rescanned at start
and on request, as before.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os
import struct
import sys
from collections.abc import Iterator
from dataclasses import dataclass

IN_ATTRIB = 0x00000004
IN_CLOSE_WRITE = 0x00000008
IN_MOVED_FROM = 0x00000040
IN_MOVED_TO = 0x00000080
IN_CREATE = 0x00000100
IN_DELETE = 0x00000200
IN_DELETE_SELF = 0x00000400
IN_MOVE_SELF = 0x00000800
IN_UNMOUNT = 0x00002000
IN_Q_OVERFLOW = 0x00004000
IN_IGNORED = 0x00008000
IN_ONLYDIR = 0x01000000
IN_EXCL_UNLINK = 0x04000000
IN_ISDIR = 0x40000000
_IN_NONBLOCK = os.O_NONBLOCK
_IN_CLOEXEC = getattr(os, "O_CLOEXEC", 0o2000000)

# A file is looked at when it was written and closed (a copy, a tag editor's save), moved in or out,
# deleted, or its mode changed (readable now, or not); a folder when it came, went or was moved.
# IN_CREATE alone does not make a file worth a look (it is being written; IN_CLOSE_WRITE follows),
# except a link, which is complete at once.
FOLDER_MASK = (
    IN_ATTRIB
    | IN_CLOSE_WRITE
    | IN_MOVED_FROM
    | IN_MOVED_TO
    | IN_CREATE
    | IN_DELETE
    | IN_DELETE_SELF
    | IN_MOVE_SELF
    | IN_ONLYDIR
    | IN_EXCL_UNLINK
)
_HEADER = struct.Struct("iIII")  # struct inotify_event: wd, mask, cookie, len (then the name, NUL-padded)
READ_BYTES = 64 * 1024  # one read: ~1,000 events at most, the kernel's queue keeps the rest


@dataclass(frozen=True, slots=True)
class RawEvent:
    watch: int
    mask: int
    cookie: int
    name: str  # the entry inside the watched folder ("" for the folder itself)


class WatchLimitError(OSError):
    """The kernel's limit on watches (``fs.inotify.max_user_watches``) is reached."""


def available() -> bool:
    return sys.platform.startswith("linux") and _libc() is not None


_LIBC: ctypes.CDLL | None | bool = False


def _libc() -> ctypes.CDLL | None:
    global _LIBC
    if _LIBC is False:
        try:
            lib = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
            lib.inotify_init1.argtypes = [ctypes.c_int]
            lib.inotify_add_watch.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_uint32]
            lib.inotify_rm_watch.argtypes = [ctypes.c_int, ctypes.c_int]
            _LIBC = lib
        except (OSError, AttributeError):
            _LIBC = None
    return _LIBC  # type: ignore[return-value]


class Inotify:
    """One inotify descriptor. Not thread-safe: the watch thread owns it."""

    def __init__(self) -> None:
        lib = _libc()
        if lib is None:
            raise OSError(errno.ENOSYS, "inotify is not available on this system")
        self._lib = lib
        fd = lib.inotify_init1(_IN_NONBLOCK | _IN_CLOEXEC)
        if fd < 0:
            err = ctypes.get_errno()
            raise OSError(err, f"inotify: {os.strerror(err)}")
        self.fd = fd

    def add_folder(self, path: str) -> int:
        """Watch the folder ``path`` (its entries, not deeper): the watch's number. A folder watched
        already (also through a link) gives the same number."""
        wd = self._lib.inotify_add_watch(self.fd, os.fsencode(path), FOLDER_MASK)
        if wd < 0:
            err = ctypes.get_errno()
            if err == errno.ENOSPC:
                raise WatchLimitError(err, "the system's limit on watched folders is reached", path)
            raise OSError(err, os.strerror(err), path)
        return int(wd)

    def remove(self, wd: int) -> None:
        self._lib.inotify_rm_watch(self.fd, wd)  # a watch the kernel dropped already: EINVAL, ignored

    def read(self) -> Iterator[RawEvent]:
        """The events waiting now (none when the queue is empty: the descriptor never blocks)."""
        try:
            data = os.read(self.fd, READ_BYTES)
        except BlockingIOError:
            return
        offset = 0
        while offset + _HEADER.size <= len(data):
            wd, mask, cookie, length = _HEADER.unpack_from(data, offset)
            offset += _HEADER.size
            raw = data[offset : offset + length].split(b"\0", 1)[0]
            offset += length
            yield RawEvent(wd, mask, cookie, os.fsdecode(raw))

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def max_watches() -> int | None:
    """The kernel's limit on one user's watches, when it tells (``/proc/sys/fs/inotify/max_user_watches``)."""
    try:
        with open("/proc/sys/fs/inotify/max_user_watches", encoding="ascii") as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        return None
