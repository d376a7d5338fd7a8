"""What a host's screens read and change besides listening: tracks for display, folders, blocklists,
queue rules, counts. Part of ``Engine`` (split out for size), so a host needs nothing of ``store`` or
``recommend``: every settings key is read and written through ``store.settings``' typed accessors.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from player_plugin.levelling import LevellingConfig
from player_plugin.models import Track, TrackId

if TYPE_CHECKING:
    from player_plugin.listeners import Listeners
    from player_plugin.store import Database, SettingsRepository, TrackRepository, VectorRepository

QUEUE_RULE_FIELDS = ("no_repeat_last", "artist_spacing", "explore_slots", "max_track_s")  # what a host may edit


class HostSettings:
    db: Database
    tracks: TrackRepository
    settings: SettingsRepository
    vectors: VectorRepository
    model_id: str
    _listeners: Listeners

    @property
    def db_path(self) -> Path:
        return Path(self.db.path)

    def release_thread(self) -> None:
        """Close the calling thread's database connection (a host's worker thread, as it ends)."""
        self.db.close()

    def all_tracks(self) -> list[Track]:
        return list(self.tracks.iter_all())

    def track(self, track_id: TrackId) -> Track | None:
        return self.tracks.get(track_id)

    def track_count(self) -> int:
        return self.tracks.count()

    def vector_count(self) -> int:
        """Tracks with a vector of the model in use."""
        return self.vectors.count(self.model_id)

    def add_root(self, path: str) -> bool:
        return self.settings.add_root(path)

    def remove_root(self, path: str) -> bool:
        return self.settings.remove_root(path)

    @property
    def levelling(self) -> LevellingConfig:
        """How the host levels the volume of what it plays (levelling.py; a setting, ``auto`` at first)."""
        return LevellingConfig.from_settings(self.settings.levelling())

    def set_levelling(self, cfg: LevellingConfig) -> None:
        self.settings.set_levelling(cfg.as_settings())

    def resume_point(self) -> tuple[TrackId, float] | None:
        """Where the host's player was when it closed (a track still in the library, and its position)."""
        point = self.settings.resume()
        track, position = point.get("track"), point.get("position_s")
        if not isinstance(track, int) or isinstance(track, bool) or not isinstance(position, int | float):
            return None
        if self.tracks.get(track) is None or not position >= 0:
            return None
        return track, float(position)

    def set_resume_point(self, track_id: TrackId | None, position_s: float = 0.0) -> None:
        """Remember where the player is as the host closes (None: nothing to resume)."""
        self.settings.set_resume({} if track_id is None else {"track": track_id, "position_s": float(position_s)})

    @property
    def watch_folders(self) -> bool:
        """Whether a host watches the music folders for changes (library/watch.py; a setting, on at first)."""
        return self.settings.watch_folders()

    def set_watch_folders(self, on: bool) -> None:
        self.settings.set_watch_folders(on)

    def watched_roots(self) -> list[str]:
        """The folders a host's library watch should watch now: the library folders, if the setting is on."""
        return self.settings.roots() if self.watch_folders else []

    def blocklist(self) -> dict[str, list[str]]:
        """{"artists": [...], "genres": [...], "folders": [...]}: never recommended."""
        return self.settings.blocklist()

    def set_blocklist(self, artists: list[str], genres: list[str], folders: list[str]) -> None:
        self.settings.set_blocklist({"artists": artists, "genres": genres, "folders": folders})
        self._rules_changed()

    def queue_rules(self) -> dict[str, Any]:
        """The queue rules a host may edit (``QUEUE_RULE_FIELDS``), as the recommender will use them."""
        from player_plugin.recommend.config import RecommendConfig

        cfg = RecommendConfig().replace(**self.settings.recommend_settings())
        return {name: getattr(cfg, name) for name in QUEUE_RULE_FIELDS}

    def set_queue_rules(self, **values: Any) -> None:
        unknown = set(values) - set(QUEUE_RULE_FIELDS)
        if unknown:
            raise KeyError(f"not a queue rule: {sorted(unknown)}")
        rules = self.settings.recommend_settings()
        rules.update(values)
        self.settings.set_recommend_settings(rules)
        self._rules_changed()

    def _rules_changed(self) -> None:
        self._listeners.send("model_changed")
