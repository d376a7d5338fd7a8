"""Every knob of the user model, the score and the queue rules, with the reason for its default."""

from __future__ import annotations

import dataclasses
from dataclasses import asdict, dataclass, fields
from typing import Any


@dataclass(frozen=True)
class RecommendConfig:
    # -- long-term taste: a decayed, signed average of track vectors ------------------------------
    long_half_life_days: float = 60.0  # a play two months ago counts half
    weight_complete: float = 1.0
    weight_like: float = 2.0  # an explicit like says more than finishing a track
    weight_skip_early: float = -1.0  # skipped in the first 30 s / 25 %: "not this"
    weight_skip_late: float = -0.25  # skipped late: mostly "enough of this now"
    weight_dislike: float = -2.0
    weight_block: float = -3.0
    weight_queue_remove: float = -0.5
    weight_comment: float = 1.0  # a comment's own vector, embedded like a prompt
    early_skip_s: float = 30.0
    early_skip_fraction: float = 0.25

    # -- session: what is playing now ------------------------------------------------------------
    session_gap_s: float = 1800.0  # 30 minutes of silence start a new session
    session_tracks: int = 10
    session_decay: float = 0.8  # each step back in the session counts 0.8x

    # -- how the parts make w_u (each part is unit length before mixing) ---------------------------
    mix_long: float = 0.35
    mix_session: float = 0.65
    mix_prompt: float = 2.0  # a typed prompt leads (2/3 of w_u): it is the most explicit wish there is
    # With a prompt set, the history part counts fully only once this many distinct tracks (or comments)
    # have said something about your taste: one like is a hint, not a taste to hold a typed wish against.
    history_full_at: int = 5
    # Until this many tracks have said something, w_u loses its script component in proportion (a first
    # Chinese like made the first queue all Chinese): 0 turns it off.
    script_neutral_until: int = 5
    # The prompt's scale is measured as a spread (std) over a fixed sample of the library: 512 vectors give
    # a std within a few % of the whole library's and cost one small product per fill; a fixed seed makes
    # the same prompt weigh the same on every fill.
    spread_sample: int = 512
    spread_seed: int = 0

    # -- b: per-track bias from behaviour --------------------------------------------------------
    # The weights below are cosine units where the taste scores have this spread (std over the
    # library; e5 track-to-track with no prompt ≈ 0.04); each fill rescales them to its own spread.
    bias_reference_spread: float = 0.04
    bias_completes: float = 0.04  # × log1p(completed plays): favourites come back
    bias_likes: float = 0.06
    bias_skip_rate: float = 0.10  # × skips / plays
    bias_recent: float = 0.5  # × exp(-hours since last play / recent_hours): not too soon
    recent_hours: float = 6.0
    # × how much the track is in your rotation now (finished plays decayed over 14 days, the most
    # returned-to track 1) × the share of your recent listens that were repeats (recommend/habits.py):
    # people come back to what they play these days. Tuned on the replay task's first 80 % of points
    # (0.2–0.4 within noise of each other; 0.7 loses), docs/evaluation.md
    bias_rotation: float = 0.3
    bias_transition: float = 0.08  # × your own "this after that" habit, normalised to [0, 1]
    # × how strongly your past sessions that look like this one hold the track, normalised to [0, 1]
    # (recommend/neighbours.py). In the evaluation, where many listeners' playlists play this part,
    # it weighs 0.64 for a fully familiar session (cooc_weight 32 × neighbour_weight 0.5 × 0.04);
    # half of that here, as one person's history is thin until it has months in it (not tuned)
    bias_neighbours: float = 0.3
    # × std(taste) × share of the session by the same artist (recommend/artists.py); tuned on the
    # validation splits of both datasets (docs/evaluation.md)
    bias_artist: float = 8.0
    # × +1 / −1 for a track whose genre or artist the prompt names / rules out ("jazz", "no metal";
    # recommend/prompt_words.py): 3 taste spreads, enough to lead, while the encoder orders within
    bias_prompt_words: float = 0.12
    # While a prompt is set, picks come only from the best this many tracks of the prompt's own ranking
    # (recommend/prompt_space.py); the history orders among them. 0: no such gate.
    # (tuned on netease-dev's named train + validation playlists, each name judged by an adapter and a
    # head fitted without it: NDCG@10 mean over h0/h20/h200 for 12 / 15 / 18 / 30 / 60: 0.139 / 0.140 /
    # 0.138 / 0.135 / 0.126 (session 10, with the prompt adapter); docs/evaluation.md "The prompt task")
    # ... and at most this share of a small library, so a prompt still decides there (never fewer than
    # the picks asked for)
    prompt_fit: int = 15
    prompt_fit_share: float = 0.1

    # -- queue rules ------------------------------------------------------------------------------
    # a track played in the last N plays stays out: 10 (was 30) since real listeners come back sooner
    # (the replay task: +0.007 NDCG@10 macro on the tuning period, docs/evaluation.md)
    no_repeat_last: int = 10
    artist_spacing: int = 2  # the same artist not within this many entries ...
    spacing_follows_habit: bool = True  # ... unless you play artists' tracks in a row (recommend/habits.py)
    max_track_s: float | None = None  # longer tracks stay out (None: no limit)
    explore_slots: int = 3  # of every explore_block entries, slots for tracks never played (tuned, docs/evaluation.md)
    explore_block: int = 10  # the explore slots are the last of every block this long: one screenful of Up Next
    explore_min_z: float = 2.0  # ... filled only by a never-played track this many std above mean taste
    candidates: int = 600  # the top of the ranking the rules walk through

    def replace(self, **changes: Any) -> RecommendConfig:
        known = {f.name for f in fields(self)}
        unknown = set(changes) - known
        if unknown:
            raise ValueError(f"unknown recommender settings: {sorted(unknown)}")
        return dataclasses.replace(self, **changes)  # its __init__ (and checks) run; no deep copy of every field

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ReasonConfig:
    """How a pick's reason is chosen (recommend/reasons.py): every candidate reason gets a strength and
    the strongest is said. Evidence from a similar track is strong by its cosine (e5 track-to-track
    ≈ 0.7–0.95); the fixed strengths below are placed on that scale."""

    named_by_prompt: float = 1.5  # above any cosine: a genre or artist the prompt names is the surest match
    prompt_lift: float = 0.05  # query cosines run below track-to-track ones: a close prompt match still leads
    seed: float = 1.0  # a mix the user just started from a track or artist beats any similar-track reason
    often_back: float = 0.95  # "you often come back to this" ...
    often_back_completes: int = 3  # ... after this many finished plays: one or two is not yet a habit
    alike_sessions: float = 0.93  # "often in your sessions like this one" ...
    alike_sessions_min: float = 0.5  # ... when past sessions like this one hold it at least half as much as the best
    liked: float = 0.9  # "you liked this": below a close similar-track reason, which says more about now
    session_tail: int = 5  # "goes with X" looks at the session's last five tracks: the ones still in mind
    prompt_chars: int = 32  # a quoted prompt is cut to this many characters (one line in the Up Next panel)
    title_chars: int = 40  # a quoted title likewise
