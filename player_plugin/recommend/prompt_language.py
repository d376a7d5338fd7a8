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
a quarter CJK titles), and a prompt that names both sides ("中英文", "华语和欧美").

A prompt that names no language often still means one: "轻音乐" (light music) and "电音" (EDM) are
mostly Latin-titled, "古风" (ancient style) and "伤感情歌" (sad love songs) CJK. The prompt-script head
(:class:`ScriptHead`, fitted by ``export/train_prompt_script.py`` on netease-dev's train and
validation names, shipped in ``resources/prompt_script/<model id>.npz``) predicts from the prompt's
query vector the share of CJK titles it wants; that becomes a *lean* in [-1, 1] (2 × share − 1), and
the tracks of the other script lose :data:`LEAN_PENALTY` × |lean| of their fit: a lean, not a wall,
as the head is wrong about some names and a track that fits well still gets in. Chosen on train +
validation with each name judged by a head fitted without it (5 folds, the real engine): the prompt
task's NDCG@10 at h0 / h20 / h200 0.104 / 0.098 / 0.092 → 0.111 / 0.107 / 0.103, the language gap
0.29-0.34 → 0.20 (docs/evaluation.md, "The prompt task"; a hard choice where it leans clearly
measured the same, penalties of 0.2-0.6 within 0.001).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from player_plugin.recommend.prompt_words import NEGATORS, cjk_negated
from player_plugin.recommend.shipped_fits import knows_script, read_fit
from player_plugin.text_norm import normalise

log = logging.getLogger(__name__)
HEAD_FOLDER = "prompt_script"
LEAN_PENALTY = 0.3  # fit (a cosine) taken from the other script's tracks at a full lean (0.2-0.6 measured alike)


@dataclass(frozen=True)
class LanguageWish:
    """What a prompt wants of the titles' script: ``script`` named in words (True: CJK, False: Latin;
    only that script fits), else ``lean`` read by the head (+ towards CJK, − towards Latin, in [-1, 1])."""

    script: bool | None = None
    lean: float = 0.0

    @property
    def key(self) -> bytes:
        return bytes([{None: 0, False: 1, True: 2}[self.script]]) + np.float32(self.lean).tobytes()


NO_WISH = LanguageWish()

# True: songs with CJK titles; False: songs with Latin-script titles.
LANGUAGE_WORDS: dict[str, bool] = {
    **dict.fromkeys(("华语", "中文", "国语", "粤语", "闽南语", "日语", "日文", "日系"), True),
    **dict.fromkeys(("chinese", "mandarin", "cantonese", "cpop", "c-pop", "japanese"), True),
    **dict.fromkeys(("欧美", "英文", "英语", "western", "english"), False),
}
BOTH_WORDS = ("中英", "中外", "中西", "华语欧美", "欧美华语")  # "中英文歌": Chinese and English, no wish
_CLAUSE = re.compile(r"[,;.!?/|，；。！？、]+|\bbut\b")


def _negated(clause: str, at: int) -> bool:
    before = clause[:at]
    if cjk_negated(before):  # "不要中文", "不听华语"; not "百听不厌的华语"
        return True
    return any(w in NEGATORS for w in re.findall(r"[a-z]+", before))


def names_a_language(prompt: str | None) -> bool:
    """Whether the prompt names any language (or both sides) in words: then the words decide."""
    text = normalise(prompt or "")
    return any(both in text for both in BOTH_WORDS) or any(
        re.search(rf"(?<![a-z]){re.escape(w)}(?![a-z])" if w.isascii() else re.escape(w), text) for w in LANGUAGE_WORDS
    )


def language_wish(prompt: str | None, query: np.ndarray | None, model_id: str) -> LanguageWish:
    """What the prompt wants: the script it names (:func:`script_wish`), else the lean the head reads
    in its query vector (the raw embedding of the prompt, :func:`learned_lean`), else nothing."""
    if not prompt:
        return NO_WISH
    if names_a_language(prompt):
        return LanguageWish(script=script_wish(prompt))
    head = script_head(model_id)
    if head is None or query is None or not head.knows(prompt):
        return NO_WISH
    return LanguageWish(lean=learned_lean(query, model_id))


class ScriptHead:
    """The shipped prompt-script head of one encoder: ``share(q) = clip(q · weight + bias, 0, 1)``."""

    def __init__(self, weight: np.ndarray, bias: float, prompts: str = "any") -> None:
        self.weight, self.bias = weight, bias
        self.prompts = prompts  # the script of the prompts it was fitted on: "cjk", "latin" or "any"

    def knows(self, prompt: str) -> bool:
        """Whether the head was fitted on prompts in this prompt's script. The shipped one knows only
        prompts written in CJK (every NetEase name is): an English prompt's vector sits elsewhere in
        the e5 space, and the head read "Latin titles" into nearly every one."""
        return knows_script(self.prompts, prompt)

    def share(self, query: np.ndarray) -> float | None:
        """The predicted share of CJK titles the prompt wants (None: a vector of another size)."""
        q = np.asarray(query, np.float32).ravel()
        if q.shape != self.weight.shape:
            return None
        return min(1.0, max(0.0, float(q @ self.weight) + self.bias))


@lru_cache(maxsize=4)
def script_head(model_id: str) -> ScriptHead | None:
    """The head for ``model_id``, or None when none ships or it is damaged (said once in the log)."""

    def build(_about: dict, f, prompts: str) -> ScriptHead:
        weight, bias = np.asarray(f["weight"], np.float32).ravel(), float(f["bias"])
        if not np.all(np.isfinite(weight)) or not np.isfinite(bias):
            raise ValueError("its numbers are not finite")
        return ScriptHead(weight, bias, prompts)

    return read_fit(HEAD_FOLDER, model_id, "prompt-script head", build)


def learned_lean(query: np.ndarray, model_id: str) -> float:
    """The head's lean for a prompt's raw query vector: 2 × share − 1 (0: no head, or no opinion)."""
    head = script_head(model_id)
    share = head.share(query) if head is not None else None
    return 0.0 if share is None else 2.0 * share - 1.0


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
