"""The Up Next list: two lines per entry (track, then why it is there), drag to reorder."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QKeySequence, QPalette
from PySide6.QtWidgets import QAbstractItemView, QListWidget, QListWidgetItem, QStyle, QStyledItemDelegate

from player_plugin.models import QueueEntry, Track
from player_plugin.ui.text import artist_or_file

TRACK_ID_ROLE = Qt.ItemDataRole.UserRole + 1
REASON_ROLE = Qt.ItemDataRole.UserRole + 2
MANUAL_ROLE = Qt.ItemDataRole.UserRole + 3
SUBTITLE_ROLE = Qt.ItemDataRole.UserRole + 4


class TwoLineDelegate(QStyledItemDelegate):
    """Title (bold) and artist on the first line; the reason, smaller and dimmer, on the second."""

    PAD = 6

    def sizeHint(self, option, index) -> QSize:
        fm = option.fontMetrics
        return QSize(200, fm.height() * 2 + fm.descent() + 2 * self.PAD)

    def paint(self, painter, option, index: QModelIndex) -> None:
        style = option.widget.style() if option.widget else None
        painter.save()
        if style is not None:
            opt = option.__class__(option)
            self.initStyleOption(opt, index)
            opt.text = ""
            style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, option.widget)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        pal = option.palette
        text_color = pal.color(QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text)
        dim = QColor(text_color)
        dim.setAlphaF(0.62)
        rect: QRect = option.rect.adjusted(self.PAD + 4, self.PAD, -self.PAD, -self.PAD)
        fm = option.fontMetrics
        title = index.data(Qt.ItemDataRole.DisplayRole) or ""
        subtitle = index.data(SUBTITLE_ROLE) or ""
        reason = index.data(REASON_ROLE) or ""
        manual = bool(index.data(MANUAL_ROLE))
        bold = QFont(option.font)
        bold.setBold(True)
        painter.setFont(bold)
        painter.setPen(text_color)
        bfm = QFontMetrics(bold)
        line1 = QRect(rect.left(), rect.top(), rect.width(), fm.height())
        title_w = min(bfm.horizontalAdvance(title) + 4, int(rect.width() * 0.7))
        painter.drawText(
            QRect(line1.left(), line1.top(), title_w, line1.height()),
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            bfm.elidedText(title, Qt.TextElideMode.ElideRight, title_w),
        )
        painter.setFont(option.font)
        painter.setPen(dim)
        rest = QRect(line1.left() + title_w + 8, line1.top(), rect.width() - title_w - 8, line1.height())
        painter.drawText(
            rest,
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            fm.elidedText(subtitle, Qt.TextElideMode.ElideRight, rest.width()),
        )
        small = QFont(option.font)
        small.setPointSizeF(max(7.0, option.font.pointSizeF() * 0.9))
        small.setItalic(not manual)
        painter.setFont(small)
        sfm = QFontMetrics(small)
        line2 = QRect(rect.left(), line1.bottom() + 2, rect.width(), sfm.height())
        why = ("★ " if manual else "") + (reason or ("added by you" if manual else ""))
        painter.drawText(
            line2,
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            sfm.elidedText(why, Qt.TextElideMode.ElideRight, line2.width()),
        )
        painter.restore()


class QueueView(QListWidget):
    moved = Signal(int, int)  # src, dst (indices in the queue before the move)
    remove_requested = Signal(int)
    activated_index = Signal(int)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("upNextList")
        self.setItemDelegate(TwoLineDelegate(self))
        self.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        self.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setUniformItemSizes(True)
        self.setAlternatingRowColors(True)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        self.model().rowsMoved.connect(self._on_rows_moved)
        self.itemDoubleClicked.connect(lambda item: self.activated_index.emit(self.row(item)))
        self._filling = False

    def set_entries(self, entries: list[QueueEntry], tracks: dict[int, Track | None]) -> None:
        self._filling = True
        current = self.currentRow()
        self.clear()
        for e in entries:
            t = tracks.get(e.track_id)
            item = QListWidgetItem(t.tags.title if t else f"track {e.track_id}")
            if t is not None:
                sub = " · ".join(filter(None, (artist_or_file(t), t.tags.album)))
                item.setData(SUBTITLE_ROLE, sub)
            item.setData(TRACK_ID_ROLE, e.track_id)
            item.setData(REASON_ROLE, e.reason)
            item.setData(MANUAL_ROLE, e.manual)
            tip = e.reason or ("added by you" if e.manual else "")
            if e.score is not None:
                tip += f"\nscore {e.score:.3f}"
            item.setToolTip(tip.strip())
            self.addItem(item)
        if 0 <= current < self.count():
            self.setCurrentRow(current)
        self._filling = False

    def track_ids(self) -> list[int]:
        return [self.item(i).data(TRACK_ID_ROLE) for i in range(self.count())]

    def keyPressEvent(self, event) -> None:
        if event.matches(QKeySequence.StandardKey.Delete) or event.key() == Qt.Key.Key_Backspace:
            row = self.currentRow()
            if row >= 0:
                self.remove_requested.emit(row)
                return
        super().keyPressEvent(event)

    def _on_rows_moved(self, _parent, start: int, end: int, _dest, row: int) -> None:
        if self._filling or start != end:
            return
        dst = row - 1 if row > start else row
        if dst != start:
            self.moved.emit(start, dst)
