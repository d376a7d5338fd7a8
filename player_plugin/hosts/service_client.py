"""A client of ``player-plugin serve``: JSON lines over a local UNIX socket (docs/service.md).

Standard library only, and Python 3.8+: ``player-plugin install quodlibet`` copies this file next to the
Quod Libet plugin, which runs in the system's Python, outside our virtual environment. Any other
host (a script, another player's plugin) can copy or import it the same way.

One connection carries calls (``call``) and, once ``subscribe``d, the engine's change events, which
arrive between replies and are handed to ``on_event`` on the reading thread.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import threading
from collections.abc import Callable
from typing import Any

PROTOCOL = 1  # the protocol version this client speaks (docs/service.md)
CALL_TIMEOUT_S = 30.0  # a reply slower than this is a dead service (scans run in the background)
MAX_LINE_BYTES = 1 << 20  # the service never sends a longer line


class ServiceError(Exception):
    """The service answered a call with an error; ``code`` says which kind (docs/service.md)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class ServiceUnavailable(OSError):
    """No service at the socket, or it went away mid-call."""


def default_socket() -> str:
    """``$XDG_RUNTIME_DIR/player-plugin/engine.sock`` (the user's own, gone at logout), else
    ``/tmp/player-plugin-UID/engine.sock`` (the service checks that folder is the user's, 0700)."""
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and os.path.isdir(runtime):
        return os.path.join(runtime, "player-plugin", "engine.sock")
    return os.path.join("/tmp", f"player-plugin-{os.getuid()}", "engine.sock")


class ServiceClient:
    """One connection to the service. ``call`` is safe from several threads (one call at a time)."""

    def __init__(
        self,
        path: str | None = None,
        on_event: Callable[[str, dict[str, Any]], None] | None = None,
        timeout: float = CALL_TIMEOUT_S,
    ) -> None:
        self.path = path or default_socket()
        self.on_event = on_event
        self.timeout = timeout
        self.hello: dict[str, Any] = {}
        self._sock: socket.socket | None = None
        self._lock = threading.Lock()  # one call in flight
        self._replies: dict[int, dict[str, Any]] = {}
        self._cond = threading.Condition()
        self._next_id = 0
        self._reader: threading.Thread | None = None
        self._closed = False

    # -- connection ---------------------------------------------------------------------------------

    def connect(self) -> ServiceClient:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.connect(self.path)
        except OSError as exc:
            sock.close()
            raise ServiceUnavailable(exc.errno, f"no service at {self.path} ({exc.strerror or exc})") from None
        self._sock = sock
        self._file = sock.makefile("rb")
        self._reader = threading.Thread(target=self._read_loop, name="player-plugin-client", daemon=True)
        self._reader.start()
        self.hello = self.call("hello", protocol=PROTOCOL)
        return self

    @property
    def connected(self) -> bool:
        return self._sock is not None and not self._closed

    def close(self) -> None:
        self._closed = True
        sock, self._sock = self._sock, None
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        with self._cond:
            self._cond.notify_all()

    def __enter__(self) -> ServiceClient:
        return self.connect() if self._sock is None else self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- calls ---------------------------------------------------------------------------------------

    def call(self, name: str, **args: Any) -> Any:
        """Send one call and wait for its reply: its ``result``, or ``ServiceError`` for an ``error``."""
        with self._lock:
            sock = self._sock
            if sock is None or self._closed:
                raise ServiceUnavailable(f"not connected to {self.path}")
            self._next_id += 1
            call_id = self._next_id
            line = json.dumps({"id": call_id, "call": name, "args": args}, ensure_ascii=False) + "\n"
            try:
                sock.sendall(line.encode("utf-8"))
            except OSError as exc:
                self.close()
                raise ServiceUnavailable(f"lost the service at {self.path} ({exc})") from None
            with self._cond:
                if not self._cond.wait_for(lambda: call_id in self._replies or self._closed, self.timeout):
                    self.close()
                    raise ServiceUnavailable(f"the service at {self.path} did not answer {name} in time")
                reply = self._replies.pop(call_id, None)
            if reply is None:
                raise ServiceUnavailable(f"lost the service at {self.path} during {name}")
        if "error" in reply:
            err = reply["error"] or {}
            raise ServiceError(str(err.get("code", "failed")), str(err.get("message", "the call failed")))
        return reply.get("result")

    def _read_loop(self) -> None:
        try:
            while not self._closed:
                line = self._file.readline(MAX_LINE_BYTES + 1)
                if not line:
                    break
                try:
                    msg = json.loads(line)
                except ValueError:
                    continue
                if not isinstance(msg, dict):
                    continue
                if "event" in msg:
                    if self.on_event is not None:
                        # a host's handler that fails must not kill the connection
                        with contextlib.suppress(Exception):
                            self.on_event(str(msg["event"]), msg.get("data") or {})
                    continue
                with self._cond:
                    if isinstance(msg.get("id"), int):
                        self._replies[msg["id"]] = msg
                    self._cond.notify_all()
        except (OSError, ValueError):
            pass
        finally:
            self._closed = True
            with self._cond:
                self._cond.notify_all()
