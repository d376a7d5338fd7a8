"""Star ratings from tags, as players and taggers write them, on one scale: 0..1 (None: unrated).

* ID3 ``POPM`` (Windows Media Player, MediaMonkey, MusicBee, foobar2000, Quod Libet): a byte 1–255
  (0 is "unrated"); WMP writes 1/64/128/196/255 for one to five stars, Quod Libet 255 × its 0..1;
* Vorbis comments and APEv2: ``FMPS_RATING`` (0..1), ``RATING:<email>`` (Quod Libet, 0..1), ``RATING``
  (foobar2000's 1–5 stars, or 0–100, or 0..1 with a decimal point);
* MP4 freeform ``----:com.apple.iTunes:RATING`` / ``FMPS_Rating`` (the same scales);
* WMA ``WM/SharedUserRating`` (0–99: WMP writes 1/25/50/75/99).

A value that is not a number in its scale counts as unrated.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

POPM_MAX = 255
WM_RATING_MAX = 99
STARS = 5
PERCENT = 100


def _number(value: object) -> float | None:
    try:
        number = float(str(value).strip().replace(",", "."))
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def unit_rating(values: Iterable[object]) -> float | None:
    """``FMPS_RATING`` / ``RATING:<email>``: the first value in 0..1."""
    for value in values:
        number = _number(value)
        if number is not None and 0.0 <= number <= 1.0:
            return number
    return None


def rating_text(values: Iterable[object]) -> float | None:
    """``RATING``: whole stars 1–5, a percentage 6–100, or a fraction 0..1 written with a point."""
    for value in values:
        text = str(value).strip()
        number = _number(text)
        if number is None or number < 0:
            continue
        if number <= 1.0 and "." in text:
            return number
        if number <= STARS and number == int(number):
            return number / STARS if number else None
        if number <= PERCENT:
            return number / PERCENT
    return None


def popm_rating(values: Iterable[int]) -> float | None:
    """The first ``POPM`` rating byte that is set (1–255)."""
    for value in values:
        if isinstance(value, int) and 0 < value <= POPM_MAX:
            return value / POPM_MAX
    return None


def wm_rating(values: Iterable[object]) -> float | None:
    """``WM/SharedUserRating`` 1–99."""
    for value in values:
        number = _number(value)
        if number is not None and 0 < number <= WM_RATING_MAX:
            return number / WM_RATING_MAX
    return None
