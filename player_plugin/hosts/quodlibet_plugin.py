"""Up Next for Quod Libet: keeps QL's queue filled by player_plugin's engine, learning from what plays.

Installed by ``player-plugin install quodlibet`` as the package ``player_plugin_upnext`` in Quod Libet's
plugin folder (this file as its ``__init__.py``, ``service_client.py`` as ``client.py``, and a
``config.json`` naming the service's socket and the command that starts it). It runs inside Quod
Libet's own Python, so it imports nothing of ours but the client: the engine runs in the service
(``player-plugin serve``), which the plugin starts when none answers.

What it does (the engine decides; the plugin reports and displays, docs/architecture.md):

* ``plugin_on_song_started`` → ``track_started``; ``plugin_on_song_ended(song, stopped)`` →
  ``track_ended`` at the position the song got to (timed here, as QL's scrobbler does: pauses and
  seeks followed), ``reason`` "next" when QL says it was stopped (skipped), "ended" when it ran out;
* the queue: whenever fewer than ``keep`` songs are queued, the engine's picks are enqueued with
  ``app.window.playlist.enqueue``. Nothing the listener queued is removed or moved;
* each pick's reason is kept in the song's internal tag ``~upnext`` (QL never writes ``~`` tags to
  files): add a song-list column ``~upnext`` to see it, or search ``~upnext=/./``; the plugin's
  preferences list the current picks and their reasons, and take a typed prompt;
* when the prompt changes, the picks not yet played go and new ones follow it.

Nothing here may break Quod Libet: every call to the service runs on a worker thread, failures are
logged and retried later (the service is started again when it was killed).
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import threading
import time

from gi.repository import GLib, Gtk
from quodlibet import app
from quodlibet.plugins.events import EventPlugin
from quodlibet.util.dprint import print_d, print_w

from .client import ServiceClient, ServiceError, ServiceUnavailable

REASON_TAG = "~upnext"
DEFAULT_KEEP = 5
SPAWN_WAIT_S = 30.0  # a fresh service imports numpy and opens the library: give it this long to answer
RETRY_S = 5.0  # after a failure, the next attempt to reach the service waits this long
CLOCK_S = 1  # how often the playing song's position is read
EXTRA_PICKS = 5  # ask for a few more than missing: a pick QL's library lacks (not read by QL yet) is passed over
_HERE = os.path.dirname(os.path.abspath(__file__))


def _config() -> dict:
    try:
        with open(os.path.join(_HERE, "config.json"), encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError) as exc:
        print_w(f"player_plugin: no usable config.json next to the plugin ({exc}); reinstall it")
        return {}


class _Service:
    """The connection, on a worker thread of its own: jobs run in order, results go back to GTK."""

    def __init__(self, conf: dict, on_event, on_connect) -> None:
        self.conf = conf
        self.on_event = on_event
        self.on_connect = on_connect
        self.jobs: queue.Queue = queue.Queue()
        self.client: ServiceClient | None = None
        self.spawned: subprocess.Popen | None = None
        self.failed_at = 0.0
        self.thread = threading.Thread(target=self._run, name="player-plugin-upnext", daemon=True)
        self.thread.start()

    def submit(self, name: str, args: dict, done=None) -> None:
        self.jobs.put((name, args, done))

    def stop(self) -> None:
        self.jobs.put(None)
        self.thread.join(timeout=5)
        if self.client is not None:
            self.client.close()
        if self.spawned is not None and self.spawned.poll() is None:
            self.spawned.terminate()  # the service this plugin started goes with it

    def _run(self) -> None:
        while True:
            job = self.jobs.get()
            if job is None:
                return
            name, args, done = job
            result = None
            try:
                result = self._call(name, args)
            except (ServiceUnavailable, OSError) as exc:
                print_w(f"player_plugin: {name} not sent: {exc}")
            except ServiceError as exc:
                print_d(f"player_plugin: {name}: {exc}")
            if done is not None:  # told either way (None: it failed), so no request stays pending
                GLib.idle_add(done, result)

    def _call(self, name: str, args: dict):
        client = self._connected()
        try:
            return client.call(name, **args)
        except ServiceUnavailable:  # it went away since: once more, on a fresh connection
            self.client = None
            return self._connected().call(name, **args)

    def _connected(self) -> ServiceClient:
        if self.client is not None and self.client.connected:
            return self.client
        self.client = None
        if time.monotonic() - self.failed_at < RETRY_S:
            raise ServiceUnavailable("the service did not answer a moment ago")
        try:
            client = self._open()
        except ServiceUnavailable:
            self.failed_at = time.monotonic()
            raise
        client.call("subscribe", events=["prompt_changed", "scan", "model_changed"])
        self.client = client
        GLib.idle_add(self.on_connect)
        return client

    def _open(self) -> ServiceClient:
        path = self.conf.get("socket")
        try:
            return ServiceClient(path, on_event=self.on_event).connect()
        except ServiceUnavailable:
            pass
        command = self.conf.get("command")
        if not command:
            raise ServiceUnavailable("no service, and no command in config.json to start one")
        if self.spawned is None or self.spawned.poll() is not None:
            log = self.conf.get("log")
            # the service's log is the user's private file, like everything of ours (0600)
            out = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600) if log else subprocess.DEVNULL
            print_d(f"player_plugin: starting {' '.join(command)}")
            self.spawned = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=out, stderr=out, start_new_session=True, close_fds=True
            )
            if log:
                os.close(out)
        deadline = time.monotonic() + SPAWN_WAIT_S
        while time.monotonic() < deadline and self.spawned.poll() is None:
            try:
                return ServiceClient(path, on_event=self.on_event).connect()
            except ServiceUnavailable:
                time.sleep(0.1)
        raise ServiceUnavailable(f"the service did not start (see {self.conf.get('log', 'its log')})")


class _Clock:
    """Where the playing song got to: QL's position, read each second and on every pause and seek, plus
    the time since while playing (by the time QL says a song ended, its position is gone)."""

    def __init__(self) -> None:
        self.position, self.at, self.playing = 0.0, time.monotonic(), False

    def sample(self, position: float | None = None) -> None:
        player = app.player
        if position is None:
            position = (player.get_position() or 0) / 1000.0 if player.song is not None else 0.0
        self.position, self.at, self.playing = position, time.monotonic(), not player.paused

    def now(self) -> float:
        return self.position + (time.monotonic() - self.at if self.playing else 0.0)


class UpNext(EventPlugin):
    PLUGIN_ID = "player_plugin_upnext"
    PLUGIN_NAME = "Up Next (player_plugin)"
    PLUGIN_DESC = (
        "Keeps the queue filled with songs you will want, learnt on this machine from what you play, "
        "skip and type (player_plugin's engine; nothing leaves the machine)."
    )

    def enabled(self) -> None:
        self.conf = _config()
        self.keep = int(self.conf.get("keep", DEFAULT_KEEP))
        self.clock = _Clock()
        self.ticker = GLib.timeout_add_seconds(CLOCK_S, self._tick)
        self.picks: dict[str, str] = {}  # file -> reason, the songs this plugin queued and not yet played
        self.topping_up = False
        self.service = _Service(self.conf, self._on_event, self._report_playing)
        dirs = self._scan_dirs()
        if dirs:
            self.service.submit("scan", {"paths": dirs})
        GLib.idle_add(self._top_up)

    def disabled(self) -> None:
        GLib.source_remove(self.ticker)
        self.service.stop()

    def _tick(self) -> bool:
        self.clock.sample()
        return True

    # -- what plays ---------------------------------------------------------------------------------

    def plugin_on_song_started(self, song) -> None:
        self.clock.sample(0.0)
        if song is None:
            return
        self.picks.pop(song("~filename"), None)
        self.service.submit("track_started", {"path": song("~filename"), "via": "quodlibet"})
        self._top_up()

    def _report_playing(self) -> bool:
        """After a (re)connect or a scan: the song already playing, unless the engine knows it."""
        song = app.player.song
        if song is not None:
            self.service.submit("track_started", {"path": song("~filename"), "via": "quodlibet", "resume": True})
        return False

    def plugin_on_song_ended(self, song, stopped) -> None:
        if song is None:
            return
        length = float(song("~#length") or 0.0)
        position = self.clock.now()
        if length > 0:
            position = min(position, length)
        song.pop(REASON_TAG, None)
        self.service.submit(
            "track_ended",
            {"path": song("~filename"), "position_s": position, "duration_s": length or None,
             "reason": "next" if stopped else "ended", "resume": True},
        )  # fmt: skip

    def plugin_on_added(self, songs) -> None:
        self._top_up()  # new songs in Quod Libet's library: picks it lacked may be there now

    def plugin_on_paused(self) -> None:
        self.clock.sample()

    def plugin_on_unpaused(self) -> None:
        self.clock.sample()

    def plugin_on_seek(self, song, msec) -> None:
        self.clock.sample(msec / 1000.0)

    # -- the queue -----------------------------------------------------------------------------------

    def _queued(self) -> list:
        return list(app.window.playlist.q.get())

    def _top_up(self) -> bool:
        """Ask for picks when fewer than ``keep`` songs are queued (one request at a time)."""
        queued = self._queued()
        missing = self.keep - len(queued)
        if missing <= 0 or self.topping_up:
            return False
        self.topping_up = True
        files = [s("~filename") for s in queued]
        if app.player.song is not None:
            files.append(app.player.song("~filename"))
        # Quod Libet plays whole files only: no track of a CUE sheet
        ask = {"n": missing + EXTRA_PICKS, "queued": files, "within": self._scan_dirs(), "whole_files": True}
        self.service.submit("picks", ask, self._enqueue)
        return False

    def _enqueue(self, result: dict | None) -> bool:
        self.topping_up = False
        missing = self.keep - len(self._queued())
        songs = []
        for entry in (result or {}).get("entries", []):
            if len(songs) >= missing:
                break
            song = app.library.get(entry.get("path"))
            if song is None:
                continue  # in our library, not in Quod Libet's
            song[REASON_TAG] = entry.get("reason", "")
            self.picks[song("~filename")] = entry.get("reason", "")
            songs.append(song)
        if songs:
            app.window.playlist.enqueue(songs)
        return False

    def _on_event(self, event: str, data: dict) -> None:
        """On the client's reading thread: hop to GTK's."""
        GLib.idle_add(self._handle_event, event, data)

    def _handle_event(self, event: str, data: dict) -> bool:
        if event == "prompt_changed":
            # the picks not yet played answered the old wish: they go, new ones follow the new one
            mine = [s for s in self._queued() if s("~filename") in self.picks]
            for song in mine:
                self.picks.pop(song("~filename"), None)
                song.pop(REASON_TAG, None)
            if mine:
                app.window.playlist.unqueue(mine)
        if event == "scan" and data.get("phase") == "scanned":
            self._report_playing()  # a song that started before its file was in the library
        if event in ("prompt_changed", "model_changed") or (event == "scan" and data.get("phase") == "done"):
            self._top_up()
        return False

    def _scan_dirs(self) -> list:
        try:
            from quodlibet.util.library import get_scan_dirs

            return [d for d in get_scan_dirs() if os.path.isdir(d)]
        except Exception as exc:  # noqa: BLE001 - an old QL without it: the service scans what it knows
            print_w(f"player_plugin: cannot read Quod Libet's library folders ({exc})")
            return []

    # -- preferences ---------------------------------------------------------------------------------

    def PluginPreferences(self, parent):  # noqa: N802 - Quod Libet's name
        box = Gtk.VBox(spacing=6)
        entry = Gtk.Entry(placeholder_text="Type a mood, e.g. rainy night, mellow")

        def set_prompt(widget) -> None:
            self.service.submit("set_prompt", {"text": widget.get_text()})

        entry.connect("activate", set_prompt)
        box.pack_start(Gtk.Label(label="Prompt (Enter to follow it, empty to clear):", xalign=0), False, False, 0)
        box.pack_start(entry, False, False, 0)
        lines = [f"• {os.path.basename(f)} — {r}" for f, r in self.picks.items()] or ["(no picks queued)"]
        picks = Gtk.Label(label="Queued by Up Next:\n" + "\n".join(lines), xalign=0)
        picks.set_line_wrap(True)
        box.pack_start(picks, False, False, 0)
        box.pack_start(Gtk.Label(label="Add a song-list column “~upnext” to see why each song was picked.", xalign=0),
                       False, False, 0)  # fmt: skip
        return box
