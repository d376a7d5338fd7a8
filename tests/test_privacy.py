"""Privacy is a promise we test at the system-call level: no socket to the network, no file outside ours.

The real product path — ``player-plugin`` scan → embed (the default encoder) → feedback → up-next
with a prompt → similar → a short start of the desktop app (offscreen) — runs as child processes
under ``strace -f``, so native code (onnxruntime, Qt, FFmpeg, PulseAudio's client) is seen as well as
Python. The test fails on:

* any socket of a network family (``AF_INET``, ``AF_INET6``, ``AF_PACKET``), any ``connect``/``sendto``
  to an address that is not a UNIX socket, and any sign of a name lookup (reading
  ``/etc/resolv.conf``, ``/etc/hosts`` or ``/etc/gai.conf``, or asking ``nscd`` for a host or a
  service). glibc also asks ``nscd`` for the user's own passwd/group entry (``getpwuid``); that is
  not a lookup of anything on a network, so the request's type decides, not the socket's name;
* any file or folder created, written, renamed, linked or removed outside the test's temporary
  folder (which holds HOME with the product's data and cache folders, ``XDG_RUNTIME_DIR`` and the
  database) — devices such as ``/dev/null`` and the GPU render nodes Qt probes are not files, and
  root's fontconfig may refresh the system's font cache (``ROOT_FONT_CACHES``).

Local UNIX sockets are allowed and listed: the PulseAudio client's (the app's audio output) and the
D-Bus session bus (MPRIS) are the only ones the product opens (docs/architecture.md).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SYSCALLS = (
    "socket,connect,sendto,sendmsg,bind,open,openat,creat,mkdir,mkdirat,rename,renameat,renameat2,"
    "link,linkat,symlink,symlinkat,truncate,unlink,unlinkat,rmdir,execve"
)
NETWORK_FAMILIES = ("AF_INET", "AF_INET6", "AF_PACKET")
LOOKUP_FILES = ("/etc/resolv.conf", "/etc/hosts", "/etc/gai.conf")
NSCD_SOCKETS = ("/var/run/nscd/socket", "/run/nscd/socket")
# glibc's nscd request types (nscd/nscd-client.h) that name a host, an address or a service:
# GETHOSTBYNAME(v6), GETHOSTBYADDR(v6), GETFDHST, GETAI, GETSERVBYNAME/PORT, GETFDSERV.
NSCD_LOOKUP_TYPES = frozenset({4, 5, 6, 7, 13, 14, 16, 17, 18})
DEVICE_PREFIXES = ("/dev/null", "/dev/tty", "/dev/dri/", "/dev/shm/", "/dev/pts/", "/dev/urandom")
# Run as root on a machine whose system font cache is older than its fonts, fontconfig (Qt draws text
# with it) refreshes that cache, as any program that draws text would: the system's file, not ours,
# and only for root (another user cannot write there; the product's own files stay in its folders).
ROOT_FONT_CACHES = ("/var/cache/fontconfig/",)
WRITE_FLAGS = ("O_WRONLY", "O_RDWR", "O_CREAT", "O_TRUNC", "O_APPEND")
ALWAYS_WRITES = ("creat", "mkdir", "mkdirat", "rename", "renameat", "renameat2", "link", "linkat")
ALWAYS_WRITES += ("symlink", "symlinkat", "truncate", "unlink", "unlinkat", "rmdir")
APP_TIMEOUT_S = 120

_CALL = re.compile(r"^\d+\s+(?P<name>\w+)\((?P<args>.*)$")
_PATHS = re.compile(r'"((?:[^"\\]|\\.)*)"')
_FD = re.compile(r"^(?P<fd>\d+),")


def _strace_works() -> str | None:
    if shutil.which("strace") is None:
        return "strace is not installed (apt-get install strace; .ci/run installs it)"
    probe = subprocess.run(["strace", "-f", "-qq", "-o", os.devnull, "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        return f"strace cannot trace here (ptrace refused?): {probe.stderr.strip()[:200]}"
    return None


def _product_path(tmp: Path) -> list[str]:
    exe = Path(sys.executable).with_name("player-plugin")
    cli = [str(exe)] if exe.exists() else [sys.executable, "-m", "player_plugin.cli"]
    db = ["--db", str(tmp / "library.db")]
    steps = [
        [*cli, *db, "scan", "--demo"],
        [*cli, *db, "embed"],
        [*cli, *db, "feedback", "雨夜的信", "like", "--comment", "下雨天听"],
        [*cli, *db, "feedback", "Strobe Heart", "skip", "--position", "3"],
        [*cli, *db, "up-next", "--json", "--prompt", "rainy night"],
        [*cli, *db, "similar", "伤心的情歌"],
        ["timeout", str(APP_TIMEOUT_S), *cli, *db],  # the desktop app, until it is ready and idle
    ]
    return ["bash", "-c", " && ".join(" ".join(_quote(a) for a in step) for step in steps)]


def _quote(arg: str) -> str:
    return "'" + arg.replace("'", "'\\''") + "'"


def _violations(trace: str, allowed_root: Path, as_root: bool | None = None) -> tuple[list[str], list[str]]:
    """(violations, UNIX sockets connected to) from strace's output. ``as_root``: the traced programs
    ran as root (default: whether this test does), for whom fontconfig may write the system's cache."""
    root = str(allowed_root)
    as_root = os.geteuid() == 0 if as_root is None else as_root
    bad: list[str] = []
    unix: list[str] = []
    nscd: set[tuple[str, str]] = set()  # (pid, fd) connected to nscd
    programs: dict[str, str] = {}  # pid -> the program it last exec'd, to say who did it
    for line in trace.splitlines():
        m = _CALL.match(line)
        if not m:
            continue
        name, args = m.group("name"), m.group("args")
        pid = line.split(None, 1)[0]
        paths = [p.encode().decode("unicode_escape", errors="replace") for p in _PATHS.findall(args)]
        fd = _FD.match(args)
        if name == "execve":
            programs[pid] = paths[0] if paths else "?"
        elif name == "socket" and any(f in args.split(",")[0] for f in NETWORK_FAMILIES):
            bad.append(f"network socket: {line}")
        elif name in ("connect", "sendto", "sendmsg", "bind") and "sa_family=" in args:
            if "sa_family=AF_UNIX" not in args:
                bad.append(f"network address: {line}")
            elif any(s in args for s in NSCD_SOCKETS):
                if fd and "= -1 E" not in line:
                    nscd.add((pid, fd.group("fd")))
            elif name == "connect":
                unix.extend(paths[:1])
        elif name in ("sendto", "sendmsg") and fd and (pid, fd.group("fd")) in nscd:
            kind = _nscd_request_type(paths[0] if paths else "")
            if kind is None or kind in NSCD_LOOKUP_TYPES:
                bad.append(f"name lookup through nscd (request {kind}) by {programs.get(pid, '?')}: {line}")
        elif name in ("open", "openat", "creat") or name in ALWAYS_WRITES:
            if any(p in LOOKUP_FILES for p in paths):
                bad.append(f"name lookup: {line}")
            writes = name in ALWAYS_WRITES or any(flag in args for flag in WRITE_FLAGS)
            if not writes or "= -1 E" in line:
                continue  # a read, or a write that did not happen
            for p in paths:
                if p.startswith(DEVICE_PREFIXES) or (as_root and p.startswith(ROOT_FONT_CACHES)):
                    continue
                if not os.path.isabs(p) or not (p == root or p.startswith(root + os.sep)):
                    bad.append(f"write outside the test's folder: {line}")
    return bad, sorted(set(unix))


def _nscd_request_type(payload: str) -> int | None:
    """The request type of an nscd request ``{int32 version; int32 type; int32 key_len}``, or None."""
    raw = payload.encode("latin-1", errors="replace")
    if len(raw) < 8:
        return None
    return int.from_bytes(raw[4:8], "little")


def test_the_product_path_opens_no_network_socket_and_writes_only_its_own_files(tmp_path):
    reason = _strace_works()
    if reason:
        pytest.skip(reason)
    home, runtime = tmp_path / "home", tmp_path / "run"
    home.mkdir()
    runtime.mkdir(mode=0o700)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XDG_", "PLAYER_PLUGIN_", "ORT_"))}
    env.update(
        HOME=str(home),
        XDG_RUNTIME_DIR=str(runtime),
        QT_QPA_PLATFORM="offscreen",
        PYTHONDONTWRITEBYTECODE="1",  # the interpreter's own caches in the checkout are not the product's
        PLAYER_PLUGIN_EXIT_WHEN_READY="1",
        PLAYER_PLUGIN_DEVICE="cpu",
    )
    trace_file = tmp_path / "strace.txt"
    cmd = ["strace", "-f", "-qq", "-s", "512", "-e", "signal=none", "-e", f"trace={SYSCALLS}", "-o", str(trace_file)]
    proc = subprocess.run(
        [*cmd, *_product_path(tmp_path)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    assert "READY" in proc.stdout, "the app did not get to its ready state"
    trace = trace_file.read_text(encoding="utf-8", errors="replace")
    assert "openat(" in trace and "library.db" in trace  # the trace really saw the product work

    bad, unix = _violations(trace, tmp_path)
    assert bad == [], "\n".join(bad[:20])
    assert not (home / ".cache" / "Microsoft").exists(), "onnxruntime telemetry folder was created"
    for path in unix:  # only PulseAudio's and D-Bus's sockets, if any
        assert "pulse" in path or "bus" in path, f"unexpected UNIX socket {path}"


def test_the_checker_sees_what_it_must_refuse(tmp_path):
    """The parser flags each kind of violation in real strace output lines (so the test above can fail)."""
    root = tmp_path
    trace = "\n".join(
        [
            "101 socket(AF_INET, SOCK_DGRAM|SOCK_CLOEXEC|SOCK_NONBLOCK, IPPROTO_IP) = 11",
            '101 connect(12, {sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr("10.0.0.53")}, 16) = 0',
            '102 openat(AT_FDCWD, "/etc/resolv.conf", O_RDONLY|O_CLOEXEC) = 5',
            '103 openat(AT_FDCWD, "/root/.cache/Microsoft/x/deviceid", O_WRONLY|O_CREAT|O_TRUNC, 0666) = 6',
            '104 mkdir("/var/tmp/elsewhere", 0777) = 0',
            f'105 openat(AT_FDCWD, "{root}/home/.local/share/player-plugin/library.db", O_RDWR|O_CREAT, 0600) = 7',
            '106 openat(AT_FDCWD, "/dev/null", O_WRONLY) = 3',
            '107 openat(AT_FDCWD, "/usr/lib/x.so", O_RDONLY|O_CLOEXEC) = 3',
            '108 connect(7, {sa_family=AF_UNIX, sun_path="/run/user/0/pulse/native"}, 110) = 0',
            # glibc's getpwuid: nscd absent (harmless), then present and asked for the passwd map (harmless)
            '109 connect(3, {sa_family=AF_UNIX, sun_path="/var/run/nscd/socket"}, 110) = -1 ENOENT (No such file)',
            '109 connect(4, {sa_family=AF_UNIX, sun_path="/var/run/nscd/socket"}, 110) = 0',
            '109 sendto(4, "\\2\\0\\0\\0\\v\\0\\0\\0\\7\\0\\0\\0passwd\\0", 19, MSG_NOSIGNAL, NULL, 0) = 19',
            # getaddrinfo through nscd: a host lookup (GETAI = 14)
            '110 connect(5, {sa_family=AF_UNIX, sun_path="/run/nscd/socket"}, 110) = 0',
            '110 sendto(5, "\\2\\0\\0\\0\\16\\0\\0\\0\\n\\0\\0\\0example.org\\0", 23, MSG_NOSIGNAL, NULL, 0) = 23',
        ]
    )
    bad, unix = _violations(trace, root, as_root=False)
    assert len(bad) == 6, bad
    assert "request 14" in bad[-1], bad
    assert unix == ["/run/user/0/pulse/native"]
    font_cache = '111 openat(AT_FDCWD, "/var/cache/fontconfig/abc-le64.cache-8", O_RDWR|O_CREAT, 0666) = 3'
    assert len(_violations(font_cache, root, as_root=False)[0]) == 1  # a user's program writing there
    assert _violations(font_cache, root, as_root=True)[0] == []  # root's fontconfig refreshing its cache
