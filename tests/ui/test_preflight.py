"""The platform check before Qt starts: missing system libraries and a missing display are one message."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from player_plugin.ui import preflight

PATHS = preflight.pyside_paths()
pytestmark = pytest.mark.skipif(PATHS is None, reason="PySide6 is not installed")


def _plugin_copy(tmp_path: Path, name: str, real: bytes, fake: bytes) -> preflight.Paths:
    """A platform plugin folder holding a copy of PySide6's plugin whose DT_NEEDED ``real`` reads ``fake``."""
    assert len(real) == len(fake)
    data = (PATHS.platforms / f"libq{name}.so").read_bytes()
    assert real + b"\0" in data
    folder = tmp_path / "platforms"
    folder.mkdir()
    (folder / f"libq{name}.so").write_bytes(data.replace(real + b"\0", fake + b"\0"))
    return preflight.Paths(qt_lib=PATHS.qt_lib, platforms=folder)


@pytest.fixture
def fake_x_display():
    """DISPLAY=localhost:N with something listening on TCP 6000+N (enough for the reachability check)."""
    for number in range(60, 100):
        server = socket.socket()
        try:
            server.bind(("127.0.0.1", preflight.X11_TCP_BASE_PORT + number))
        except OSError:
            server.close()
            continue
        server.listen(4)
        try:
            yield f"localhost:{number}"
        finally:
            server.close()
        return
    pytest.skip("no free port for a fake X display")


def test_reads_the_xcb_plugins_needed_libraries():
    needed = preflight.needed_libraries(PATHS.platforms / "libqxcb.so")
    assert "libQt6XcbQpa.so.6" in needed and "libxcb-cursor.so.0" in needed


def test_a_library_the_linker_cannot_find_is_named(tmp_path, fake_x_display):
    paths = _plugin_copy(tmp_path, "xcb", b"libxcb-cursor.so.0", b"libxcb-cursoQ.so.0")
    problem = preflight.check({"DISPLAY": fake_x_display}, paths)
    assert problem is not None and problem.kind == "missing-libraries"
    assert "libxcb-cursoQ.so.0" in problem.missing
    assert "libxcb-cursoQ.so.0" in problem.message and "package search" in problem.message
    assert "apt-get install" in problem.message and "libxcb-cursor0" in problem.message  # the xcb family
    assert "Reinstalling" not in problem.message


def test_a_missing_xcb_library_names_the_debian_and_fedora_packages(fake_x_display):
    def loads(soname: str) -> bool:
        return soname not in ("libxcb-cursor.so.0", "libxcb-icccm.so.4") and preflight._loads(soname)

    problem = preflight.check({"DISPLAY": fake_x_display}, PATHS, loads=loads)
    assert problem is not None and set(problem.missing) >= {"libxcb-cursor.so.0", "libxcb-icccm.so.4"}
    lines = problem.message.splitlines()
    apt = next(line for line in lines if "apt-get install" in line)
    dnf = next(line for line in lines if "dnf install" in line)
    assert {"libxcb-cursor0", "libxcb-icccm4", "libxcb-keysyms1"} <= set(apt.split())
    assert {"xcb-util-cursor", "xcb-util-wm"} <= set(dnf.split())
    assert "player-plugin --help" in problem.message


def test_headless_platforms_check_their_own_plugin(tmp_path):
    assert preflight.check({"QT_QPA_PLATFORM": "offscreen"}) is None
    assert preflight.check({"QT_QPA_PLATFORM": "minimal"}) is None
    real = next(n for n in preflight.needed_libraries(PATHS.platforms / "libqoffscreen.so") if n.startswith("libQt6"))
    paths = _plugin_copy(tmp_path, "offscreen", real.encode(), b"libQt6Nope" + real.encode()[len("libQt6Nope") :])
    problem = preflight.check({"QT_QPA_PLATFORM": "offscreen", "DISPLAY": ""}, paths)
    assert problem is not None and problem.kind == "missing-libraries"


def test_no_display_points_at_the_cli():
    problem = preflight.check({})
    assert problem is not None and problem.kind == "no-display"
    assert "DISPLAY" in problem.message and "player-plugin --help" in problem.message
    assert len(problem.message.splitlines()) == 1


def test_a_display_nobody_answers_is_no_display():
    taken = {int(p.name[1:]) for p in Path("/tmp/.X11-unix").glob("X*") if p.name[1:].isdigit()}
    number = next(n for n in range(500, 600) if n not in taken)
    problem = preflight.check({"DISPLAY": f":{number}"})
    assert problem is not None and problem.kind == "no-display" and f":{number}" in problem.message


def test_platform_candidates_follow_qt():
    assert preflight.platform_candidates({}) == ["xcb"]
    assert preflight.platform_candidates({"XDG_SESSION_TYPE": "wayland"}) == ["wayland", "xcb"]
    assert preflight.platform_candidates({"QT_QPA_PLATFORM": "wayland;xcb:foo=1"}) == ["wayland", "xcb"]


def test_the_app_command_without_a_display_says_so_in_one_line(tmp_path):
    script = Path(sys.executable).with_name("player-plugin")
    cmd = [str(script)] if script.exists() else [sys.executable, "-m", "player_plugin"]
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    env.pop("XDG_SESSION_TYPE", None)
    env["HOME"] = str(tmp_path)
    proc = subprocess.run(
        [*cmd, "--db", str(tmp_path / "library.db")], env=env, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == preflight.EXIT_NO_PLATFORM, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    assert "no display" in lines[0] and "player-plugin --help" in lines[0]
    assert "Traceback" not in proc.stderr and "Reinstalling" not in proc.stderr


@pytest.mark.skipif(shutil.which("ldd") is None, reason="no ldd")
def test_agrees_with_ldd_on_this_machine():
    plugin = PATHS.platforms / "libqxcb.so"
    out = subprocess.run(["ldd", str(plugin)], capture_output=True, text=True, check=True).stdout
    not_found = {line.split("=>")[0].strip() for line in out.splitlines() if "not found" in line}
    assert set(preflight.missing_libraries(plugin, PATHS.qt_lib)) == not_found
