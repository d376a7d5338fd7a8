"""The Up Next panel: the queue list, the prompt box, Auto-fill, Refill, Remove and Save.

It displays what the Up Next controller shows it and reports the listener's requests as signals.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QCheckBox, QFrame, QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget

from player_plugin.models import QueueEntry, Track, TrackId
from player_plugin.ui.library_model import format_duration
from player_plugin.ui.queue_view import QueueView

PROMPT_PLACEHOLDER = "Describe a mood: “rainy night, no vocals”"


class UpNextPanel(QFrame):
    prompt_entered = Signal(object)  # str, or None for Clear
    refill_clicked = Signal()
    autofill_toggled = Signal(bool)
    remove_requested = Signal(int)  # queue index
    move_requested = Signal(int, int)  # src, dst
    play_requested = Signal(int)  # queue index
    save_clicked = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("upNextPanel")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(10, 8, 10, 10)
        lay.setSpacing(8)
        lay.addLayout(self._build_head())
        lay.addLayout(self._build_prompt_row())
        self.prompt_label = QLabel("")
        self.prompt_label.setObjectName("promptLabel")
        self.prompt_label.setWordWrap(True)
        self.prompt_label.setVisible(False)
        lay.addWidget(self.prompt_label)

        self.queue_view = QueueView(self)
        lay.addWidget(self.queue_view, 1)
        self.queue_notice = QLabel("")
        self.queue_notice.setObjectName("queueNotice")
        self.queue_notice.setWordWrap(True)
        self.queue_notice.setVisible(False)
        lay.addWidget(self.queue_notice)

        foot = QHBoxLayout()
        self.remove_button = QPushButton("Remove")
        self.remove_button.setObjectName("removeButton")
        self.remove_button.setToolTip("Remove the selected entry (Delete); counts as “not now” feedback")
        self.save_button = QPushButton("Save as playlist…")
        self.save_button.setObjectName("savePlaylist")
        foot.addWidget(self.remove_button)
        foot.addStretch(1)
        foot.addWidget(self.save_button)
        lay.addLayout(foot)
        self._connect()

    def _build_head(self) -> QHBoxLayout:
        head = QHBoxLayout()
        title = QLabel("Up Next")
        title.setObjectName("sectionTitle")
        self.queue_count_label = QLabel("")
        self.queue_count_label.setObjectName("dim")
        self.autofill_check = QCheckBox("Auto-fill")
        self.autofill_check.setObjectName("autofillSwitch")
        self.autofill_check.setToolTip("Keep Up Next topped up with recommendations")
        self.autofill_check.setChecked(True)
        self.refill_button = QPushButton("Refill")
        self.refill_button.setObjectName("refillButton")
        self.refill_button.setToolTip("Replace the recommended entries with fresh ones (your own additions stay)")
        head.addWidget(title)
        head.addWidget(self.queue_count_label)
        head.addStretch(1)
        head.addWidget(self.autofill_check)
        head.addWidget(self.refill_button)
        return head

    def _build_prompt_row(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.prompt_box = QLineEdit()
        self.prompt_box.setObjectName("promptBox")
        self.prompt_box.setPlaceholderText(PROMPT_PLACEHOLDER)
        self.prompt_box.setToolTip(
            "Describe a mood in any language, press Enter to steer Up Next; Clear to go back to your taste (Ctrl+P)"
        )
        self.prompt_clear = QPushButton("Clear")
        self.prompt_clear.setObjectName("promptClear")
        self.prompt_clear.setEnabled(False)
        row.addWidget(self.prompt_box, 1)
        row.addWidget(self.prompt_clear)
        return row

    def _connect(self) -> None:
        view = self.queue_view
        self.prompt_box.returnPressed.connect(lambda: self.prompt_entered.emit(self.prompt_box.text()))
        self.prompt_clear.clicked.connect(lambda: self.prompt_entered.emit(None))
        self.refill_button.clicked.connect(self.refill_clicked)
        self.autofill_check.toggled.connect(self.autofill_toggled)
        self.remove_button.clicked.connect(lambda: self.remove_requested.emit(view.currentRow()))
        self.save_button.clicked.connect(self.save_clicked)
        view.moved.connect(self.move_requested)
        view.remove_requested.connect(self.remove_requested)
        view.activated_index.connect(self.play_requested)
        play_now = QAction("Play now", view)
        play_now.triggered.connect(lambda: self.play_requested.emit(view.currentRow()))
        remove = QAction("Remove from Up Next", view)
        remove.triggered.connect(lambda: self.remove_requested.emit(view.currentRow()))
        view.addActions([play_now, remove])

    def show_entries(self, entries: list[QueueEntry], tracks: dict[TrackId, Track | None]) -> None:
        self.queue_view.set_entries(entries, tracks)
        total = sum((t.tags.duration_s for t in tracks.values() if t is not None), 0.0)
        n = len(entries)
        self.queue_count_label.setText(f"{n} tracks · {format_duration(total)}" if n else "empty")

    def show_prompt(self, text: str | None, *, fill_box: bool = False) -> None:
        """The prompt Up Next follows (None: none); ``fill_box`` also puts it in the box (at start)."""
        if fill_box and text:
            self.prompt_box.setText(text)
        elif text is None:
            self.prompt_box.clear()
        self.prompt_clear.setEnabled(bool(text))
        self.prompt_label.setVisible(bool(text))
        self.prompt_label.setText(f"Following your prompt: “{text}”" if text else "")

    def show_autofill(self, on: bool) -> None:
        """Set the switch without reporting it (the engine's stored setting)."""
        self.autofill_check.blockSignals(True)
        self.autofill_check.setChecked(on)
        self.autofill_check.blockSignals(False)

    def set_notice(self, text: str) -> None:
        self.queue_notice.setText(text)
        self.queue_notice.setVisible(bool(text))
