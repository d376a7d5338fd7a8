"""Can Qt open a window here? Checked before the ``QApplication`` exists, so that a missing system
library or a missing display is one clear message instead of Qt's abort (exit 134, "Reinstalling
the application may fix this problem").

Imports no Qt: PySide6's folder is found with ``importlib.util.find_spec``. The platform plugin
Qt will try (``QT_QPA_PLATFORM``, else Wayland or X11 from the session) is read as an ELF file:
its ``DT_NEEDED`` libraries, and those of the Qt libraries bundled with PySide6 that it needs, are
each loaded with ``ctypes`` the way the dynamic linker would; what does not load is named with the
Debian/Ubuntu and Fedora packages that provide it.
"""

from __future__ import annotations

import ctypes
import importlib.util
import os
import socket
import struct
from dataclasses import dataclass, field
from pathlib import Path

# Platforms that need no display server (Qt draws into memory or a framebuffer).
HEADLESS_PLATFORMS = frozenset({"offscreen", "minimal", "minimalegl", "vnc", "linuxfb", "eglfs", "vkkhrdisplay"})
DEFAULT_PLATFORM = "xcb"  # PySide6's Linux wheels are built with xcb as the default
X11_TCP_BASE_PORT = 6000  # X display N listens on TCP port 6000 + N
DISPLAY_CONNECT_TIMEOUT_S = 1.0  # how long a remote X display may take to accept a connection
EXIT_NO_PLATFORM = 2  # exit status when the app cannot start here

# soname -> (Debian/Ubuntu package, Fedora package)
PACKAGES: dict[str, tuple[str, str]] = {
    "libxcb-cursor.so.0": ("libxcb-cursor0", "xcb-util-cursor"),
    "libxcb-icccm.so.4": ("libxcb-icccm4", "xcb-util-wm"),
    "libxcb-keysyms.so.1": ("libxcb-keysyms1", "xcb-util-keysyms"),
    "libxcb-image.so.0": ("libxcb-image0", "xcb-util-image"),
    "libxcb-render-util.so.0": ("libxcb-render-util0", "xcb-util-renderutil"),
    "libxcb-util.so.1": ("libxcb-util1", "xcb-util"),
    "libxkbcommon-x11.so.0": ("libxkbcommon-x11-0", "libxkbcommon-x11"),
    "libxkbcommon.so.0": ("libxkbcommon0", "libxkbcommon"),
    "libxcb-shape.so.0": ("libxcb-shape0", "libxcb"),
    "libxcb-xinerama.so.0": ("libxcb-xinerama0", "libxcb"),
    "libxcb-randr.so.0": ("libxcb-randr0", "libxcb"),
    "libxcb-shm.so.0": ("libxcb-shm0", "libxcb"),
    "libxcb-sync.so.1": ("libxcb-sync1", "libxcb"),
    "libxcb-xfixes.so.0": ("libxcb-xfixes0", "libxcb"),
    "libxcb-render.so.0": ("libxcb-render0", "libxcb"),
    "libxcb-xkb.so.1": ("libxcb-xkb1", "libxcb"),
    "libxcb-xinput.so.0": ("libxcb-xinput0", "libxcb"),
    "libxcb-glx.so.0": ("libxcb-glx0", "libxcb"),
    "libxcb.so.1": ("libxcb1", "libxcb"),
    "libX11-xcb.so.1": ("libx11-xcb1", "libX11-xcb"),
    "libX11.so.6": ("libx11-6", "libX11"),
    "libGL.so.1": ("libgl1", "libglvnd-glx"),
    "libEGL.so.1": ("libegl1", "libglvnd-egl"),
    "libOpenGL.so.0": ("libopengl0", "libglvnd-opengl"),
    "libfontconfig.so.1": ("libfontconfig1", "fontconfig"),
    "libfreetype.so.6": ("libfreetype6", "freetype"),
    "libglib-2.0.so.0": ("libglib2.0-0", "glib2"),
    "libgthread-2.0.so.0": ("libglib2.0-0", "glib2"),
    "libdbus-1.so.3": ("libdbus-1-3", "dbus-libs"),
    "libwayland-client.so.0": ("libwayland-client0", "libwayland-client"),
    "libwayland-cursor.so.0": ("libwayland-cursor0", "libwayland-cursor"),
    "libwayland-egl.so.1": ("libwayland-egl1", "libwayland-egl"),
}
# The whole X11 family Qt's xcb plugin wants, for the "install these" line.
XCB_DEBIAN_PACKAGES = (
    "libxcb-cursor0",
    "libxcb-icccm4",
    "libxcb-keysyms1",
    "libxcb-image0",
    "libxcb-render-util0",
    "libxkbcommon-x11-0",
    "libxcb-shape0",
    "libxcb-xinerama0",
)
XCB_FEDORA_PACKAGES = (
    "xcb-util-cursor",
    "xcb-util-wm",
    "xcb-util-keysyms",
    "xcb-util-image",
    "xcb-util-renderutil",
    "libxkbcommon-x11",
)
CLI_HINT = "use the command line instead: `player-plugin --help` (e.g. `player-plugin up-next`)"


@dataclass(frozen=True)
class Problem:
    """Why the app cannot open a window here; ``message`` is what the user reads."""

    kind: str  # "no-display" | "missing-libraries"
    message: str
    missing: tuple[str, ...] = ()


@dataclass
class Paths:
    """Where PySide6 keeps its Qt libraries and platform plugins."""

    qt_lib: Path
    platforms: Path
    extra_platforms: list[Path] = field(default_factory=list)


# ================================================================================================
# ELF: the DT_NEEDED entries of a shared library
# ================================================================================================

_SHT_DYNAMIC = 6
_DT_NEEDED = 1


def needed_libraries(path: Path) -> list[str]:
    """The sonames a shared library asks the dynamic linker for (``DT_NEEDED``), in order."""
    data = path.read_bytes()
    if data[:4] != b"\x7fELF":
        raise ValueError(f"{path} is not an ELF file")
    is64 = data[4] == 2
    end = "<" if data[5] == 1 else ">"
    if is64:
        (shoff,) = struct.unpack_from(end + "Q", data, 0x28)
        shentsize, shnum = struct.unpack_from(end + "HH", data, 0x3A)
        sh_fmt, dyn_fmt = end + "IIQQQQIIQQ", end + "qQ"
    else:
        (shoff,) = struct.unpack_from(end + "I", data, 0x20)
        shentsize, shnum = struct.unpack_from(end + "HH", data, 0x2E)
        sh_fmt, dyn_fmt = end + "IIIIIIIIII", end + "iI"
    sections = [struct.unpack_from(sh_fmt, data, shoff + i * shentsize) for i in range(shnum)]
    names: list[str] = []
    for sh in sections:
        if sh[1] != _SHT_DYNAMIC:
            continue
        offset, size, link = sh[4], sh[5], sh[6]
        strtab_offset = sections[link][4]
        step = struct.calcsize(dyn_fmt)
        for pos in range(offset, offset + size, step):
            tag, value = struct.unpack_from(dyn_fmt, data, pos)
            if tag == 0:
                break
            if tag == _DT_NEEDED:
                start = strtab_offset + value
                names.append(data[start : data.index(b"\0", start)].decode("ascii", "replace"))
    return names


# ================================================================================================
# which plugin, and do its libraries load
# ================================================================================================


def pyside_paths() -> Paths | None:
    """PySide6's Qt folders, found without importing PySide6."""
    spec = importlib.util.find_spec("PySide6")
    if spec is None or not spec.submodule_search_locations:
        return None
    root = Path(next(iter(spec.submodule_search_locations))) / "Qt"
    extra = [Path(p) for p in os.environ.get("QT_QPA_PLATFORM_PLUGIN_PATH", "").split(os.pathsep) if p]
    return Paths(qt_lib=root / "lib", platforms=root / "plugins" / "platforms", extra_platforms=extra)


def platform_candidates(env: dict[str, str]) -> list[str]:
    """The platform plugins Qt will try, in order (what QGuiApplication does with the environment)."""
    chosen = env.get("QT_QPA_PLATFORM", "").strip()
    if chosen:
        names = [part.split(":", 1)[0].strip() for part in chosen.split(";")]
        return [n for n in names if n]
    if env.get("XDG_SESSION_TYPE", "").lower() == "wayland":
        return ["wayland", DEFAULT_PLATFORM]
    return [DEFAULT_PLATFORM]


def _plugin_file(name: str, paths: Paths) -> Path | None:
    for folder in (*paths.extra_platforms, paths.platforms):
        candidate = folder / f"libq{name}.so"
        if candidate.is_file():
            return candidate
    return None


def _loads(soname: str) -> bool:
    try:
        ctypes.CDLL(soname, mode=os.RTLD_LAZY | os.RTLD_LOCAL)
    except OSError:
        return False
    return True


def missing_libraries(plugin: Path, qt_lib: Path, loads=_loads) -> list[str]:
    """System libraries ``plugin`` needs (directly or through bundled Qt libraries) that do not load."""
    missing: list[str] = []
    seen: set[str] = set()
    todo = [plugin]
    while todo:
        lib = todo.pop()
        for soname in needed_libraries(lib):
            if soname in seen:
                continue
            seen.add(soname)
            bundled = qt_lib / soname
            if bundled.is_file():
                todo.append(bundled)
            elif not loads(soname):
                missing.append(soname)
    return missing


def x_display_reachable(display: str) -> bool:
    """Whether an X server accepts a connection on ``display`` (``:0``, ``unix:1``, ``host:10.0``)."""
    host, sep, rest = display.rpartition(":")
    if not sep:
        return True  # not a form we know: let Qt decide
    try:
        number = int(rest.split(".", 1)[0])
    except ValueError:
        return True
    if host.startswith("/"):
        return True  # a launchd-style socket path: let Qt decide
    if host in ("", "unix"):
        path = f"/tmp/.X11-unix/X{number}"
        for address in ("\0" + path, path):  # Linux abstract socket first, then the file
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                try:
                    s.connect(address)
                except OSError:
                    continue
                return True
        return False
    try:
        with socket.create_connection((host, X11_TCP_BASE_PORT + number), timeout=DISPLAY_CONNECT_TIMEOUT_S):
            return True
    except OSError:
        return False


def _wayland_socket_exists(env: dict[str, str]) -> bool:
    name = env.get("WAYLAND_DISPLAY", "")
    if not name:
        return False
    path = Path(name) if name.startswith("/") else Path(env.get("XDG_RUNTIME_DIR", "/nonexistent")) / name
    return path.exists()


# ================================================================================================
# the verdict
# ================================================================================================


def missing_libraries_message(platform: str, missing: list[str]) -> str:
    debian = sorted({PACKAGES.get(s, (None, None))[0] for s in missing} - {None})
    fedora = sorted({PACKAGES.get(s, (None, None))[1] for s in missing} - {None})
    if platform == "xcb":
        debian = sorted(set(debian) | set(XCB_DEBIAN_PACKAGES))
        fedora = sorted(set(fedora) | set(XCB_FEDORA_PACKAGES))
    lines = [
        f"player-plugin: the desktop app cannot start: Qt's {platform} platform needs system libraries "
        f"that are missing: {', '.join(missing)}.",
    ]
    if debian:
        lines.append(f"  Debian/Ubuntu: sudo apt-get install {' '.join(debian)}")
    if fedora:
        lines.append(f"  Fedora:        sudo dnf install {' '.join(fedora)}")
    unknown = [s for s in missing if s not in PACKAGES]
    if unknown:
        lines.append(f"  (find the package for {', '.join(unknown)} with your distribution's package search)")
    lines.append(f"  Meanwhile, {CLI_HINT}.")
    return "\n".join(lines)


def no_display_message(reason: str) -> str:
    return f"player-plugin: {reason}, so the desktop app cannot open a window; {CLI_HINT}."


def check(env: dict[str, str] | None = None, paths: Paths | None = None, loads=_loads) -> Problem | None:
    """None when one of the platforms Qt will try can start; otherwise the ``Problem``."""
    env = dict(os.environ) if env is None else env
    paths = paths or pyside_paths()
    if paths is None:
        return None  # no PySide6: the import in the app says so
    lib_problem: Problem | None = None
    display_reason = "no display found (neither DISPLAY nor WAYLAND_DISPLAY is set)"
    for platform in platform_candidates(env):
        if platform == "xcb":
            display = env.get("DISPLAY", "")
            if not display:
                continue
            if not x_display_reachable(display):
                display_reason = f"the X display {display} does not answer"
                continue
        elif platform.startswith("wayland"):
            if not _wayland_socket_exists(env):
                continue
        elif platform not in HEADLESS_PLATFORMS:
            return None  # a platform we do not know: Qt will say what it thinks
        plugin = _plugin_file(platform, paths)
        if plugin is None:
            return None  # Qt's own message about unknown plugins is clear enough
        missing = missing_libraries(plugin, paths.qt_lib, loads)
        if not missing:
            return None
        lib_problem = lib_problem or Problem(
            "missing-libraries", missing_libraries_message(platform, missing), tuple(missing)
        )
    return lib_problem or Problem("no-display", no_display_message(display_reason))
