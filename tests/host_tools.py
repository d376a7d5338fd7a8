"""Shared by the host tests (MPD, the engine service, Quod Libet): waiting on real programs, and
checking that nothing of ours listens on TCP."""

from __future__ import annotations

import os
import time
from pathlib import Path


def wait_for(check, what: str, timeout: float = 30.0, step: float = 0.1):
    """``check()``'s first truthy value within ``timeout`` seconds, else AssertionError naming ``what``."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = check()
        if value:
            return value
        time.sleep(step)
    raise AssertionError(f"timed out waiting for {what}")


def listening_tcp_inodes() -> set[str]:
    """The socket inodes of every TCP socket in LISTEN state on this machine (IPv4 and IPv6)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if os.path.exists(table):
            for line in Path(table).read_text().splitlines()[1:]:
                parts = line.split()
                if parts[3] == "0A":  # LISTEN
                    inodes.add(parts[9])
    return inodes


def our_socket_inodes() -> set[str]:
    """The socket inodes this process holds open."""
    fds = [f"/proc/self/fd/{fd}" for fd in os.listdir("/proc/self/fd")]
    links = [os.readlink(fd) for fd in fds if os.path.exists(fd)]
    return {x[len("socket:[") : -1] for x in links if x.startswith("socket:[")}
