"""Run a piece of Python in a child that file modes bind, even when the tests run as root.

As root, a file of mode 000 is read all the same: the capabilities CAP_DAC_OVERRIDE and
CAP_DAC_READ_SEARCH skip the mode bits. CI runs as root, so the tests of unreadable files and folders
skipped there and the product's "permission denied" path was only ever met through a patched
``open``. Here the child is started by util-linux's ``setpriv`` with those two capabilities taken out
of its bounding set: it is still uid 0 (it runs the virtual environment's Python wherever that lies,
/root included) but the kernel refuses it what a file's mode refuses its owner, as it would refuse a
listener whose music folder holds a file they cannot read. Not root: the child is a plain Python.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DROPPED = "-dac_override,-dac_read_search"  # setpriv --bounding-set: the two that skip file modes
CHILD_TIMEOUT_S = 120


def _argv() -> list[str] | None:
    if os.geteuid() != 0:
        return [sys.executable]
    setpriv = shutil.which("setpriv")
    return None if setpriv is None else [setpriv, f"--bounding-set={DROPPED}", sys.executable]


def _probe(argv: list[str]) -> str | None:
    """None when a child started by ``argv`` is refused a mode-000 file; else why not."""
    with tempfile.TemporaryDirectory() as tmp:
        locked = Path(tmp) / "locked"
        locked.write_text("x")
        locked.chmod(0)
        try:
            got = subprocess.run(
                [*argv, "-c", "import sys; open(sys.argv[1]).read()", str(locked)],
                capture_output=True,
                text=True,
                timeout=CHILD_TIMEOUT_S,
            )
        except OSError as exc:
            return f"cannot start a mode-bound child ({exc})"
        finally:
            locked.chmod(0o600)
    if got.returncode == 0:
        return "the child still reads a mode-000 file (file modes cannot bind it here)"
    if "PermissionError" not in got.stderr:
        return f"the mode-bound child failed otherwise: {got.stderr.strip().splitlines()[-1:]}"
    return None


_ready: tuple[list[str] | None, str | None] | None = None


def run_mode_bound(code: str, *args: str) -> str:
    """Run ``code`` (``sys.argv[1:]`` = ``args``) in a child bound by file modes, from the project's root
    with this process's environment; its stdout. Skips the test where no such child can be made (root
    without ``setpriv``, or a kernel that will not drop the capabilities)."""
    global _ready
    if _ready is None:
        argv = _argv()
        _ready = (argv, "setpriv (util-linux) is missing: as root, file modes cannot bind a child")
        if argv is not None:
            _ready = (argv, _probe(argv))
    argv, why_not = _ready
    if argv is None or why_not is not None:
        pytest.skip(why_not or "no mode-bound child")
    got = subprocess.run([*argv, "-c", code, *args], capture_output=True, text=True, cwd=REPO, timeout=CHILD_TIMEOUT_S)
    assert got.returncode == 0, got.stderr
    return got.stdout


# argv: MODULE FUNCTION ERROR PATH: what FUNCTION(PATH) gives, or the ``reason`` of the ERROR it raises
REASON_OF = """
import importlib, sys
from pathlib import Path
module = importlib.import_module(sys.argv[1])
read, error = getattr(module, sys.argv[2]), getattr(module, sys.argv[3])
try:
    print(repr(read(Path(sys.argv[4]))))
except error as exc:
    print(exc.reason)
"""


def reason_of(module: str, function: str, error: str, path: Path) -> str:
    """The ``reason`` of the ``error`` that ``module.function(path)`` raises in a mode-bound child (or the
    repr of what it returned, which no caller expects)."""
    return run_mode_bound(REASON_OF, module, function, error, str(path)).strip()
