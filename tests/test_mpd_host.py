"""The MPD host against a real MPD (null audio output, a UNIX socket, the demo library as its music)."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from player_plugin.engine import Engine
from player_plugin.paths import demo_library_dir
from player_plugin.store import Database
from tests.cd_image import make_image
from tests.host_tools import listening_tcp_inodes, our_socket_inodes, wait_for

pytestmark = pytest.mark.skipif(
    shutil.which("mpd") is None or shutil.which("mpc") is None,
    reason="MPD is not installed (apt-get install mpd mpc; .ci/run installs them)",
)
WAIT_S = 30.0


class Mpd:
    """A real MPD in a temp dir, startable and stoppable."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.music = root / "music"
        shutil.copytree(demo_library_dir(), self.music)
        (root / "playlists").mkdir()
        self.socket = str(root / "socket")
        self.conf = root / "mpd.conf"
        self.conf.write_text(
            f'music_directory "{self.music}"\nplaylist_directory "{root / "playlists"}"\n'
            f'db_file "{root / "db"}"\nstate_file "{root / "state"}"\npid_file "{root / "pid"}"\n'
            f'bind_to_address "{self.socket}"\naudio_output {{\n  type "null"\n  name "null"\n}}\n',
            encoding="utf-8",
        )
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        log = open(self.root / "mpd.log", "ab")  # noqa: SIM115 - the server's whole life
        self.proc = subprocess.Popen(["mpd", "--no-daemon", str(self.conf)], stdout=log, stderr=log)
        wait_for(lambda: os.path.exists(self.socket) and self.mpc("status").returncode == 0, "MPD to start")
        self.mpc("update", "--wait")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
            self.proc = None

    def mpc(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(["mpc", "--host", self.socket, *args], capture_output=True, text=True, timeout=20)

    def playlist(self) -> list[str]:
        return [x for x in self.mpc("playlist", "-f", "%file%").stdout.splitlines() if x]

    def status(self) -> dict[str, str]:
        import mpd

        c = mpd.MPDClient()
        c.connect(self.socket)
        try:
            return c.status()
        finally:
            c.disconnect()


@contextlib.contextmanager
def running_host(server: Mpd, tmp_path: Path, keep: int):
    """The MPD host on its own thread with a fresh library database; stopped (and checked) after."""
    from player_plugin.hosts.mpd import MpdHost, MpdTarget

    engine = Engine(Database(tmp_path / "library.db"))
    host = MpdHost(engine, MpdTarget(server.socket), keep=keep, backoff=(0.2, 1.0))
    thread = threading.Thread(target=host.run, daemon=True)
    thread.start()
    try:
        yield host, engine
    finally:
        host.stop()
        thread.join(10)
        engine.close()
    assert not thread.is_alive()


@pytest.fixture
def server(tmp_path):
    s = Mpd(tmp_path / "mpd")
    s.start()
    yield s
    s.stop()


def test_the_host_fills_mpds_queue_and_learns_its_plays_and_skips(server, tmp_path):
    from player_plugin.hosts.mpd import CHANNEL

    with running_host(server, tmp_path, keep=3) as (host, engine):
        wait_for(host.connected.is_set, "the host to connect, scan and embed", timeout=180)
        wait_for(lambda: len(server.playlist()) >= 3, "the queue to be filled")  # an empty queue: 3 picks
        mine = "Elena Voss/Nocturnes for Empty Rooms/04 Étude for the Last Train.ogg"
        assert mine not in server.playlist()
        server.mpc("add", mine)  # the user's own song, at the end
        server.mpc("play", "1")
        first = server.playlist()[0]
        wait_for(lambda: server.status().get("state") == "play", "playback")
        wait_for(lambda: len(server.playlist()) - int(server.status()["song"]) - 1 >= 3, "a top-up after the current")
        assert server.playlist().index(mine) == 3 and server.playlist()[0] == first  # nothing moved

        db = Database(tmp_path / "library.db")

        def rows() -> list[tuple[str, float | None]]:
            return [(r[0], r[1]) for r in db.conn.execute("SELECT kind, position_s FROM events ORDER BY id")]

        time.sleep(1.0)
        server.mpc("next")  # before the end: a skip
        wait_for(lambda: any(k == "skip" for k, _ in rows()), "the skip to be stored")
        skip_pos = next(p for k, p in rows() if k == "skip")
        assert skip_pos is not None and skip_pos < 10
        wait_for(
            lambda: server.status().get("state") == "play" and float(server.status().get("elapsed", 0)) > 0.2,
            "the next song",
        )
        duration = float(server.status()["duration"])
        server.mpc("seek", str(int(duration) - 2))  # let it play out
        wait_for(lambda: any(k == "complete" for k, _ in rows()), "the played-out song stored as complete", timeout=20)
        wait_for(lambda: len(server.playlist()) - int(server.status()["song"]) - 1 >= 3, "the queue topped up again")
        assert server.playlist().index(mine) == 3

        before = server.playlist()
        song = int(server.status()["song"])
        prompt = subprocess.run(  # a prompt, live, through MPD
            [sys.executable, "-m", "player_plugin.cli", "prompt", "rainy night", "--socket", server.socket],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert prompt.returncode == 0, prompt.stderr
        wait_for(lambda: engine.prompt == "rainy night", "the prompt to reach the engine")
        wait_for(lambda: server.playlist()[song + 1 :] != before[song + 1 :], "our songs replaced for the new wish")
        wait_for(lambda: len(server.playlist()) - int(server.status()["song"]) - 1 >= 3, "the queue refilled")
        assert server.playlist()[: song + 1] == before[: song + 1] and mine in server.playlist()  # the user's stay
        server.mpc("sendmessage", CHANNEL, "")  # an empty message clears it
        wait_for(lambda: engine.prompt is None, "the prompt to clear")
        server.mpc("stop")  # the user stops: the host must not start playback again
        time.sleep(1.5)
        assert server.status()["state"] == "stop"

        assert not our_socket_inodes() & listening_tcp_inodes()  # nothing of ours listens on TCP

        server.stop()  # MPD goes away and comes back: the host reconnects
        wait_for(lambda: not host.connected.is_set(), "the host to notice")
        server.start()
        wait_for(lambda: host.reconnects >= 1 and host.connected.is_set(), "the host to reconnect")


def test_the_mpd_command_stops_cleanly_on_sigterm(server, tmp_path):
    proc = subprocess.Popen(
        [sys.executable, "-m", "player_plugin.cli", "--db", str(tmp_path / "library.db"), "mpd", "--socket",
         server.socket, "--keep", "2"],
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        wait_for(lambda: len(server.playlist()) >= 2, "the command to fill MPD's queue", timeout=180)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    err = proc.stderr.read()
    proc.stderr.close()
    assert "Traceback" not in err and "keeping 2 songs queued" in err


AUDIO = (".mp3", ".flac", ".ogg", ".opus", ".m4a")


def _newcomers(music: Path) -> list[str]:
    """A copy of every demo song under ``Newcomers/``, each retagged as a song of its own (another
    title and artist: not the same recording); their URIs (paths under ``music``)."""
    import mutagen

    uris = []
    for src in sorted(p for p in demo_library_dir().rglob("*") if p.suffix in AUDIO):
        dest = music / "Newcomers" / src.parent.name / src.name
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dest)
        audio = mutagen.File(dest, easy=True)
        audio["title"], audio["artist"] = f"New {audio['title'][0]}", "The Newcomers"
        audio.save()
        uris.append(dest.relative_to(music).as_posix())
    return uris


def test_songs_mpd_has_not_read_are_never_queued_and_its_update_brings_them_in(server, tmp_path):
    """A file on disk that MPD's database does not hold yet (no ``mpc update`` since it came) is in our
    library but MPD refuses to queue it: such songs are not picked (before, a pick of one made MPD
    refuse the ``addid`` and the host reconnected over and over, the queue never filled). MPD's own
    update then brings them in without a restart."""
    newcomers = _newcomers(server.music)  # on disk, not in MPD's database
    with running_host(server, tmp_path, keep=5) as (host, engine):
        wait_for(host.connected.is_set, "the host to connect, scan and embed", timeout=240)
        wait_for(lambda: len(server.playlist()) >= 5, "the queue to be filled")
        time.sleep(1.0)
        assert host.reconnects == 0
        assert not set(server.playlist()) & set(newcomers)
        assert engine.library_counts().tracks == 2 * len(newcomers)  # our scan read them all
        assert len(host.unplayable) == len(newcomers)

        server.mpc("update", "--wait")  # MPD reads them: the host follows its database
        wait_for(lambda: not host.unplayable, "the host to sync with MPD's new database", timeout=120)
        server.mpc("clear")  # every pick may now be a newcomer
        wait_for(lambda: len(server.playlist()) >= 5, "the queue to be filled again")
        assert host.reconnects == 0

        (server.music / newcomers[0]).unlink()  # gone from disk and, after MPD's update, from its database
        server.mpc("update", "--wait")
        wait_for(lambda: engine.library_counts().tracks == 2 * len(newcomers) - 1, "the library to follow", 120)
        # the host maps URIs once its scan is done (hosts/mpd.py sync_library): the count drops first
        wait_for(lambda: newcomers[0] not in host._ids, "the host to map MPD's new database", 30)
        assert not host.unplayable and host.reconnects == 0


def test_the_tracks_of_a_cue_sheet_are_mpds_tracks_of_it(server, tmp_path):
    """An image and its CUE sheet: MPD lists the sheet's tracks as ``….cue/trackNNNN``, which is what
    our library names them, so they can be queued and their plays land on the right track."""
    folder = server.music / "Image Album"
    make_image(folder / "CDImage.flac", (440, 550), 6.0)
    (folder / "CDImage.cue").write_text(
        'PERFORMER "Imogen"\nTITLE "Image"\nFILE "CDImage.flac" WAVE\n  TRACK 01 AUDIO\n    TITLE "Side A"\n'
        '    INDEX 01 00:00:00\n  TRACK 02 AUDIO\n    TITLE "Side B"\n    INDEX 01 00:06:00\n',
        encoding="utf-8",
    )
    server.mpc("update", "--wait")
    with running_host(server, tmp_path, keep=2) as (host, engine):
        wait_for(host.connected.is_set, "the host to connect, scan and embed", timeout=180)
        side_b = next(t for t in engine.tracks.iter_all() if t.tags.title == "Side B")
        uri = "Image Album/CDImage.cue/track0002"
        assert host._uris[side_b.id] == uri and side_b.id not in host.unplayable
        server.mpc("clear")
        server.mpc("add", uri)
        server.mpc("play", str(server.playlist().index(uri) + 1))  # the host may have topped up after the clear
        db = Database(tmp_path / "library.db")
        wait_for(
            lambda: db.conn.execute(
                "SELECT 1 FROM events WHERE kind = 'play' AND track_id = ?", (side_b.id,)
            ).fetchone(),
            "the play of the sheet's track to be stored on it",
        )


def test_a_sheet_mpd_has_no_songs_for_plays_as_ranges_of_the_image(tmp_path):
    """A sheet in the image's tags (MPD lists only the whole file then): each track is queued as the
    image with MPD's ``rangeid`` set to its stretch, and its plays land on it, also after MPD restarts."""
    import mpd
    import mutagen

    s = Mpd(tmp_path / "mpd")
    shutil.rmtree(s.music)
    image = make_image(s.music / "Image Album" / "Embedded.flac", (440, 550, 660), 6.0)
    audio = mutagen.File(image)
    audio["CUESHEET"] = 'FILE "CDImage.wav" WAVE\n' + "".join(
        f'  TRACK 0{n} AUDIO\n    TITLE "Part {n}"\n    INDEX 01 00:{6 * n - 6:02d}:00\n' for n in (1, 2, 3)
    )
    audio.save()
    s.start()
    try:
        with running_host(s, tmp_path, keep=2) as (host, engine):
            wait_for(host.connected.is_set, "the host to connect, scan and embed", timeout=180)
            parts = {t.tags.title: t for t in engine.tracks.iter_all()}
            assert set(parts) == {"Part 1", "Part 2", "Part 3"} and not host.unplayable
            wait_for(lambda: len(s.playlist()) >= 2, "the queue to be filled")
            c = mpd.MPDClient()
            c.connect(s.socket)
            try:
                queued = c.playlistinfo()
                assert {q["file"] for q in queued} == {"Image Album/Embedded.flac"}
                ranges = {q["range"] for q in queued}
                assert ranges <= {"0.000-6.000", "6.000-12.000", "12.000-"}, ranges
                first = next(t for t in parts.values() if f"{t.start_s:.3f}" == queued[0]["range"].split("-")[0])
                c.playid(queued[0]["id"])
            finally:
                c.disconnect()
            db = Database(tmp_path / "library.db")
            played = "SELECT track_id FROM events WHERE kind = 'play'"
            wait_for(lambda: [r[0] for r in db.conn.execute(played)] == [first.id], "the play stored on its track")

            s.stop()  # MPD restarts with its queue restored under new song ids
            wait_for(lambda: not host.connected.is_set(), "the host to notice")
            s.start()
            wait_for(lambda: host.reconnects >= 1 and host.connected.is_set(), "the host to reconnect")
            c = mpd.MPDClient()
            c.connect(s.socket)
            try:
                now_queued = c.playlistinfo()
            finally:
                c.disconnect()
            by_start = {f"{t.start_s:.3f}": t.id for t in parts.values()}
            assert host._ranged == {q["id"]: by_start[q["range"].split("-")[0]] for q in now_queued}
    finally:
        s.stop()
