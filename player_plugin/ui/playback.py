"""Audio playback behind one small interface, so the window never cares which backend runs.

``QMediaPlayer`` + ``QAudioOutput`` (PySide6-Addons, FFmpeg backend) when QtMultimedia imports;
otherwise a silent clock that walks through the track's duration, so the listening session (and
its play/skip/complete events) still works and the window says why there is no sound.

A track of a CUE sheet is a stretch of its audio file (``load(…, start_s, end_s)``): positions,
the duration and seeks are the track's own, and at its end the player pauses and says ``ended``.
The next track of the same image starts where the player is, with no reload (no gap).
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, QTimer, QUrl, Signal

log = logging.getLogger(__name__)

SAME_PLACE_MS = 500  # the next track of an image this close to where the player is: go on, no seek


class Playback(QObject):
    position_changed = Signal(int)  # ms
    duration_changed = Signal(int)  # ms
    playing_changed = Signal(bool)
    ended = Signal()
    error = Signal(str)

    def __init__(self, parent: QObject | None = None, *, silent: bool = False) -> None:
        super().__init__(parent)
        self.note = ""  # why audio is missing or degraded, for the status bar
        self.backend = "silent"
        self._player = None
        self._audio = None
        self._volume = 0.8
        self._gain = 1.0  # the loaded track's levelling factor (levelling.py): the output plays volume × gain
        self._playing = False
        # Silent clock state.
        self._pos = 0
        self._dur = 0
        self._pending_seek: int | None = None  # a seek asked for before the media could seek
        # The loaded track's stretch of its file (a CUE sheet's track), in the file's own ms
        self._source = ""
        self._start_ms = 0
        self._end_ms: int | None = None
        self._end_sent = False
        self._timer = QTimer(self)
        self._timer.setInterval(200)
        self._timer.timeout.connect(self._tick)
        if silent:
            self.note = "Audio disabled: playback is silent"
            return
        try:
            from PySide6.QtMultimedia import QAudioOutput, QMediaDevices, QMediaPlayer
        except ImportError as exc:  # e.g. libpulse.so.0 missing
            self.note = f"No audio: QtMultimedia unavailable ({exc}); playback is silent"
            log.warning(self.note)
            return
        try:
            self._player = QMediaPlayer(self)
            # The output must be parented to the player: an unparented one collected while the
            # player lives crashes at exit.
            self._audio = QAudioOutput(self._player)
            self._player.setAudioOutput(self._audio)
            self._audio.setVolume(self.output_volume())
        except Exception as exc:  # noqa: BLE001 - any backend failure means "silent"
            self.note = f"No audio: cannot create a media player ({exc}); playback is silent"
            log.warning(self.note)
            self._player = None
            return
        self.backend = "qtmultimedia"
        if not QMediaDevices.audioOutputs():
            self.note = "No audio output device found: playing without sound"
        self._QMediaPlayer = QMediaPlayer
        self._player.positionChanged.connect(self._on_position)
        self._player.durationChanged.connect(lambda _ms: self.duration_changed.emit(self.duration_ms()))
        self._player.playbackStateChanged.connect(self._on_state)
        self._player.mediaStatusChanged.connect(self._on_status)
        self._player.errorOccurred.connect(self._on_error)

    # -- control -----------------------------------------------------------------------------------

    def load(self, path: str, duration_s: float = 0.0, start_s: float = 0.0, end_s: float | None = None) -> None:
        """Load ``path`` (of ``duration_s`` as the library knows it); a CUE sheet's track plays from
        ``start_s`` to ``end_s`` (None: the end of the file)."""
        self._dur = int(duration_s * 1000)
        self._pos = 0
        self._pending_seek = None
        self._start_ms = int(round(start_s * 1000))
        self._end_ms = None if end_s is None else int(round(end_s * 1000))
        self._end_sent = False
        stretch = bool(self._start_ms) or self._end_ms is not None
        same_file, self._source = path == self._source, path
        if self._player is not None:
            status, media = self._player.mediaStatus(), self._QMediaPlayer.MediaStatus
            ready = status in (media.LoadedMedia, media.BufferingMedia, media.BufferedMedia)  # not at its end
            if stretch and same_file and ready:
                # The next track of an image: go on from where the player is if that is its start
                if abs(int(self._player.position()) - self._start_ms) > SAME_PLACE_MS:
                    self.seek(0)
                self.duration_changed.emit(self.duration_ms())
                return
            if self.is_playing():
                self._player.pause()  # switching sources mid-play is where the backend is touchiest
            self._player.setSource(QUrl.fromLocalFile(path))
            if self._start_ms:
                self.seek(0)
        else:
            self.duration_changed.emit(self._dur)
            self.position_changed.emit(0)

    def play(self) -> None:
        if self._player is not None:
            self._player.play()
        else:
            self._timer.start()
            self._set_playing(True)

    def pause(self) -> None:
        if self._player is not None:
            self._player.pause()
        else:
            self._timer.stop()
            self._set_playing(False)

    def stop(self) -> None:
        if self._player is not None:
            self._player.stop()
            self._player.setSource(QUrl())
            self._source = ""
        else:
            self._timer.stop()
            self._pos = 0
            self._set_playing(False)

    def shutdown(self) -> None:
        """Silence for good at exit. Only pause: ``stop()``/``setSource()`` on the FFmpeg backend
        was seen to deadlock now and then when a file was still loading (no audio device, 6.11)."""
        if self._player is not None:
            if self._audio is not None:
                self._audio.setMuted(True)
            self._player.pause()
        else:
            self._timer.stop()
            self._set_playing(False)

    def toggle(self) -> None:
        self.pause() if self.is_playing() else self.play()

    def seek(self, ms: int) -> None:
        """Go to ``ms`` into the loaded track."""
        if self._player is not None:
            ms = self._start_ms + max(0, int(ms))
            loading = (self._QMediaPlayer.MediaStatus.NoMedia, self._QMediaPlayer.MediaStatus.LoadingMedia)
            if self._player.mediaStatus() not in loading:
                self._player.setPosition(int(ms))
            else:
                # Just after load the FFmpeg backend drops positions set while it loads (the
                # duration shown is the tags' meanwhile): keep it until the media is loaded.
                self._pending_seek = int(ms)
        else:
            self._pos = max(0, min(int(ms), self._dur))
            self.position_changed.emit(self._pos)

    def set_volume(self, value: float) -> None:
        """The listener's volume (the slider), 0..1."""
        self._volume = max(0.0, min(1.0, value))
        self._apply_volume()

    def set_gain(self, factor: float) -> None:
        """The levelling factor of the loaded track (levelling.gain); 1.0 plays it as it is."""
        self._gain = max(0.0, float(factor))
        self._apply_volume()

    def output_volume(self) -> float:
        """What the audio output plays at: the volume times the gain, at most full volume (a gain above 1
        is applied only as far as the volume leaves room)."""
        return min(1.0, self._volume * self._gain)

    def _apply_volume(self) -> None:
        if self._audio is not None:
            self._audio.setVolume(self.output_volume())

    # -- state -------------------------------------------------------------------------------------

    def volume(self) -> float:
        return self._volume

    def is_playing(self) -> bool:
        if self._player is not None:
            return self._player.playbackState() == self._QMediaPlayer.PlaybackState.PlayingState
        return self._playing

    def position_ms(self) -> int:
        if self._player is None:
            return self._pos
        into = max(0, int(self._player.position()) - self._start_ms)
        return into if self._end_ms is None else min(into, self._end_ms - self._start_ms)

    def duration_ms(self) -> int:
        if self._player is not None and not self._start_ms and self._end_ms is None:
            return int(self._player.duration()) or self._dur
        return self._dur  # a stretch of a file: its length as the CUE sheet gives it

    # -- backend events ----------------------------------------------------------------------------

    def _set_playing(self, playing: bool) -> None:
        if playing != self._playing:
            self._playing = playing
            self.playing_changed.emit(playing)

    def _on_state(self, state) -> None:
        self._set_playing(state == self._QMediaPlayer.PlaybackState.PlayingState)

    def _on_position(self, ms: int) -> None:
        if self._end_ms is not None and ms >= self._end_ms and not self._end_sent:
            # The end of a CUE sheet's track: stop there (the next track, if it follows, goes on from here)
            self._end_sent = True
            self._player.pause()
            self.position_changed.emit(self.duration_ms())
            self.ended.emit()
            return
        if not self._end_sent:
            self.position_changed.emit(max(0, int(ms) - self._start_ms))

    def _on_status(self, status) -> None:
        loaded = (self._QMediaPlayer.MediaStatus.LoadedMedia, self._QMediaPlayer.MediaStatus.BufferedMedia)
        if status in loaded and self._pending_seek is not None:
            # the FFmpeg backend says "seekable" while still loading and drops positions set then
            self._player.setPosition(self._pending_seek)
            self._pending_seek = None
        if status == self._QMediaPlayer.MediaStatus.EndOfMedia and not self._end_sent:
            self._end_sent = True
            self.ended.emit()
        elif status == self._QMediaPlayer.MediaStatus.InvalidMedia:
            self.error.emit(self._player.errorString() or "cannot play this file")

    def _on_error(self, _error, message: str = "") -> None:
        self.error.emit(message or (self._player.errorString() if self._player else "playback error"))

    def _tick(self) -> None:
        self._pos += self._timer.interval()
        if self._dur and self._pos >= self._dur:
            self._pos = self._dur
            self.position_changed.emit(self._pos)
            self._timer.stop()
            self._set_playing(False)
            self.ended.emit()
            return
        self.position_changed.emit(self._pos)
