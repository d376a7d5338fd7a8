"""The Quod Libet plugin in a real Quod Libet (Debian's package, in the system's Python, on a virtual X
display, GStreamer's fakesink playing in real time), driven by Quod Libet's own remote commands."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

from player_plugin.paths import demo_library_dir
from tests import host_tools

QUODLIBET = "/usr/bin/quodlibet"  # the system's, in the system's Python (never our venv's)
pytestmark = pytest.mark.skipif(
    not os.path.exists(QUODLIBET) or shutil.which("Xvfb") is None,
    reason="Quod Libet or Xvfb is not installed (apt-get install quodlibet xvfb; .ci/run installs them)",
)
WAIT_S = 60.0
KEEP = 3


def wait_for(check, what: str, timeout: float = WAIT_S):
    return host_tools.wait_for(check, what, timeout, step=0.2)


class QuodLibet:
    """Quod Libet with its own user folder, display and library (the demo library)."""

    def __init__(self, root: Path, display: str) -> None:
        self.root = root
        self.userdir = root / "ql"
        self.userdir.mkdir(parents=True)
        self.music = root / "music"
        shutil.copytree(demo_library_dir(), self.music)
        (self.userdir / "config").write_text(
            "[player]\ngst_pipeline = fakesink sync=true\n"
            f"[settings]\nscan = {self.music}\n"
            "[plugins]\nactive_plugins = player_plugin_upnext\n",
            encoding="utf-8",
        )
        self.env = {
            "PATH": "/usr/bin:/bin",
            "HOME": os.environ["HOME"],
            "DISPLAY": display,
            "QUODLIBET_USERDIR": str(self.userdir),
            "XDG_CONFIG_HOME": os.environ["XDG_CONFIG_HOME"],
            "XDG_CACHE_HOME": os.environ["XDG_CACHE_HOME"],
            "XDG_DATA_HOME": os.environ["XDG_DATA_HOME"],
            "NO_AT_BRIDGE": "1",
        }
        self.proc: subprocess.Popen | None = None

    def start(self, attempts: int = 3) -> None:
        """Start it and wait until it answers; a start that dies at once (seen once: "Gtk.init failed"
        on a display that had just come up) is tried again."""
        for _ in range(attempts):
            log = open(self.root / "quodlibet.log", "ab")  # noqa: SIM115 - the player's whole life
            self.proc = subprocess.Popen([QUODLIBET, "--debug"], env=self.env, stdout=log, stderr=log)
            log.close()
            proc = self.proc
            wait_for(lambda p=proc: p.poll() is not None or self.remote("--status").returncode == 0, "Quod Libet")
            if proc.poll() is None:
                return
            time.sleep(1.0)
        tail = (self.root / "quodlibet.log").read_text(errors="replace")[-2000:]
        raise AssertionError(f"Quod Libet did not start:\n{tail}")

    def remote(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([QUODLIBET, *args], env=self.env, capture_output=True, text=True, timeout=30)

    def queue(self) -> list[str]:
        return [unquote(urlparse(u).path) for u in self.remote("--print-queue").stdout.splitlines() if u.strip()]

    def playing(self) -> str:
        return self.remote("--print-playing", "<~filename>").stdout.strip()

    def with_reason(self) -> list[str]:
        return [x for x in self.remote("--print-query", "~upnext=/./").stdout.splitlines() if x.strip()]

    def quit(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.remote("--quit")
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()


GTK_PROBE = "import gi; gi.require_version('Gtk', '3.0'); from gi.repository import Gtk; assert Gtk.init_check([])[0]"


def _free_display() -> int:
    for n in range(100 + os.getpid() % 200, 400):
        if not os.path.exists(f"/tmp/.X11-unix/X{n}") and not os.path.exists(f"/tmp/.X{n}-lock"):
            return n
    raise AssertionError("no free X display number")


@pytest.fixture
def display(tmp_path):
    """A virtual X display of our own, checked to take a GTK client before Quod Libet meets it."""
    log = open(tmp_path / "xvfb.log", "wb")  # noqa: SIM115 - the server's whole life
    for _ in range(3):  # a number taken meanwhile by another server: the next one
        name = f":{_free_display()}"
        command = ["Xvfb", name, "-screen", "0", "1024x768x24", "-nolisten", "tcp"]
        xvfb = subprocess.Popen(command, stdout=log, stderr=log)
        env = {"PATH": "/usr/bin:/bin", "DISPLAY": name, "HOME": os.environ["HOME"], "NO_AT_BRIDGE": "1"}

        def answers(env=env, xvfb=xvfb) -> bool:
            if xvfb.poll() is not None:
                return True  # gone: stop waiting
            probe = subprocess.run(["/usr/bin/python3", "-c", GTK_PROBE], env=env, capture_output=True)
            return probe.returncode == 0

        wait_for(answers, f"the X display {name} to take a GTK client", timeout=30)
        if xvfb.poll() is None:
            break
    else:
        raise AssertionError((tmp_path / "xvfb.log").read_text(errors="replace")[-2000:])
    yield name
    xvfb.terminate()
    xvfb.wait(timeout=10)
    log.close()


def service_pids(sock: Path) -> list[int]:
    pids = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                cmd = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"serve" in cmd and os.fsencode(sock) in cmd:
                pids.append(int(pid))
    return pids


def test_the_plugin_keeps_quod_libets_queue_filled_and_learns_plays_and_skips(tmp_path, display):
    db_path, sock = tmp_path / "library.db", tmp_path / "run" / "engine.sock"
    ql = QuodLibet(tmp_path, display)
    installed = subprocess.run(
        [sys.executable, "-m", "player_plugin.cli", "--db", str(db_path), "install", "quodlibet",
         "--userdir", str(ql.userdir), "--socket", str(sock), "--keep", str(KEEP)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert installed.returncode == 0, installed.stderr
    assert (ql.userdir / "plugins" / "player_plugin_upnext" / "client.py").is_file()

    def events() -> list[tuple[str, str]]:
        if not db_path.exists():
            return []
        with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) as db:
            rows = db.execute("SELECT e.kind, t.path FROM events e JOIN tracks t ON t.id = e.track_id ORDER BY e.id")
            return list(rows)

    ql.start()
    try:
        ql.remote(f"--add-location={ql.music}")
        # the plugin starts the service, which scans and embeds QL's library folder, then QL's queue fills
        queue = wait_for(lambda: len(ql.queue()) >= KEEP and ql.queue(), "the queue to be filled", timeout=180)
        assert len(queue) == KEEP and all(Path(p).is_file() for p in queue)
        assert sorted(ql.with_reason()) == sorted(queue)  # each pick carries its reason (~upnext)
        mine = str(ql.music / "Elena Voss" / "Nocturnes for Empty Rooms" / "04 Étude for the Last Train.ogg")
        if mine in queue:
            mine = str(ql.music / "Iron Sermon" / "Cathedral of Ash" / "01 Cathedral of Ash.mp3")
        ql.remote(f"--enqueue-files={mine}")  # the user's own song, after the picks
        wait_for(lambda: mine in ql.queue(), "the user's song in the queue")

        ql.remote("--play")
        first = wait_for(lambda: ql.remote("--status").stdout.startswith("playing") and ql.playing(), "playback")
        wait_for(lambda: ("play", first) in events(), "the play to be stored")
        time.sleep(1.0)
        ql.remote("--next")  # before the end: a skip
        wait_for(lambda: ("skip", first) in events(), "the skip to be stored")
        second = wait_for(lambda: ql.playing() != first and ql.playing(), "the next song")
        wait_for(lambda: ("play", second) in events(), "its play")
        # the user's song stays queued; picks are only ever added after it
        wait_for(lambda: len(ql.queue()) >= KEEP, "the queue topped up")
        assert mine in ql.queue() and len(ql.queue()) == len(set(ql.queue()))

        # the service killed mid-song: Quod Libet goes on, the plugin starts it again, nothing is lost
        (pid,) = service_pids(sock)
        os.kill(pid, signal.SIGKILL)
        time.sleep(1.0)
        ql.remote("--next")
        wait_for(lambda: ("skip", second) in events(), "the skip of the song playing when the service died")
        third = wait_for(lambda: ql.playing() not in ("", second) and ql.playing(), "the song after it")
        wait_for(lambda: ("play", third) in events(), "its play, through the new service")
        assert ql.proc.poll() is None and ql.remote("--status").returncode == 0
        new_pids = wait_for(lambda: service_pids(sock), "a new service")
        assert pid not in new_pids
        wait_for(lambda: len(ql.queue()) >= KEEP, "the queue topped up by the new service")

        # a song that plays out is a complete
        length = float(ql.remote("--print-playing", "<~#length>").stdout.strip() or 0)
        assert length > 10
        seconds = int(length) - 2
        ql.remote(f"--seek={seconds // 60}:{seconds % 60:02d}")
        wait_for(lambda: ("complete", third) in events(), "the played-out song stored as complete", timeout=30)
        kinds = [k for k, p in events() if p in (first, second, third)]
        assert kinds == ["play", "skip", "play", "skip", "play", "complete"]
    finally:
        ql.quit()
        for pid in service_pids(sock):
            os.kill(pid, signal.SIGTERM)
    service_log = Path(os.environ["XDG_CACHE_HOME"]) / "player-plugin" / "service.log"
    assert service_log.is_file() and service_log.stat().st_mode & 0o777 == 0o600  # the service's log is private
    log = (tmp_path / "quodlibet.log").read_text(errors="replace")
    assert "Traceback" not in log, log[-3000:]
