"""Volume levelling: how loud a track plays, from its ReplayGain tags (library/replaygain.py).

Up Next mixes tracks from every album of a library, mastered decades apart: played as they are, a
quiet 1970s folk song is followed by a loud modern pop master 8-10 dB hotter. The rule here — one
rule for every host that plays audio itself (the desktop app) — says by how much to scale a
track's samples:

* **track** gain: every track at the common loudness (what a mix wants);
* **album** gain: an album's quiet and loud songs keep their difference (what an album wants);
* **auto** (the default): album gain while an album plays in order (this track follows the one
  before it on the same album), track gain otherwise;
* **off**: as the file is.

A track without the gain asked for takes the other one, and one without any plays at
``untagged_db``. ``preamp_db`` is added to every tagged gain. With ``prevent_clipping`` the factor
never takes the track's peak above full scale. The host multiplies its volume by the factor; a
factor above 1 can only be applied as far as the host's volume leaves room (the app caps the
product at full volume).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from player_plugin.models import TrackTags

MAX_PREAMP_DB = 15.0  # the settings allow ±this much


class LevellingMode(StrEnum):
    AUTO = "auto"
    TRACK = "track"
    ALBUM = "album"
    OFF = "off"


@dataclass(frozen=True)
class LevellingConfig:
    mode: LevellingMode = LevellingMode.AUTO
    preamp_db: float = 0.0  # added to every tagged gain
    untagged_db: float = 0.0  # a track without ReplayGain tags plays this much louder (or quieter)
    prevent_clipping: bool = True

    @classmethod
    def from_settings(cls, stored: dict) -> LevellingConfig:
        """From the stored setting (a JSON object); what is missing or not understood takes its default."""
        try:
            mode = LevellingMode(stored.get("mode", LevellingMode.AUTO))
        except ValueError:
            mode = LevellingMode.AUTO

        def db(key: str) -> float:
            try:
                value = float(stored.get(key, 0.0))
            except (TypeError, ValueError):
                return 0.0
            return max(-MAX_PREAMP_DB, min(MAX_PREAMP_DB, value)) if value == value else 0.0

        return cls(mode, db("preamp_db"), db("untagged_db"), bool(stored.get("prevent_clipping", True)))

    def as_settings(self) -> dict:
        return {
            "mode": str(self.mode),
            "preamp_db": self.preamp_db,
            "untagged_db": self.untagged_db,
            "prevent_clipping": self.prevent_clipping,
        }


@dataclass(frozen=True)
class Gain:
    factor: float  # multiply the samples (the host's volume) by this
    source: str  # "track", "album", "untagged" or "off": which gain it is


def follows_on_album(tags: TrackTags, previous: TrackTags | None) -> bool:
    """Whether ``tags`` is the next track of the album ``previous`` is on (same album, next number,
    the disc taken into account): an album playing in order."""
    if previous is None or not tags.album or tags.album != previous.album or tags.track_number is None:
        return False
    if (tags.album_artist or "") != (previous.album_artist or ""):
        return False
    if previous.track_number is None:
        return False
    same_disc = (tags.disc_number or 1) == (previous.disc_number or 1)
    if same_disc:
        return tags.track_number == previous.track_number + 1
    return (tags.disc_number or 1) == (previous.disc_number or 1) + 1 and tags.track_number == 1


def gain(tags: TrackTags, cfg: LevellingConfig, previous: TrackTags | None = None) -> Gain:
    """How loud ``tags``' track plays, after ``previous`` (the track played just before, if any)."""
    if cfg.mode is LevellingMode.OFF:
        return Gain(1.0, "off")
    album = cfg.mode is LevellingMode.ALBUM or (cfg.mode is LevellingMode.AUTO and follows_on_album(tags, previous))
    order = (
        ((tags.album_gain_db, tags.album_peak, "album"), (tags.track_gain_db, tags.track_peak, "track"))
        if album
        else ((tags.track_gain_db, tags.track_peak, "track"), (tags.album_gain_db, tags.album_peak, "album"))
    )
    for db, peak, source in order:
        if db is not None:
            factor = 10.0 ** ((db + cfg.preamp_db) / 20.0)
            if cfg.prevent_clipping and peak:
                factor = min(factor, 1.0 / peak)
            return Gain(factor, source)
    return Gain(10.0 ** (cfg.untagged_db / 20.0), "untagged")
