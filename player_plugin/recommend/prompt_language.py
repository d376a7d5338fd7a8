"""A prompt that names the language of the music it wants: "欧美R&B入坑曲", "华语经典", "english songs".

Half our listeners type in Chinese, and a Chinese prompt is no wish for Chinese songs: of the named
NetEase playlists in netease-dev (all named in Chinese), 40 % hold almost only songs with Latin
titles. Which language a wish wants is mostly in its meaning, which the encoder reads poorly across
scripts (docs/evaluation.md, "The prompt task"); but where the prompt *names* it — 欧美 (Western),
英文 (English), 华语 (Chinese), 粤语 (Cantonese), 日语 (Japanese) — the wish is plain, and the prompt's
ranking keeps to tracks whose titles are in that script (``CatalogIndex.prompt_fit``). Measured on
the named playlists: the language gap (the CJK share of the top 10 against the playlist's) 0.39 →
0.31 on train + validation and 0.37 → 0.25 on test, NDCG@10 unchanged or up.

Not here: Korean and K-pop (K-pop titles are mostly Latin-script: the playlists that name it hold
a quarter CJK titles), and a prompt that names both sides ("中英文", "华语和欧美"), or none.
"""

from __future__ import annotations

import re

from player_plugin.recommend.prompt_words import CJK_NEGATORS, NEGATORS
from player_plugin.text_norm import normalise

# True: songs with CJK titles; False: songs with Latin-script titles.
LANGUAGE_WORDS: dict[str, bool] = {
    **dict.fromkeys(("华语", "中文", "国语", "粤语", "闽南语", "日语", "日文", "日系"), True),
    **dict.fromkeys(("chinese", "mandarin", "cantonese", "cpop", "c-pop", "japanese"), True),
    **dict.fromkeys(("欧美", "英文", "英语", "western", "english"), False),
}
BOTH_WORDS = ("中英", "中外", "中西", "华语欧美", "欧美华语")  # "中英文歌": Chinese and English, no wish
_NEGATION_REACH = 3  # a CJK negator this many characters before the word negates it ("不要中文", "不听华语")
_CLAUSE = re.compile(r"[,;.!?/|，；。！？、]+|\bbut\b")


def _negated(clause: str, at: int) -> bool:
    before = clause[:at]
    if any(neg in before[-(_NEGATION_REACH + 2) :] for neg in CJK_NEGATORS):
        return True
    return any(w in NEGATORS for w in re.findall(r"[a-z]+", before))


def script_wish(prompt: str | None) -> bool | None:
    """Whether the prompt wants CJK-titled songs (True), Latin-titled ones (False), or does not say
    (None, also when it names both). "no chinese songs" / "不要中文歌" want the other side."""
    if not prompt:
        return None
    text = normalise(prompt)
    if any(both in text for both in BOTH_WORDS):
        return None
    wants: set[bool] = set()
    for clause in _CLAUSE.split(text):
        for word, cjk in LANGUAGE_WORDS.items():
            latin = word.isascii()
            for m in re.finditer(rf"(?<![a-z]){re.escape(word)}(?![a-z])" if latin else re.escape(word), clause):
                wants.add(cjk != _negated(clause, m.start()))
    return next(iter(wants)) if len(wants) == 1 else None
