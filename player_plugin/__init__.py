"""player_plugin: an on-device Up Next for your own music."""

__version__ = "0.1.0"
