"""The file dialogs the main window opens: a playlist to save or continue, a music folder to add."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QWidget


def ask_playlist_to_save(parent: QWidget) -> str | None:
    start = str(Path.home() / "Up Next.m3u8")
    chosen, _ = QFileDialog.getSaveFileName(parent, "Save Up Next as playlist", start, "Playlists (*.m3u8)")
    return chosen or None


def ask_playlist_to_continue(parent: QWidget) -> str | None:
    chosen, _ = QFileDialog.getOpenFileName(
        parent, "Continue a playlist", str(Path.home()), "Playlists (*.m3u8 *.m3u);;All files (*)"
    )
    return chosen or None


def ask_music_folder(parent: QWidget) -> str | None:
    return QFileDialog.getExistingDirectory(parent, "Add music folder", str(Path.home())) or None
