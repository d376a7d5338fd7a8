"""Files and folders the product creates are private: 0600 files in 0700 folders.

A shared machine's other users must not read a listening history, a cache of what was searched or
an exported playlist. Folders are created one level at a time so each new one gets 0700 whatever
the umask; files are written atomically (temporary file, then rename).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

FOLDER_MODE = 0o700
FILE_MODE = 0o600


def private_dir(folder: Path) -> Path:
    """``folder`` and any missing parents, each created 0700 (existing ones are left as they are)."""
    missing = []
    p = Path(folder)
    while not p.exists():
        missing.append(p)
        if p.parent == p:
            break
        p = p.parent
    for p in reversed(missing):
        with contextlib.suppress(FileExistsError):  # another process made it meanwhile
            p.mkdir(mode=FOLDER_MODE)
        os.chmod(p, FOLDER_MODE)  # mkdir's mode is masked by the umask
    return Path(folder)


def write_private(path: Path, data: bytes) -> None:
    """Atomically replace ``path`` with ``data`` (0600)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, FILE_MODE)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
