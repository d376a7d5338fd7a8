"""The one way artist, genre and title text is compared: NFKC, case-folded, runs of white space as one.

"ＪＡＺＺ", "Jazz " and "jazz" are one genre; "Neon  Tide" and "neon tide" one artist. Used by the
recommender's rules and prompt words and by the evaluation harness's artist index.
(store/tracks.py still has its own copy, ``_norm``, with the same definition.)
"""

from __future__ import annotations

import unicodedata


def normalise(text: str | None) -> str:
    return " ".join(unicodedata.normalize("NFKC", text or "").casefold().split())
