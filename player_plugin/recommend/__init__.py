"""Recommendation: playlist datasets, baselines and the evaluation harness (no Qt, no torch, no network)."""

from player_plugin.recommend.dataset import Dataset, DatasetError, Playlist, load_dataset, split_of, track_text

__all__ = ["Dataset", "DatasetError", "Playlist", "load_dataset", "split_of", "track_text"]
