"""The evaluation harness: playlist datasets, the continuation task, metrics, baselines, the vector
cache and the product's recommender as the harness runs it (:mod:`blend`).

It imports :mod:`player_plugin.recommend` (the harness measures the product's own code); the product
never imports this package (tests/test_product_imports.py).
"""

from player_plugin.evaluation.dataset import Dataset, DatasetError, Playlist, load_dataset, split_of, track_text

__all__ = ["Dataset", "DatasetError", "Playlist", "load_dataset", "split_of", "track_text"]
