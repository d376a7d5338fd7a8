"""SQLite persistence. Every SQL statement of the project lives in this package."""

from player_plugin.store.db import Database, StoreError
from player_plugin.store.events import EventRepository
from player_plugin.store.queue import QueueRepository
from player_plugin.store.settings import SettingsRepository
from player_plugin.store.tracks import TrackRepository
from player_plugin.store.unreadable import UnreadableRepository
from player_plugin.store.vectors import VectorRepository

__all__ = [
    "Database",
    "EventRepository",
    "QueueRepository",
    "SettingsRepository",
    "StoreError",
    "TrackRepository",
    "UnreadableRepository",
    "VectorRepository",
]
