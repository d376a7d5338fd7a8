"""Background work yields the CPU to what the listener is waiting for.

A first embed of a big library keeps both cores busy for minutes (100,000 tracks: seven to eight on
two cores), and an Up Next fill or a repaint that has to share a core with it at equal priority takes
two to three times as long, with a p99 set by the scheduler's time slices (``bench/up_next.py --load embed``). So the
threads that do bulk work (the library worker, the text encoder's onnxruntime threads) run at a
higher nice value: on an idle machine they are as fast as before, beside a fill they step aside.

Linux only: there a nice value belongs to one thread, and threads a thread starts inherit it (so an
onnxruntime session built on a lowered thread has its whole intra-op pool lowered). Elsewhere
(macOS, Windows: a nice value is the process's) nothing changes. A raised nice value cannot be
lowered again without privilege, so only threads that do nothing else are lowered.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Callable
from typing import TypeVar

log = logging.getLogger(__name__)

# The scheduler weighs nice 0 against nice 10 as 1024 to 110: a fill beside a running embed gets about
# nine tenths of a core instead of half of one, while the embed alone still gets every idle cycle.
BACKGROUND_NICE = 10

T = TypeVar("T")


def per_thread_nice() -> bool:
    """Whether a nice value can be set for one thread here (Linux)."""
    return sys.platform.startswith("linux") and hasattr(os, "setpriority")


def lower_this_thread(nice: int = BACKGROUND_NICE) -> bool:
    """Raise the calling thread's nice value to at least ``nice`` (threads it starts inherit it).
    True when the thread now runs at that priority or below."""
    if not per_thread_nice():
        return False
    tid = threading.get_native_id()
    try:
        if os.getpriority(os.PRIO_PROCESS, tid) < nice:
            os.setpriority(os.PRIO_PROCESS, tid, nice)
        return True
    except OSError as exc:  # a sandbox that forbids it: the work runs, only at normal priority
        log.debug("could not lower thread %s to nice %s: %s", tid, nice, exc)
        return False


def thread_nice(tid: int | None = None) -> int | None:
    """The nice value of a thread of this process (default: the caller), or None where unknown."""
    if not per_thread_nice():
        return None
    try:
        return os.getpriority(os.PRIO_PROCESS, threading.get_native_id() if tid is None else tid)
    except OSError:
        return None


def built_in_background(build: Callable[[], T], nice: int = BACKGROUND_NICE) -> T:
    """``build()`` run on a short-lived thread lowered to ``nice``: whatever threads it starts (an
    onnxruntime session's intra-op pool) keep that priority after it ends, while the caller's own
    priority is untouched. Exceptions reach the caller. Where threads have no nice value of their
    own, ``build()`` just runs here."""
    if not per_thread_nice():
        return build()
    box: dict[str, object] = {}

    def run() -> None:
        lower_this_thread(nice)
        try:
            box["value"] = build()
        except BaseException as exc:  # noqa: BLE001 - handed to the caller below
            box["error"] = exc

    helper = threading.Thread(target=run, name="background-build", daemon=True)
    helper.start()
    helper.join()
    if "error" in box:
        raise box["error"]  # type: ignore[misc]
    return box["value"]  # type: ignore[return-value]
