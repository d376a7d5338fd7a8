"""The now-playing header: cover, title / artist / album, transport, position, volume, Like / Not for me.

It only displays and reports: its buttons and sliders are signals, what to show comes in by
``show_track``, ``show_position``, ``show_duration`` and ``show_playing``.
"""

from __future__ import annotations

import hashlib

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QIcon, QLinearGradient, QPainter, QPixmap
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QStyle,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from player_plugin.models import Track
from player_plugin.ui.cover import find_cover
from player_plugin.ui.library_model import format_duration
from player_plugin.ui.text import artist_or_file

# Text the now-playing labels are sized for once, so a CJK title (drawn with a taller fallback font)
# does not make the header jump.
HEIGHT_SAMPLE = "Ág 雨夜的信 Ág"
COVER_PX = 96
IDLE_TITLE = "Nothing playing"
IDLE_HINT = "Double-click a track, or press Space to start Up Next"


class NowPlayingPanel(QFrame):
    previous_clicked = Signal()
    play_clicked = Signal()
    next_clicked = Signal()
    like_clicked = Signal()
    dislike_clicked = Signal()
    seek_requested = Signal(int)  # ms, when the position slider is let go
    volume_changed = Signal(float)  # 0..1

    def __init__(self, volume: float, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("nowPlaying")
        self._slider_held = False
        lay = QHBoxLayout(self)
        lay.setContentsMargins(12, 10, 14, 10)
        lay.setSpacing(14)

        self.cover_label = QLabel()
        self.cover_label.setObjectName("cover")
        self.cover_label.setFixedSize(COVER_PX, COVER_PX)
        self.cover_label.setPixmap(placeholder_cover("", COVER_PX))
        lay.addWidget(self.cover_label)

        info = QVBoxLayout()
        info.setSpacing(2)
        self.title_label = QLabel(IDLE_TITLE)
        self.title_label.setObjectName("npTitle")
        self.artist_label = QLabel(IDLE_HINT)
        self.artist_label.setObjectName("npArtist")
        self.album_label = QLabel("")
        self.album_label.setObjectName("npAlbum")
        for lbl in (self.title_label, self.artist_label, self.album_label):
            lbl.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            lbl.setMinimumWidth(80)
        info.addStretch(1)
        info.addWidget(self.title_label)
        info.addWidget(self.artist_label)
        info.addWidget(self.album_label)
        info.addSpacing(6)
        info.addLayout(self._build_controls())
        info.addStretch(1)
        lay.addLayout(info, 1)
        lay.addLayout(self._build_side(volume))

        self.prev_button.clicked.connect(self.previous_clicked)
        self.play_button.clicked.connect(self.play_clicked)
        self.next_button.clicked.connect(self.next_clicked)
        self.like_button.clicked.connect(self.like_clicked)
        self.dislike_button.clicked.connect(self.dislike_clicked)
        self.volume_slider.valueChanged.connect(lambda v: self.volume_changed.emit(v / 100))
        self.position_slider.sliderPressed.connect(lambda: setattr(self, "_slider_held", True))
        self.position_slider.sliderReleased.connect(self._on_slider_released)

    def _build_controls(self) -> QHBoxLayout:
        controls = QHBoxLayout()
        controls.setSpacing(6)
        st = self.style()
        self.prev_button = _tool(st.standardIcon(QStyle.StandardPixmap.SP_MediaSkipBackward), "Previous (Ctrl+Left)")
        self.play_button = _tool(st.standardIcon(QStyle.StandardPixmap.SP_MediaPlay), "Play/Pause (Space)")
        self.play_button.setObjectName("playButton")
        self.play_button.setIconSize(QSize(26, 26))
        self.next_button = _tool(st.standardIcon(QStyle.StandardPixmap.SP_MediaSkipForward), "Next (Ctrl+Right)")
        self.elapsed_label = QLabel("0:00")
        self.elapsed_label.setObjectName("timeLabel")
        self.position_slider = QSlider(Qt.Orientation.Horizontal)
        self.position_slider.setObjectName("positionSlider")
        self.position_slider.setRange(0, 0)
        self.total_label = QLabel("0:00")
        self.total_label.setObjectName("timeLabel")
        for w in (self.prev_button, self.play_button, self.next_button):
            controls.addWidget(w)
        controls.addSpacing(8)
        controls.addWidget(self.elapsed_label)
        controls.addWidget(self.position_slider, 1)
        controls.addWidget(self.total_label)
        return controls

    def _build_side(self, volume: float) -> QVBoxLayout:
        side = QVBoxLayout()
        side.setSpacing(6)
        feedback = QHBoxLayout()
        self.like_button = QPushButton("♥  Like")
        self.like_button.setObjectName("likeButton")
        self.like_button.setToolTip("Like this track (Ctrl+L): more like it in Up Next")
        self.like_button.setCheckable(True)
        self.dislike_button = QPushButton("✕  Not for me")
        self.dislike_button.setObjectName("dislikeButton")
        self.dislike_button.setToolTip("Dislike (Ctrl+D): skips it and steers Up Next away")
        feedback.addWidget(self.like_button)
        feedback.addWidget(self.dislike_button)
        side.addStretch(1)
        side.addLayout(feedback)
        vol = QHBoxLayout()
        vol_icon = QLabel()
        vol_icon.setPixmap(self.style().standardIcon(QStyle.StandardPixmap.SP_MediaVolume).pixmap(18, 18))
        self.volume_slider = QSlider(Qt.Orientation.Horizontal)
        self.volume_slider.setObjectName("volumeSlider")
        self.volume_slider.setRange(0, 100)
        self.volume_slider.setValue(int(volume * 100))
        self.volume_slider.setFixedWidth(150)
        self.volume_slider.setToolTip("Volume")
        vol.addStretch(1)
        vol.addWidget(vol_icon)
        vol.addWidget(self.volume_slider)
        side.addLayout(vol)
        side.addStretch(1)
        return side

    def fix_line_heights(self) -> None:
        """Each line gets the height a mixed Latin/CJK line needs, measured once (after the style sheet)."""
        for label in (self.title_label, self.artist_label, self.album_label):
            label.ensurePolished()
            text = label.text()
            label.setText(HEIGHT_SAMPLE)
            height = label.sizeHint().height()
            label.setText(text)
            label.setFixedHeight(height)

    def show_track(self, track: Track | None) -> None:
        self.like_button.setChecked(False)
        if track is None:
            self.title_label.setText(IDLE_TITLE)
            self.artist_label.setText(IDLE_HINT)
            self.album_label.setText("")
            self.cover_label.setPixmap(placeholder_cover("", COVER_PX))
            return
        t = track.tags
        self.title_label.setText(t.title)
        self.artist_label.setText(artist_or_file(track))
        album = t.album or ""
        if album and t.year:
            album = f"{album} ({t.year})"
        self.album_label.setText(album)
        pix = QPixmap()
        data = find_cover(track.file_path)
        if data and pix.loadFromData(data):
            pix = pix.scaled(
                COVER_PX,
                COVER_PX,
                Qt.AspectRatioMode.KeepAspectRatioByExpanding,
                Qt.TransformationMode.SmoothTransformation,
            )
            self.cover_label.setPixmap(pix)
        else:
            self.cover_label.setPixmap(placeholder_cover(album or t.title, COVER_PX))

    def show_liked(self) -> None:
        self.like_button.setChecked(True)

    def show_position(self, ms: int) -> None:
        if not self._slider_held:
            self.position_slider.blockSignals(True)
            self.position_slider.setValue(ms)
            self.position_slider.blockSignals(False)
        self.elapsed_label.setText(format_duration(ms / 1000))

    def show_duration(self, ms: int) -> None:
        self.position_slider.setRange(0, max(0, ms))
        self.total_label.setText(format_duration(ms / 1000))

    def show_playing(self, playing: bool) -> None:
        icon = QStyle.StandardPixmap.SP_MediaPause if playing else QStyle.StandardPixmap.SP_MediaPlay
        self.play_button.setIcon(self.style().standardIcon(icon))

    def _on_slider_released(self) -> None:
        self._slider_held = False
        self.seek_requested.emit(self.position_slider.value())


def _tool(icon: QIcon, tip: str) -> QToolButton:
    b = QToolButton()
    b.setIcon(icon)
    b.setIconSize(QSize(20, 20))
    b.setToolTip(tip)
    b.setAutoRaise(True)
    return b


def placeholder_cover(seed: str, size: int) -> QPixmap:
    """A soft two-tone square with the album's initial, coloured by its name."""
    digest = hashlib.sha1(seed.encode("utf-8")).digest()
    hue = digest[0] * 360 // 256
    pix = QPixmap(size, size)
    pix.fill(Qt.GlobalColor.transparent)
    p = QPainter(pix)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    grad = QLinearGradient(0, 0, size, size)
    grad.setColorAt(0, QColor.fromHsv(hue, 90, 170))
    grad.setColorAt(1, QColor.fromHsv((hue + 40) % 360, 120, 110))
    p.setBrush(grad)
    p.setPen(Qt.PenStyle.NoPen)
    p.drawRoundedRect(0, 0, size, size, 8, 8)
    font = QFont()
    font.setPixelSize(size // 2 - 4)
    font.setBold(True)
    p.setFont(font)
    p.setPen(QColor(255, 255, 255, 210))
    initial = seed.strip()[:1].upper() if seed.strip() else "♪"
    p.drawText(pix.rect(), Qt.AlignmentFlag.AlignCenter, initial)
    p.end()
    return pix
