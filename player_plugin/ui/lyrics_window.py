"""The lyrics of the track playing, in a window of their own that follows the track.

They are the library's lyrics (embedded in the file, or a ``.lrc``/``.txt`` sidecar: the scan reads
them, library/lyrics.py). Lyrics from an ``.lrc`` sidecar follow the song: its time stamps are read
from the file when the track loads (library/lrc_timing.py), and the line being sung is marked and
kept in the middle of the window. The window only displays.
"""

from __future__ import annotations

import bisect
import os

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import QDialog, QLabel, QPlainTextEdit, QTextEdit, QVBoxLayout, QWidget

from player_plugin.library.lrc_timing import read_embedded_timed_lyrics, read_timed_lyrics
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
LINE_MARK_LIGHTER = 170  # the sung line's background: the highlight colour this much lighter (percent)


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
        self._starts: list[int] = []  # ms at which each line of a timed text starts
        self._line = -1  # the line marked
        player.now_playing_changed.connect(self.show_track)
        player.playback.position_changed.connect(self.show_position)
        self.show_track(player.current)

    @classmethod
    def opened(cls, window: LyricsWindow | None, player: PlayerController, parent: QWidget) -> LyricsWindow:
        """``window`` (or, the first time, a new one that follows ``player`` from now on), shown in front."""
        window = window or cls(player, parent)
        window.show()
        window.raise_()
        return window

    def show_track(self, track: Track | None) -> None:
        """Show ``track``'s lyrics (None: nothing plays)."""
        if track is None:
            self.heading.setText(NO_TRACK)
            self.text.setPlainText("")
            return
        self.heading.setText(f"{track.tags.title} — {artist_or_file(track)}")
        timed = _timed(track)
        self._starts, self._line = [t for t, _ in timed], -1
        self.text.setExtraSelections([])
        self.text.setPlainText("\n".join(line for _, line in timed) if timed else track.lyrics or NO_LYRICS)
        self.text.moveCursor(QTextCursor.MoveOperation.Start)

    @property
    def timed(self) -> bool:
        """Whether the lyrics shown follow the song."""
        return bool(self._starts)

    @property
    def sung_line(self) -> int:
        """The line marked as being sung (-1: none yet)."""
        return self._line

    def show_position(self, ms: int) -> None:
        """Mark the line being sung at ``ms`` into the track, and keep it in view."""
        if not self._starts:
            return
        line = bisect.bisect_right(self._starts, ms) - 1
        if line == self._line:
            return
        self._line = line
        if line < 0:
            self.text.setExtraSelections([])
            return
        mark = QTextEdit.ExtraSelection()
        mark.cursor = QTextCursor(self.text.document().findBlockByNumber(line))
        fmt = QTextCharFormat()
        fmt.setFontWeight(QFont.Weight.Bold)
        fmt.setBackground(self.palette().highlight().color().lighter(LINE_MARK_LIGHTER))
        fmt.setProperty(QTextCharFormat.Property.FullWidthSelection, True)
        mark.format = fmt
        self.text.setExtraSelections([mark])
        self.text.setTextCursor(mark.cursor)
        self.text.centerCursor()


def _timed(track: Track) -> list[tuple[int, str]]:
    """The timed lines of the track's lyrics, read again from where the scan took them (its ``.lrc``
    sidecar, or its tags); [] when they carry no times."""
    source = track.lyrics_source or ""
    if not track.lyrics:
        return []
    if source == "embedded" and not track.is_segment:  # an image's own lyrics are no track's
        return read_embedded_timed_lyrics(track.file_path)
    if source.lower().endswith(".lrc"):
        return read_timed_lyrics(os.path.join(os.path.dirname(track.file_path), source))
    return []
