"""MPRIS (org.mpris.MediaPlayer2) over the D-Bus session bus, so media keys and desktop
controls work and other tools see what is playing. Without a session bus this does nothing.
"""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import ClassInfo, Property, QObject, Slot

if TYPE_CHECKING:
    from PySide6.QtWidgets import QWidget

    from player_plugin.ui.engine_bridge import EngineSignals
    from player_plugin.ui.player_controller import PlayerController

log = logging.getLogger(__name__)

SERVICE = "org.mpris.MediaPlayer2.player_plugin"
_connections = 0
OBJECT_PATH = "/org/mpris/MediaPlayer2"

try:
    from PySide6.QtDBus import QDBusAbstractAdaptor, QDBusConnection, QDBusMessage
except ImportError:  # pragma: no cover - QtDBus is part of PySide6-Essentials
    QDBusAbstractAdaptor = None  # type: ignore[assignment,misc]


def start_mpris(player: PlayerController, signals: EngineSignals, window: QWidget) -> Mpris | None:
    """Register on the session bus; None (quietly) where there is no bus or the name is taken.

    ``player`` is what plays and is controlled; ``window`` is what Raise shows and Quit closes."""
    if QDBusAbstractAdaptor is None or os.environ.get("PLAYER_PLUGIN_NO_MPRIS"):
        return None
    global _connections
    if not os.environ.get("DBUS_SESSION_BUS_ADDRESS") and not os.path.exists(f"/run/user/{os.getuid()}/bus"):
        log.info("MPRIS off: no D-Bus session bus")
        return None
    try:
        # A named connection of our own (not the process-wide sessionBus(), which stays
        # disconnected forever once a first attempt failed).
        _connections += 1
        name = f"player_plugin_mpris_{_connections}"
        # By address when we know it: libdbus remembers the first session address it saw.
        address = os.environ.get("DBUS_SESSION_BUS_ADDRESS")
        if address:
            bus = QDBusConnection.connectToBus(address, name)
        else:
            bus = QDBusConnection.connectToBus(QDBusConnection.BusType.SessionBus, name)
        if not bus.isConnected():
            QDBusConnection.disconnectFromBus(name)
            log.info("MPRIS off: no D-Bus session bus")
            return None
        return Mpris(player, signals, window, bus)
    except Exception as exc:  # noqa: BLE001 - desktop integration must never stop the app
        log.warning("MPRIS off: %s", exc)
        return None


if QDBusAbstractAdaptor is not None:

    @ClassInfo({"D-Bus Interface": "org.mpris.MediaPlayer2"})
    class _RootAdaptor(QDBusAbstractAdaptor):
        def __init__(self, holder: QObject, window: QWidget) -> None:
            super().__init__(holder)
            self._window = window

        @Slot()
        def Raise(self) -> None:  # noqa: N802 - D-Bus names
            self._window.showNormal()
            self._window.raise_()
            self._window.activateWindow()

        @Slot()
        def Quit(self) -> None:  # noqa: N802
            self._window.close()

        CanQuit = Property(bool, lambda self: True)
        CanRaise = Property(bool, lambda self: True)
        HasTrackList = Property(bool, lambda self: False)
        Identity = Property(str, lambda self: "Player Plugin")
        DesktopEntry = Property(str, lambda self: "player-plugin")
        SupportedUriSchemes = Property("QStringList", lambda self: ["file"])
        SupportedMimeTypes = Property(
            "QStringList",
            lambda self: ["audio/mpeg", "audio/flac", "audio/ogg", "audio/opus", "audio/mp4", "audio/x-wav"],
        )

    @ClassInfo({"D-Bus Interface": "org.mpris.MediaPlayer2.Player"})
    class _PlayerAdaptor(QDBusAbstractAdaptor):
        def __init__(self, holder: QObject, player: PlayerController) -> None:
            super().__init__(holder)
            self._player = player

        @Slot()
        def Next(self) -> None:  # noqa: N802
            self._player.next_track()

        @Slot()
        def Previous(self) -> None:  # noqa: N802
            self._player.previous_track()

        @Slot()
        def Pause(self) -> None:  # noqa: N802
            self._player.playback.pause()

        @Slot()
        def PlayPause(self) -> None:  # noqa: N802
            self._player.toggle_play()

        @Slot()
        def Stop(self) -> None:  # noqa: N802
            self._player.playback.pause()
            self._player.playback.seek(0)

        @Slot()
        def Play(self) -> None:  # noqa: N802
            self._player.play()

        @Slot("qlonglong")
        def Seek(self, offset_us: int) -> None:  # noqa: N802
            pb = self._player.playback
            pb.seek(max(0, pb.position_ms() + offset_us // 1000))

        def _status(self) -> str:
            p = self._player
            if p.current is None:
                return "Stopped"
            return "Playing" if p.playback.is_playing() else "Paused"

        def _metadata(self) -> dict[str, Any]:
            return _metadata(self._player)

        PlaybackStatus = Property(str, _status)
        LoopStatus = Property(str, lambda self: "None")
        Rate = Property(float, lambda self: 1.0)
        MinimumRate = Property(float, lambda self: 1.0)
        MaximumRate = Property(float, lambda self: 1.0)
        Shuffle = Property(bool, lambda self: False)
        Metadata = Property("QVariantMap", _metadata)
        Volume = Property(float, lambda self: self._player.playback.volume())
        Position = Property("qlonglong", lambda self: self._player.playback.position_ms() * 1000)
        CanGoNext = Property(bool, lambda self: True)
        CanGoPrevious = Property(bool, lambda self: True)
        CanPlay = Property(bool, lambda self: True)
        CanPause = Property(bool, lambda self: True)
        CanSeek = Property(bool, lambda self: True)
        CanControl = Property(bool, lambda self: True)


def _metadata(player: PlayerController) -> dict[str, Any]:
    t = player.current
    if t is None:
        return {}
    meta: dict[str, Any] = {
        "mpris:trackid": f"/org/player_plugin/track/{t.id}",
        "mpris:length": int(t.tags.duration_s * 1_000_000),
        "xesam:title": t.tags.title,
        "xesam:artist": list(t.tags.artists),
        "xesam:url": "file://" + t.file_path,
    }
    if t.tags.album:
        meta["xesam:album"] = t.tags.album
    if t.tags.genres:
        meta["xesam:genre"] = list(t.tags.genres)
    return meta


class Mpris(QObject):
    def __init__(self, player: PlayerController, signals: EngineSignals, window: QWidget, bus: Any) -> None:
        super().__init__(window)
        self._bus = bus
        self._root = _RootAdaptor(self, window)
        self._player = _PlayerAdaptor(self, player)
        if not bus.registerObject(OBJECT_PATH, self, QDBusConnection.RegisterOption.ExportAdaptors):
            raise RuntimeError(f"cannot register {OBJECT_PATH}: {bus.lastError().message()}")
        name = SERVICE if bus.registerService(SERVICE) else f"{SERVICE}.instance{os.getpid()}"
        if name != SERVICE and not bus.registerService(name):
            bus.unregisterObject(OBJECT_PATH)
            raise RuntimeError(f"cannot take a bus name: {bus.lastError().message()}")
        self.service = name
        self.connection_name = bus.name()
        # What plays and whether it plays: from the engine and the player controller.
        signals.now_playing_changed.connect(lambda _t: self._changed({"Metadata": _metadata(player)}))
        player.now_playing_changed.connect(lambda _t: self._changed({"Metadata": _metadata(player)}))
        player.playback.playing_changed.connect(lambda _p: self.playback_changed())

    def playback_changed(self) -> None:
        self._changed({"PlaybackStatus": self._player._status()})

    def _changed(self, props: dict[str, Any]) -> None:
        try:
            msg = QDBusMessage.createSignal(OBJECT_PATH, "org.freedesktop.DBus.Properties", "PropertiesChanged")
            msg.setArguments(["org.mpris.MediaPlayer2.Player", props, []])
            self._bus.send(msg)
        except Exception as exc:  # noqa: BLE001
            log.debug("MPRIS signal failed: %s", exc)

    def close(self) -> None:
        try:
            self._bus.unregisterObject(OBJECT_PATH)
            self._bus.unregisterService(self.service)
            QDBusConnection.disconnectFromBus(self.connection_name)
        except Exception:  # noqa: BLE001
            pass
