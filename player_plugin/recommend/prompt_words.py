"""Words of a prompt that name a genre or an artist of the library, wanted or not.

The encoder reads a prompt as a whole ("rainy night, mellow") and is good at moods, but a small
sentence encoder is weak at the plainest wishes: "jazz", "more Neon Tide", "no metal" (negation is
notoriously hard for it). So next to the prompt vector, a prompt's words are matched against the
tracks' own labels — genres and artist names — and a track whose label is named gets a bonus in
``b`` (or a malus when the name follows "no", "not", "without", 不要, 没有, …).

Matching (all text NFKC, case-folded):

* a Latin label matches when its letters-and-digits run together ("hip-hop" → "hiphop") equal a
  prompt word or two or three prompt words run together ("hip hop", "lo fi", "neon tide"), with or
  without a plural "s" ("ballads"); a genre
  also matches when one of its own words of three letters or more is a prompt word ("rock" names
  "indie rock" and "post-rock", "pop" names "c-pop"); an artist with a one-word name matches only
  a prompt that is little more than that name ("more Low", not "low and slow"); words like "music",
  "songs", "more" never match on their own;
* a label in a script without spaces (Chinese, Japanese) matches when it occurs in the prompt
  ("民谣" in "安静的民谣"); a one-character label only when the prompt is little more than it
  ("更多花的歌", not "花开于彼岸");
* negation: in a Latin clause (split at , ; . / and "but"), every word after a negator is unwanted;
  a CJK label is unwanted when a negator stands just before it, or a few words of wanting or playing
  after one (:func:`cjk_negated`: "不要摇滚", "不想听民谣"; "百听不厌的民谣" rules nothing out).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from player_plugin.text_norm import normalise

NEGATORS = frozenset({"no", "not", "without", "non", "never", "nothing", "except", "minus", "none", "less"})
CJK_NEGATORS = ("不要", "不想听", "不想", "没有", "不听", "不是", "别", "不", "无", "没", "非")
# between a CJK negator and what it rules out, only words of wanting or playing ("不要听民谣", "别放摇滚",
# "不太喜欢华语"): "百听不厌的华语" (never tired of Chinese songs) negates nothing
_CJK_NEGATOR = re.compile("|".join(sorted(map(re.escape, CJK_NEGATORS), key=len, reverse=True)))
_CJK_NEGATED = re.compile("(?:" + _CJK_NEGATOR.pattern + ")[要想听放是含带太喜欢用的]{0,3}$")
# Words that say nothing about which genre or artist: never matched on their own.
FILLER = frozenset(
    {"music", "song", "songs", "track", "tracks", "more", "some", "play", "like", "by", "from", "please", "only"}
    | {"just", "the", "a", "an", "of", "me", "and", "new", "old", "style", "mix", "sound", "sounds", "stuff"}
)
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_SHORT_NAME = 3  # a Latin one-word artist this short ("I", "X") matches in a CJK prompt only when it is all there is
# what a CJK request says around a name ("更多花的歌", "来点雨"): a one-character label matches only a
# prompt that is that character and these (in NetEase's playlist names every one-character artist that
# matched by containment — 音, 花, 单, 杰, 雨, 106 in all — was a piece of another word)
_CJK_REQUEST = re.compile(r"更多|来点|来些|来一些|播放|放点|只听|听|的|歌曲|歌|音乐")
_CLAUSE = re.compile(r"[,;.!?/|，；。！？、]+|\bbut\b")


def _is_spaced(label: str) -> bool:
    """Written with spaces between words (Latin, Cyrillic, …) rather than CJK."""
    return not any(unicodedata.east_asian_width(ch) in ("W", "F") for ch in label)


@dataclass(frozen=True)
class PromptWords:
    wanted: frozenset[str]  # single words and 2-3 word runs, run together
    unwanted: frozenset[str]
    text: str  # the normalised prompt without spaces, for labels in scripts without them
    content_words: frozenset[str] = frozenset()  # the prompt's single words, less negators and FILLER
    cjk_rest: str = ""  # what the prompt says in CJK beyond request words (_beyond)

    @classmethod
    def parse(cls, prompt: str) -> PromptWords:
        text = normalise(prompt)
        wanted: set[str] = set()
        unwanted: set[str] = set()
        content: set[str] = set()
        cjk = "".join(w for w in _WORD.findall(text) if not _is_spaced(w))
        for clause in _CLAUSE.split(text):
            words = [w for w in _WORD.findall(clause) if _is_spaced(w)]
            content.update(w for w in words if w not in NEGATORS and w not in FILLER)
            negated_from = next((i for i, w in enumerate(words) if w in NEGATORS), len(words))
            for i in range(len(words)):
                for n in (1, 2, 3):
                    run = words[i : i + n]
                    if len(run) < n or any(w in NEGATORS for w in run):
                        continue
                    gram = "".join(run)
                    grams = {gram, gram[:-1]} if gram.endswith("s") and len(gram) > 3 else {gram}  # "ballads"
                    (unwanted if i > negated_from else wanted).update(grams)
        compact = text.replace(" ", "")
        return cls(frozenset(wanted - unwanted), frozenset(unwanted), compact, frozenset(content), _beyond(cjk))

    @property
    def empty(self) -> bool:
        return not (self.wanted or self.unwanted or self.text)

    def match(self, label: str, *, genre: bool) -> int:
        """+1 wanted, -1 unwanted, 0 not named. ``genre``: single words of the label may match too;
        otherwise (an artist) a one-word name matches only a prompt that is little more than that name
        ("more Low", "来点 Low", "夜鹿 YOASOBI 真夜中"; not "low and slow", nor a name shorter than
        :data:`_SHORT_NAME` beside other CJK words: "欧美民谣 I 往昔璀璨如钻")."""
        if not label:
            return 0
        if _is_spaced(label):
            words = _WORD.findall(label)
            compact = "".join(words)
            if compact in FILLER:
                return 0
            keys = {compact} | ({w for w in words if len(w) >= 3 and w not in FILLER} if genre else set())
            lone = self.content_words != frozenset({compact}) or (self.cjk_rest and len(compact) < _SHORT_NAME)
            if not genre and len(words) == 1 and lone:
                return 0
            if keys & self.unwanted:
                return -1
            return 1 if keys & self.wanted else 0
        compact = label.replace(" ", "")
        at = self.text.find(compact)
        if at < 0:
            return 0
        if len(compact) == 1 and _beyond(self.text.replace(compact, "", 1)):
            return 0  # "花" names the artist 花 in "更多花", not in "花开于彼岸"
        return -1 if cjk_negated(self.text[:at]) else 1


def _beyond(text: str) -> str:
    """``text`` less negators, CJK request words and everything not a letter or digit: what a prompt
    says beside a name ("" for "更多花的歌" beside 花, "往昔璀璨如钻" beside "I")."""
    return re.sub(r"[\W_]+", "", _CJK_REQUEST.sub("", _CJK_NEGATOR.sub("", text)))


def cjk_negated(before: str) -> bool:
    """Whether the CJK text just before a word rules it out: a negator ("不要", "没有", "非", …), then at
    most a few words of wanting or playing, then the word ("不要摇滚", "不想听华语", "非欧美")."""
    return _CJK_NEGATED.search(before) is not None


def label_matches(
    words: PromptWords, labels: Mapping[str, np.ndarray], n: int, *, genre: bool
) -> tuple[np.ndarray, np.ndarray]:
    """(rows, +1/-1) of the tracks whose label (``labels``: label → rows holding it) the prompt names."""
    return prompt_matches(words, [(labels, genre)], n)


def prompt_matches(
    words: PromptWords, sources: Sequence[tuple[Mapping[str, np.ndarray], bool]], n: int
) -> tuple[np.ndarray, np.ndarray]:
    """(rows, +1/-1) over several label kinds at once (``sources``: (label → rows, genre?) pairs): +1 where
    the prompt names one of a track's labels, -1 where it rules one out — ruled out wins ("rock, no metal")."""
    out = np.zeros(n, np.float32)
    if words.empty:
        return np.zeros(0, np.int64), out[:0]
    unwanted = []
    for labels, genre in sources:
        for label, rows in labels.items():
            m = words.match(label, genre=genre)
            if m > 0:
                out[rows] = 1.0
            elif m < 0:
                unwanted.append(rows)
    for rows in unwanted:
        out[rows] = -1.0
    rows = np.flatnonzero(out)
    return rows, out[rows]


def index_labels(label_sets: Sequence[Iterable[str]]) -> dict[str, np.ndarray]:
    """label → the rows holding it, from one set of labels per row."""
    index: dict[str, list[int]] = {}
    for row, labels in enumerate(label_sets):
        for label in labels:
            index.setdefault(label, []).append(row)
    return {label: np.asarray(rows, dtype=np.int64) for label, rows in index.items()}
