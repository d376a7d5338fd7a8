"""A small real disk for the tests of a full one: a tmpfs mounted under the test's folder (root only)."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

SMALL = "300k"  # holds the demo library's scan, not its vectors as well
ROOMY = "8m"


@contextlib.contextmanager
def small_disk(mount: Path, size: str = SMALL) -> Iterator[Path]:
    """``mount`` with a tmpfs of ``size`` on it while the block runs; skips the test where it cannot."""
    mount.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a small tmpfs needs root")
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mount)], capture_output=True)
    if made.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {made.stderr.decode(errors='replace').strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def grow(mount: Path, size: str = ROOMY) -> None:
    """Room again: the mounted tmpfs made ``size``, what it holds kept."""
    subprocess.run(["mount", "-o", f"remount,size={size}", str(mount)], check=True)
