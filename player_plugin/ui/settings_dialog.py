"""Settings: library folders, blocklists, queue rules, the model, where data lives, privacy."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Protocol

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from player_plugin.engine import Engine
from player_plugin.levelling import MAX_PREAMP_DB, LevellingConfig, LevellingMode
from player_plugin.ratings_import import RatingsImport
from player_plugin.ui.text import friendly_provider, uses_gpu

LEVELLING_CHOICES = (  # the combo's entries, in order
    (LevellingMode.AUTO, "Automatic: album gain while an album plays in order, else track gain"),
    (LevellingMode.TRACK, "Track gain: every track equally loud"),
    (LevellingMode.ALBUM, "Album gain: an album's quiet and loud songs as mastered"),
    (LevellingMode.OFF, "Off: as the files are"),
)


class SettingsHost(Protocol):
    """What the dialog asks of the app around it (the main window provides it)."""

    def start_scan(self) -> object: ...
    def follow_folders(self) -> None: ...
    def levelling_changed(self) -> None: ...
    def history_forgotten(self, events: int) -> None: ...
    def status_message(self, text: str, sticky: bool = False) -> None: ...


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


class SettingsDialog(QDialog):
    def __init__(self, engine: Engine, host: SettingsHost, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.host = host
        self.engine = engine
        self.setWindowTitle("Settings")
        self.resize(640, 520)
        tabs = QTabWidget(self)
        tabs.addTab(self._library_tab(), "Library")
        tabs.addTab(self._rules_tab(), "Up Next rules")
        tabs.addTab(self._playback_tab(), "Playback")
        tabs.addTab(self._model_tab(), "Model")
        tabs.addTab(self._privacy_tab(), "Data && privacy")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.save_and_close)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(tabs)
        lay.addWidget(buttons)
        self.tabs = tabs

    # -- tabs --------------------------------------------------------------------------------------

    def _library_tab(self) -> QWidget:
        w = QWidget()
        lay = QVBoxLayout(w)
        lay.addWidget(QLabel("Music folders (scanned at start and on Rescan):"))
        self.folders = QListWidget()
        self.folders.setObjectName("folderList")
        self.folders.addItems(self.engine.roots())
        lay.addWidget(self.folders, 1)
        row = QHBoxLayout()
        add = QPushButton("Add folder…")
        remove = QPushButton("Remove")
        rescan = QPushButton("Rescan now")
        row.addWidget(add)
        row.addWidget(remove)
        row.addStretch(1)
        row.addWidget(rescan)
        lay.addLayout(row)
        self.watch_folders = QCheckBox("Watch them for changes: music added, edited or deleted shows up by itself")
        self.watch_folders.setObjectName("watchFolders")
        self.watch_folders.setChecked(self.engine.watch_folders)
        lay.addWidget(self.watch_folders)
        add.clicked.connect(self._add_folder)
        remove.clicked.connect(self._remove_folder)
        rescan.clicked.connect(lambda: self.host.start_scan())
        return w

    def _rules_tab(self) -> QWidget:
        w = QWidget()
        form = QFormLayout(w)
        block = self.engine.blocklist()
        self.block_artists = QPlainTextEdit("\n".join(block.get("artists", [])))
        self.block_artists.setObjectName("blockArtists")
        self.block_artists.setPlaceholderText("one artist per line")
        self.block_genres = QPlainTextEdit("\n".join(block.get("genres", [])))
        self.block_genres.setObjectName("blockGenres")
        self.block_genres.setPlaceholderText("one genre per line")
        self.block_folders = QPlainTextEdit("\n".join(block.get("folders", [])))
        self.block_folders.setPlaceholderText("one folder per line (e.g. audiobooks)")
        for edit in (self.block_artists, self.block_genres, self.block_folders):
            edit.setFixedHeight(64)
        form.addRow("Never recommend artists:", self.block_artists)
        form.addRow("Never recommend genres:", self.block_genres)
        form.addRow("Never recommend folders:", self.block_folders)

        rules = self.engine.queue_rules()
        self.no_repeat = QSpinBox()
        self.no_repeat.setRange(0, 1000)
        self.no_repeat.setValue(rules["no_repeat_last"])
        self.no_repeat.setSuffix(" plays")
        self.artist_spacing = QSpinBox()
        self.artist_spacing.setRange(0, 20)
        self.artist_spacing.setValue(rules["artist_spacing"])
        self.artist_spacing.setSuffix(" entries")
        self.explore = QSpinBox()
        self.explore.setRange(0, 10)
        self.explore.setValue(rules["explore_slots"])
        self.explore.setSuffix(" of every 10")
        self.max_len_on = QCheckBox("Leave out tracks longer than")
        self.max_len = QDoubleSpinBox()
        self.max_len.setRange(0.5, 600)
        self.max_len.setSuffix(" min")
        self.max_len_on.setChecked(rules["max_track_s"] is not None)
        self.max_len.setValue((rules["max_track_s"] or 600) / 60)
        self.max_len.setEnabled(self.max_len_on.isChecked())
        self.max_len_on.toggled.connect(self.max_len.setEnabled)
        max_row = QHBoxLayout()
        max_row.addWidget(self.max_len_on)
        max_row.addWidget(self.max_len)
        max_row.addStretch(1)
        form.addRow("Don't repeat a track within the last", self.no_repeat)
        form.addRow("Same artist not within", self.artist_spacing)
        form.addRow("Slots for never-played tracks", self.explore)
        form.addRow(max_row)
        return w

    def _playback_tab(self) -> QWidget:
        w = QWidget()
        form = QFormLayout(w)
        cfg = self.engine.levelling
        self.levelling = QComboBox()
        self.levelling.setObjectName("levellingMode")
        for mode, label in LEVELLING_CHOICES:
            self.levelling.addItem(label, str(mode))
        self.levelling.setCurrentIndex([m for m, _ in LEVELLING_CHOICES].index(cfg.mode))

        def db_box(value: float) -> QDoubleSpinBox:
            box = QDoubleSpinBox()
            box.setRange(-MAX_PREAMP_DB, MAX_PREAMP_DB)
            box.setSingleStep(0.5)
            box.setSuffix(" dB")
            box.setValue(value)
            return box

        self.preamp = db_box(cfg.preamp_db)
        self.untagged = db_box(cfg.untagged_db)
        self.prevent_clipping = QCheckBox("Never louder than the track's peak allows (no clipping)")
        self.prevent_clipping.setChecked(cfg.prevent_clipping)
        form.addRow(QLabel("Volume levelling, from the tracks' ReplayGain tags:"))
        form.addRow(self.levelling)
        form.addRow("Pre-amp for tagged tracks", self.preamp)
        form.addRow("Tracks without ReplayGain tags", self.untagged)
        form.addRow(self.prevent_clipping)
        return w

    def _model_tab(self) -> QWidget:
        w = QWidget()
        form = QFormLayout(w)
        model_id = self.engine.model_id
        form.addRow("Model:", QLabel(model_id))
        factory = self.engine.shared_encoders
        loaded = factory.loaded(model_id) if factory is not None else None
        on_gpu = False
        if loaded is not None:
            provider = loaded.provider
            on_gpu = uses_gpu(provider)
            text = f"{friendly_provider(provider)} (onnxruntime's {provider})"
            secs = factory.load_seconds.get(model_id)
            if secs is not None:
                text += f"; loaded in {secs:.1f} s"
        elif factory is not None and model_id in factory.errors:
            text = f"not loaded: {factory.errors[model_id]}"
        else:
            text = "not loaded yet (it loads when the library is embedded)"
        provider_label = QLabel(text)
        provider_label.setObjectName("providerLabel")
        provider_label.setWordWrap(True)
        form.addRow("Execution provider:", provider_label)
        try:
            vectors = self.engine.vector_count()
            form.addRow("Tracks understood:", QLabel(f"{vectors} of {self.engine.track_count()}"))
        except Exception:  # noqa: BLE001 - informational only
            pass
        # Forcing the CPU only means something while a GPU runs the model.
        hint = QLabel(
            "Runs on the GPU; set PLAYER_PLUGIN_DEVICE=cpu and restart to use the CPU instead."
            if on_gpu
            else "Runs on the CPU: no GPU is in use, so there is nothing to switch."
        )
        hint.setObjectName("deviceHint")
        hint.setWordWrap(True)
        hint.setVisible(loaded is not None)
        form.addRow(hint)
        self.device_hint = hint
        return w

    def _privacy_tab(self) -> QWidget:
        w = QWidget()
        lay = QVBoxLayout(w)
        db_path = self.engine.db_path
        loc = QLabel(
            f"Your library, listening history and settings are stored only on this computer:<br><b>{db_path}</b>"
        )
        loc.setObjectName("dataLocation")
        loc.setWordWrap(True)
        loc.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        lay.addWidget(loc)
        row = QHBoxLayout()
        export = QPushButton("Export my data…")
        export.setObjectName("exportData")
        forget = QPushButton("Forget my listening history…")
        forget.setObjectName("forgetHistory")
        ratings = QPushButton("Learn from my star ratings")
        ratings.setObjectName("importRatings")
        ratings.setToolTip("The ratings in your files' tags: 4-5 stars become likes, 1 star a dislike")
        row.addWidget(export)
        row.addWidget(ratings)
        row.addWidget(forget)
        row.addStretch(1)
        lay.addLayout(row)
        lay.addStretch(1)
        export.clicked.connect(lambda: self.export_data())
        forget.clicked.connect(lambda: self.forget_history())
        ratings.clicked.connect(lambda: self.import_ratings())
        return w

    # -- actions -------------------------------------------------------------------------------------

    def _add_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Add music folder", str(Path.home()))
        if folder and not self.folders.findItems(folder, Qt.MatchFlag.MatchExactly):
            self.folders.addItem(os.path.abspath(folder))

    def _remove_folder(self) -> None:
        for item in self.folders.selectedItems():
            self.folders.takeItem(self.folders.row(item))

    def folder_list(self) -> list[str]:
        return [self.folders.item(i).text() for i in range(self.folders.count())]

    def save(self) -> bool:
        """Store everything; True when the folders changed (a rescan is due)."""
        engine = self.engine
        old = set(engine.roots())
        new = self.folder_list()
        for path in old - set(new):
            engine.remove_root(path)
        for path in new:
            if path not in old:
                engine.add_root(path)
        engine.set_watch_folders(self.watch_folders.isChecked())
        engine.set_levelling(
            LevellingConfig(
                LevellingMode(self.levelling.currentData()),
                self.preamp.value(),
                self.untagged.value(),
                self.prevent_clipping.isChecked(),
            )
        )
        engine.set_blocklist(
            _lines(self.block_artists.toPlainText()),
            _lines(self.block_genres.toPlainText()),
            _lines(self.block_folders.toPlainText()),
        )
        engine.set_queue_rules(
            no_repeat_last=self.no_repeat.value(),
            artist_spacing=self.artist_spacing.value(),
            explore_slots=self.explore.value(),
            max_track_s=self.max_len.value() * 60 if self.max_len_on.isChecked() else None,
        )
        return set(new) != old

    def save_and_close(self) -> None:
        folders_changed = self.save()
        self.accept()
        self.host.levelling_changed()
        self.host.follow_folders()  # before the scan: what changes while it runs is scanned after it
        if folders_changed:
            self.host.start_scan()
        # no refill by hand: the new rules reach Up Next as the engine's model_changed

    def forget_history(self, confirm: bool = True) -> int | None:
        if confirm:
            answer = QMessageBox.question(
                self,
                "Forget listening history",
                "Delete every play, skip, like and dislike stored on this computer?\n"
                "Up Next will start from scratch. This cannot be undone.",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                QMessageBox.StandardButton.No,
            )
            if answer != QMessageBox.StandardButton.Yes:
                return None
        n = self.engine.forget_history()
        self.host.history_forgotten(n)
        return n

    def import_ratings(self) -> RatingsImport:
        report = self.engine.import_ratings()
        if not report.rated:
            text = "No track has a star rating in its tags (rate them in your tagger, then rescan)"
        else:
            text = (
                f"Learnt from {_count(report.rated, 'star rating')}: {_count(report.liked, 'like')}, "
                f"{_count(report.disliked, 'dislike')}"
            )
            if report.already:
                text += f" ({_count(report.already, 'track')} already had a like or dislike)"
        self.host.status_message(text)
        return report

    def export_data(self, path: str | None = None) -> Path | None:
        if path is None:
            path, _ = QFileDialog.getSaveFileName(
                self, "Export my data", str(Path.home() / "player-plugin-export.json"), "JSON (*.json);;All files (*)"
            )
            if not path:
                return None
        self.engine.export_data(Path(path))
        self.host.status_message(f"Exported your data to {path}")
        return Path(path)
