"""Opening files a scan reads: regular files only, never blocking.

A FIFO named ``song.lrc`` or ``song.mp3`` would block ``open()`` until some writer appears (for
ever, in a scan); a device (``/dev/zero`` linked as ``.mp3``) never ends. So a file is opened only
when ``stat`` calls it regular, the open is non-blocking (a FIFO swapped in after the ``stat`` opens
at once instead of hanging), and ``fstat`` on the open descriptor checks again what was opened.
"""

from __future__ import annotations

import errno
import os
import stat
from typing import BinaryIO

__all__ = ["NotRegularFileError", "describe_kind", "open_regular"]

_OPEN_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_NOCTTY", 0)  # a terminal device must not become our controlling tty
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)
)

_KINDS = (
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISDIR, "a folder"),
)


class NotRegularFileError(OSError):
    """The path is not a regular file (FIFO, device, socket, folder); ``reason`` says which."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def describe_kind(mode: int) -> str:
    """What a non-regular file is, in words: "not a regular file: a FIFO (named pipe)"."""
    kind = next((name for test, name in _KINDS if test(mode)), "a special file")
    return f"not a regular file: {kind}"


def open_regular(path: str | os.PathLike[str]) -> BinaryIO:
    """Open ``path`` for binary reading if it is a regular file; raise ``NotRegularFileError``
    otherwise (without opening it when ``stat`` already tells), or ``OSError``."""
    st = os.stat(path)
    if stat.S_ISDIR(st.st_mode):
        raise IsADirectoryError(errno.EISDIR, "Is a directory", os.fspath(path))
    if not stat.S_ISREG(st.st_mode):
        raise NotRegularFileError(describe_kind(st.st_mode))
    # Through open() (not os.fdopen) so the file object keeps its name: mutagen scores formats by it.
    return open(path, "rb", opener=_open_checked)


def _open_checked(path: str, _flags: int) -> int:
    fd = os.open(path, _OPEN_FLAGS)
    try:
        opened = os.fstat(fd)
        if not stat.S_ISREG(opened.st_mode):
            raise NotRegularFileError(describe_kind(opened.st_mode))
    except BaseException:
        os.close(fd)
        raise
    return fd
