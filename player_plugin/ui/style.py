"""The main window's style sheet (object names are set where the widgets are built)."""

STYLE = """
QFrame#nowPlaying {
    background: palette(alternate-base);
    border: 1px solid palette(mid);
    border-radius: 10px;
}
QLabel#npTitle { font-size: 17pt; font-weight: 600; }
QLabel#npArtist { font-size: 11pt; }
QLabel#npAlbum, QLabel#dim, QLabel#timeLabel { color: palette(mid); }
QLabel#dim { padding-left: 6px; }
QLabel#sectionTitle { font-size: 13pt; font-weight: 600; }
QLabel#promptLabel {
    background: palette(highlight); color: palette(highlighted-text);
    border-radius: 6px; padding: 4px 8px;
}
QLabel#queueNotice {
    background: #fff4d6; color: #5c4400; border: 1px solid #e8cf86; border-radius: 6px; padding: 6px 8px;
}
QFrame#upNextPanel { border: 1px solid palette(mid); border-radius: 10px; }
QListWidget#upNextList { border: none; }
QTableView#libraryTable { border: 1px solid palette(mid); border-radius: 6px; }
QPushButton#likeButton:checked { background: #e2456b; color: white; border-radius: 4px; }
QLineEdit#promptBox, QLineEdit#searchBox { padding: 4px 6px; }
"""
