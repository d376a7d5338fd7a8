"""The one way artist, genre and title text is compared: NFKC, case-folded, runs of white space as one.

"ＪＡＺＺ", "Jazz " and "jazz" are one genre; "Neon  Tide" and "neon tide" one artist. Used by the
recommender's rules and prompt words, the store's fingerprints, the history import's matching and
the evaluation harness's artist index.
"""

from __future__ import annotations

import re
import unicodedata


def normalise(text: str | None) -> str:
    return " ".join(unicodedata.normalize("NFKC", text or "").casefold().split())


# Han, kana and hangul: the scripts whose tracks and prompts the encoder sets apart from Latin ones
# (recommend/prompt_space.py; the prompt task's language gap, evaluation/prompt_task.py)
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")


def has_cjk(text: str | None) -> bool:
    """Whether ``text`` holds a Chinese, Japanese or Korean character."""
    return bool(_CJK.search(text or ""))
