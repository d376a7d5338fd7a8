"""``player-plugin serve``: the engine as a local service, for hosts that cannot load it themselves.

Quod Libet's plugin runs inside Quod Libet's own Python (GTK, no numpy, no onnxruntime); a shell
script or another player's plugin may be in any language. They all talk to this service: JSON lines
over a UNIX socket (0600 in a 0700 folder, never TCP), protocol in docs/service.md. The service only
translates: every call is an engine call (``service_calls.py``), and the engine's change events are
pushed to the connections that subscribed.

One thread per connection; quick calls take one engine lock in turn, a ``scan`` (then embed) runs in
a background thread of its own, as the desktop app's workers do. While it runs, the service watches
the library folders as the app does (library/watch.py, the same setting): what changes there is
scanned and embedded in that background thread, and subscribers get its ``scan`` events. A client
that sends garbage, calls what does not exist or goes away mid-call gets one error (or nothing,
having gone) and the service keeps running.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import socketserver
import stat
import struct
import threading
from pathlib import Path
from typing import Any

from player_plugin.engine import Engine
from player_plugin.hosts.service_calls import CALLS, Args, CallError, entries_json
from player_plugin.library.watch import Changes, Follower
from player_plugin.listeners import EngineListener
from player_plugin.models import QueueEntry, TrackId
from player_plugin.private_files import private_dir

log = logging.getLogger(__name__)

MAX_LINE_BYTES = 1 << 20  # a longer request is refused and its connection closed
SEND_TIMEOUT_S = 5  # a client that does not read its events for this long is dropped
EVENTS = ("queue_changed", "now_playing_changed", "library_changed", "model_changed", "prompt_changed", "scan")
SOCKET_PATH_MAX = 107  # sun_path's limit on Linux, less the terminating NUL


class ServiceStartError(Exception):
    """The service cannot start at that socket (one line for the user)."""


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


class _Connection(socketserver.StreamRequestHandler):
    """One client: reads calls line by line, writes replies and (once subscribed) events."""

    server: _Server

    def setup(self) -> None:
        super().setup()
        # events go out from other threads: a client that stops reading must not block them for ever
        self.request.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, struct.pack("ll", SEND_TIMEOUT_S, 0))
        self.send_lock = threading.Lock()
        self.events: frozenset[str] = frozenset()
        self.server.service._connections.add(self)

    def finish(self) -> None:
        self.server.service._connections.discard(self)
        with contextlib.suppress(OSError):
            super().finish()

    def handle(self) -> None:
        service = self.server.service
        while not service.stopping.is_set():
            try:
                line = self.rfile.readline(MAX_LINE_BYTES + 1)
            except OSError:
                return
            if not line:
                return  # the client went away (mid-line or not): nothing to answer
            if len(line) > MAX_LINE_BYTES:
                error = {"code": "too_long", "message": "a request is one line of at most 1 MiB"}
                self.send({"id": None, "error": error})
                return
            if not line.strip():
                continue
            if not self.send(service.answer(self, line)):
                return

    def send(self, message: dict[str, Any]) -> bool:
        data = (json.dumps(message, ensure_ascii=False, default=str) + "\n").encode("utf-8")
        with self.send_lock:
            try:
                self.wfile.write(data)
                self.wfile.flush()
            except OSError:  # gone, or not reading: drop it
                with contextlib.suppress(OSError):
                    self.request.shutdown(socket.SHUT_RDWR)
                return False
        return True


class _Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
    block_on_close = False
    service: EngineService


class _Pusher(EngineListener):
    """The engine's announcements, as events to the subscribed connections."""

    def __init__(self, service: EngineService) -> None:
        self.service = service

    def queue_changed(self, entries: list[QueueEntry], refill_due: bool) -> None:
        entries_out = entries_json(self.service.engine, entries)
        self.service.push("queue_changed", {"entries": entries_out, "refill_due": refill_due})

    def now_playing_changed(self, track_id: TrackId | None) -> None:
        self.service.push("now_playing_changed", {"track": track_id})

    def library_changed(self) -> None:
        self.service.push("library_changed", {})

    def model_changed(self) -> None:
        self.service.push("model_changed", {})


class EngineService:
    """Serves ``engine`` at ``socket_path`` until :meth:`stop`."""

    def __init__(self, engine: Engine, socket_path: str | os.PathLike[str]) -> None:
        self.engine = engine
        self.path = Path(socket_path).expanduser().absolute()
        self.stopping = threading.Event()
        self.lock = threading.RLock()  # one engine call at a time (the background scan aside)
        self._connections: set[_Connection] = set()
        self._scan: threading.Thread | None = None
        self._scan_guard = threading.Lock()  # starting the background scan, and what the watch saw meanwhile
        self._changed: Changes | None = None
        # the library folders watched while the service runs (library/watch.py): what changes is scanned
        self._watch = Follower(engine.watched_roots, self.watch_changed, lambda text: log.warning("%s", text))
        self._server: _Server | None = None
        self._unsubscribe = engine.subscribe(_Pusher(self))

    # -- lifecycle ---------------------------------------------------------------------------------

    def bind(self) -> None:
        """Create the socket (0600, in a private folder), or say why not; a dead one's file is replaced."""
        path = self.path
        if len(os.fsencode(path)) > SOCKET_PATH_MAX:
            raise ServiceStartError(f"socket path too long for a UNIX socket ({SOCKET_PATH_MAX} bytes at most): {path}")
        folder = private_dir(path.parent)
        st = folder.stat()
        if st.st_uid != os.getuid() or st.st_mode & 0o077:
            raise ServiceStartError(f"{folder} must be yours and private (chmod 700) to hold the service's socket")
        if path.exists() or path.is_symlink():
            if not stat.S_ISSOCK(path.lstat().st_mode):
                raise ServiceStartError(f"{path} exists and is not a socket; not touching it")
            probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                probe.connect(os.fspath(path))
            except OSError:
                path.unlink()  # a socket nobody listens on: left by a service that died
            else:
                raise ServiceStartError(f"a service is already running at {path}")
            finally:
                probe.close()
        old = os.umask(0o177)
        try:
            self._server = _Server(os.fspath(path), _Connection)
        except OSError as exc:
            raise ServiceStartError(f"cannot listen at {path}: {exc.strerror or exc}") from None
        finally:
            os.umask(old)
        os.chmod(path, 0o600)
        self._server.service = self

    def serve_forever(self) -> None:
        if self._server is None:
            self.bind()
        assert self._server is not None
        self._watch.follow()
        try:
            self._server.serve_forever(poll_interval=0.2)
        finally:
            self._close()

    def stop(self) -> None:
        """From any thread but the serving one (a signal handler may call it)."""
        self.stopping.set()
        if self._server is not None:
            threading.Thread(target=self._server.shutdown, name="service-stop", daemon=True).start()

    def _close(self) -> None:
        self.stopping.set()
        self._watch.close()
        self._unsubscribe()
        for conn in list(self._connections):
            with contextlib.suppress(OSError):
                conn.request.shutdown(socket.SHUT_RDWR)
        if self._server is not None:
            self._server.server_close()
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        if self._scan is not None:
            self._scan.join(timeout=30)

    # -- calls -------------------------------------------------------------------------------------

    def answer(self, conn: _Connection, line: bytes) -> dict[str, Any]:
        """The reply to one request line (never raises)."""
        try:
            request = json.loads(line)
        except (ValueError, UnicodeDecodeError) as exc:
            return {"id": None, "error": {"code": "bad_json", "message": f"not JSON: {_one_line(exc)}"}}
        call_id = request.get("id") if isinstance(request, dict) else None
        if not isinstance(call_id, (int, str)) or isinstance(call_id, bool):
            call_id = None
        try:
            if not isinstance(request, dict) or not isinstance(request.get("call"), str):
                raise CallError("bad_request", 'a request is an object with "call" (and "id", "args")')
            return {"id": call_id, "result": self.run_call(conn, request["call"], request.get("args"))}
        except CallError as exc:
            return {"id": call_id, "error": {"code": exc.code, "message": str(exc)}}
        except Exception as exc:  # noqa: BLE001 - the engine failed this call; the service goes on
            debug = log.isEnabledFor(logging.DEBUG)
            log.warning("call %r failed: %s", request.get("call"), _one_line(exc), exc_info=debug)
            return {"id": call_id, "error": {"code": "failed", "message": _one_line(exc)}}

    def run_call(self, conn: _Connection, name: str, raw_args: object) -> Any:
        if name == "subscribe":
            return self._subscribe(conn, raw_args)
        if name == "scan":
            return self._start_scan(raw_args)
        call = CALLS.get(name)
        if call is None:
            known = ", ".join(sorted([*CALLS, "scan", "subscribe"]))
            raise CallError("unknown_call", f"no call {name!r} (protocol 1 has: {known})")
        args = Args(name, call, raw_args)
        if not call.locked:
            return call.fn(self.engine, args)
        with self.lock:
            before = self.engine.prompt
            result = call.fn(self.engine, args)
            after = self.engine.prompt
        if after != before:
            self.push("prompt_changed", {"prompt": after})
        return result

    def _subscribe(self, conn: _Connection, raw: object) -> dict[str, Any]:
        raw = raw or {}
        wanted = raw.get("events", list(EVENTS)) if isinstance(raw, dict) else None
        if not isinstance(wanted, list) or not all(isinstance(e, str) for e in wanted):
            raise CallError("bad_args", "subscribe: 'events' must be a list of event names")
        unknown = sorted(set(wanted) - set(EVENTS))
        if unknown:
            raise CallError("bad_args", f"subscribe: no event {unknown[0]!r} (there are: {', '.join(EVENTS)})")
        conn.events = frozenset(wanted)
        return {"events": sorted(conn.events)}

    def push(self, event: str, data: dict[str, Any]) -> None:
        for conn in list(self._connections):
            if event in conn.events:
                conn.send({"event": event, "data": data})

    # -- the background scan -----------------------------------------------------------------------

    def _start_scan(self, raw: object) -> dict[str, Any]:
        paths = raw.get("paths") if isinstance(raw, dict) else None
        if raw not in (None, {}) and (
            not isinstance(raw, dict)
            or set(raw) - {"paths"}
            or not isinstance(paths, list)
            or not all(isinstance(p, str) and p for p in paths)
        ):
            raise CallError("bad_args", "scan: takes 'paths', a list of folders (none: the library's folders)")
        folders = [os.path.abspath(os.path.expanduser(p)) for p in paths or []]
        missing = [p for p in folders if not os.path.isdir(p)]
        if missing:
            raise CallError("not_found", f"scan: not a folder: {missing[0]}")
        with self._scan_guard:
            if self._scan is not None and self._scan.is_alive():
                return {"started": False, "running": True}
            self._start_scan_thread(folders or None, whole=True)
        return {"started": True, "running": True}

    def watch_changed(self, changes: Changes) -> None:
        """On the watch's thread: scan what it saw change, now or right after the scan under way."""
        with self._scan_guard:
            self._changed = changes if self._changed is None else self._changed | changes
            if not self.stopping.is_set() and (self._scan is None or not self._scan.is_alive()):
                self._start_scan_thread(None, whole=False)

    def _start_scan_thread(self, folders: list[str] | None, whole: bool) -> None:
        self._scan = threading.Thread(target=self._scan_job, args=(folders, whole), name="service-scan", daemon=True)
        self._scan.start()

    def _take_changes(self) -> Changes | None:
        with self._scan_guard:
            changes, self._changed = self._changed, None
        return changes

    def _scan_job(self, folders: list[str] | None, whole: bool) -> None:
        """Scan (the library's folders, or what the watch saw change), then embed what is new: in the
        background, cancelled when the service stops. Changes seen meanwhile are scanned before the embed."""
        engine = self.engine
        try:
            reports = [engine.scan(folders, cancel=self.stopping)] if whole else []
            while not self.stopping.is_set() and (changes := self._take_changes()) is not None:
                reports.append(engine.scan_changes(changes.folders, cancel=self.stopping, deleted=changes.deleted))
            added, failed = sum(r.added for r in reports), sum(r.failed for r in reports)
            tracks = engine.library_counts().tracks
            self.push("scan", {"phase": "scanned", "tracks": tracks, "added": added, "failed": failed})
            embedded = engine.embed(cancel=self.stopping)
            self.push("scan", {"phase": "done", "embedded": embedded.embedded})
        except Exception as exc:  # noqa: BLE001 - the service outlives a failed scan and says why
            log.warning("scan failed: %s", _one_line(exc))
            self.push("scan", {"phase": "failed", "message": _one_line(exc)})
        finally:
            if not self.stopping.is_set():
                try:
                    self._watch.follow()  # a scan may have added a library folder
                except Exception as exc:  # noqa: BLE001 - the settings unreadable: the watch stays as it was
                    log.warning("cannot follow the library folders: %s", _one_line(exc))
            engine.db.close()  # this thread's connection
        with self._scan_guard:  # what the watch saw after the last look: its own scan
            if self._changed is not None and not self.stopping.is_set():
                self._start_scan_thread(None, whole=False)
