"""The lyrics of the track playing, in a window of their own that follows the track.

They are the library's lyrics (embedded in the file, or a ``.lrc``/``.txt`` sidecar: the scan reads
them, library/lyrics.py), shown as plain text; the window only displays.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QDialog, QLabel, QPlainTextEdit, QVBoxLayout, QWidget

from player_plugin.models import Track
from player_plugin.ui.player_controller import PlayerController
from player_plugin.ui.text import artist_or_file

NO_TRACK = "Nothing playing"
NO_LYRICS = (
    "No lyrics for this track in the library. Put them in its tags, or beside the file as a .lrc or "
    ".txt of the same name, and they are read at the next scan."
)
LYRICS_POINT_SIZE_STEP = 2  # the lyrics a little larger than the window's text
WINDOW_SIZE = (420, 560)


class LyricsWindow(QDialog):
    """Follows ``player`` (ui/player_controller.PlayerController): its track now, and each one after."""

    def __init__(self, player: PlayerController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("lyricsWindow")
        self.setWindowTitle("Lyrics")
        self.setModal(False)
        self.resize(*WINDOW_SIZE)
        lay = QVBoxLayout(self)
        self.heading = QLabel(NO_TRACK)
        self.heading.setObjectName("lyricsHeading")
        self.heading.setWordWrap(True)
        self.heading.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.text = QPlainTextEdit()
        self.text.setObjectName("lyricsText")
        self.text.setReadOnly(True)
        font = QFont(self.text.font())
        font.setPointSize(font.pointSize() + LYRICS_POINT_SIZE_STEP)
        self.text.setFont(font)
        lay.addWidget(self.heading)
        lay.addWidget(self.text, 1)
        player.now_playing_changed.connect(self.show_track)
        self.show_track(player.current)

    def show_track(self, track: Track | None) -> None:
        """Show ``track``'s lyrics (None: nothing plays)."""
        if track is None:
            self.heading.setText(NO_TRACK)
            self.text.setPlainText("")
            return
        self.heading.setText(f"{track.tags.title} — {artist_or_file(track)}")
        self.text.setPlainText(track.lyrics or NO_LYRICS)
        self.text.moveCursor(self.text.textCursor().MoveOperation.Start)
