"""The one way artist, genre and title text is compared: NFKC, case-folded, runs of white space as one.

"ＪＡＺＺ", "Jazz " and "jazz" are one genre; "Neon  Tide" and "neon tide" one artist. Used by the
recommender's rules and prompt words, the store's fingerprints, the history import's matching and
the evaluation harness's artist index.
"""

from __future__ import annotations

import unicodedata


def normalise(text: str | None) -> str:
    return " ".join(unicodedata.normalize("NFKC", text or "").casefold().split())
