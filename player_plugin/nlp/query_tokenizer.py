"""Exact token ids for a few short texts without building the whole vocabulary.

Building e5's tokenizer (``Tokenizer.from_file`` on a 250,002-piece Unigram vocabulary) costs about
a second of CPU — more than creating the ONNX session and running it — while a typed query needs a
handful of pieces. A Unigram lattice and a WordPiece greedy match only ever look up *substrings of
the pre-tokenized words*, so a tokenizer whose vocabulary holds exactly the pieces that occur as
substrings of this input (plus the special and unknown tokens, and for Unigram the lowest-scoring
piece, which fixes the unknown-token penalty) segments the input exactly as the full one does; its
ids are then mapped back to the full vocabulary's. Texts that contain an added token's literal text
(``<s>``, ``[CLS]``…) are left to the full tokenizer (``token_ids`` returns ``None``).

The vocabulary is read once from ``tokenizer.json`` into a compact cache (pieces, scores and the
rest of the JSON) under the user's cache folder, keyed by the tokenizer's sha256.
"""

from __future__ import annotations

import json
import logging
import os
import re
from array import array
from collections.abc import Sequence
from pathlib import Path

from player_plugin.private_files import private_dir, write_private

log = logging.getLogger(__name__)

CACHE_VERSION = 3  # 3: the longest piece in _meta
SEPARATOR = "\n"  # between pieces in the cache; a vocabulary holding it gets no cache (full tokenizer)
WORDPIECE_PREFIX_KEY = "continuing_subword_prefix"
# The scripts of the common subset (:meth:`QueryTokenizer.common_subset`): Latin with its extensions and
# punctuation, and Chinese, Japanese and Korean (the metaspace ▁ too). e5's full vocabulary also holds
# Cyrillic, Arabic, Devanagari, Thai…; without them it keeps about half its pieces and builds in a
# fifth of the time, while the build holds the interpreter (no other thread runs, the window included).
COMMON_SCRIPTS = (
    "\u0000-\u024f"  # Basic Latin, Latin-1, Latin Extended-A and -B
    "\u1100-\u11ff"  # Hangul jamo (what a decomposing normalizer makes of Hangul syllables)
    "\u2000-\u206f"  # general punctuation
    "\u2580-\u259f"  # block elements: the metaspace ▁
    "\u3000-\u30ff"  # CJK symbols and punctuation, hiragana, katakana
    "\u3400-\u4dbf\u4e00-\u9fff"  # CJK unified ideographs (and extension A)
    "\uac00-\ud7af"  # Hangul syllables
    "\uff00-\uffef"  # half- and fullwidth forms
)
_OUTSIDE_COMMON = re.compile(f"[^{COMMON_SCRIPTS}]")


class QueryTokenizer:
    """Token ids of short texts, identical to the full tokenizer's; see the module docstring."""

    def __init__(self, skeleton: dict, index: _SortedPieces, scores: array | None, truncation: int) -> None:
        self._skeleton = skeleton
        self._index = index
        self._scores = scores
        self._truncation = truncation
        model = skeleton["model"]
        self._kind = model["type"]
        meta = skeleton["_meta"]
        # pieces every subset holds: added/special tokens, the unknown token, the lowest score
        self._always: dict[int, str] = {int(t["id"]): str(t["content"]) for t in skeleton.get("added_tokens", [])}
        self._always.update({int(i): str(p) for i, p in meta["always"]})
        self._added = [str(t["content"]) for t in skeleton.get("added_tokens", [])]
        self._longest = int(meta["longest"])
        self._prefix = "" if self._kind == "Unigram" else str(model.get(WORDPIECE_PREFIX_KEY, "##"))
        self._front = _front_end(skeleton)

    # -- construction ---------------------------------------------------------------------------------

    @classmethod
    def for_file(cls, tokenizer_json: Path, sha256: str, truncation: int, cache_root: Path) -> QueryTokenizer | None:
        """From the cache (built on first use); ``None`` when this tokenizer's model type is not supported."""
        folder = cache_root / f"v{CACHE_VERSION}-{sha256[:32]}"
        for attempt in range(2):  # a damaged cache is rebuilt once
            try:
                if attempt or not (folder / "skeleton.json").is_file():
                    _build_cache(tokenizer_json, folder)
                return cls._from_cache(folder, truncation)
            except (OSError, ValueError, KeyError, TypeError, IndexError, EOFError) as exc:
                log.debug("query tokenizer cache %s unusable (%s)", folder, exc)
        return None

    @classmethod
    def _from_cache(cls, folder: Path, truncation: int) -> QueryTokenizer | None:
        skeleton = json.loads((folder / "skeleton.json").read_text(encoding="utf-8"))
        if skeleton.get("unsupported"):
            return None
        count = int(skeleton["_meta"]["piece_count"])
        index = _SortedPieces(
            (folder / "sorted.txt").read_text(encoding="utf-8"),
            _ints(folder / "sorted_offsets.i32", count + 1),
            _ints(folder / "sorted_ids.i32", count),
        )
        scores = None
        if skeleton["model"]["type"] == "Unigram":
            scores = array("d")
            scores.frombytes((folder / "scores.f64").read_bytes())
            if len(scores) != count:
                raise ValueError("scores and pieces differ in length")
        return cls(skeleton, index, scores, truncation)

    # -- work -----------------------------------------------------------------------------------------

    def token_ids(self, texts: Sequence[str]) -> list[list[int]] | None:
        """Ids with special tokens and truncation, as the full tokenizer gives; ``None`` = use the full one."""
        if any(token in text for text in texts for token in self._added):
            return None
        found = dict(self._always)
        for piece in self._candidates(texts):
            pid = self._index.find(piece)
            if pid is not None:
                found[pid] = piece
        keep = sorted(found)
        tok = self._subset_tokenizer([(i, found[i]) for i in keep])
        return [[keep[i] for i in e.ids] for e in tok.encode_batch(list(texts))]

    def common_subset(self) -> tuple[object, list[int]]:
        """(a ``tokenizers.Tokenizer`` holding only the pieces written in :data:`COMMON_SCRIPTS`, its ids
        in the full vocabulary). It segments any text whose normalized form stays in those scripts
        exactly as the full tokenizer does (a piece with another character can never match such a
        text), so :meth:`in_common` says when it may be used."""
        found = dict(self._always)
        outside, prefix, index = _OUTSIDE_COMMON.search, self._prefix, self._index
        for n in range(len(index)):
            piece = index.piece(n)
            if not outside(piece.removeprefix(prefix) if prefix else piece):
                found[index.id(n)] = piece
        keep = sorted(found)
        return self._subset_tokenizer([(i, found[i]) for i in keep]), keep

    def in_common(self, texts: Sequence[str]) -> bool:
        """Whether every text, normalized, is written in :data:`COMMON_SCRIPTS` alone and holds no
        added token's literal text: then :meth:`common_subset` tokenizes it exactly."""
        if any(token in text for text in texts for token in self._added):
            return False
        normalizer = self._front[0]
        outside = _OUTSIDE_COMMON.search
        return not any(outside(normalizer.normalize_str(t) if normalizer is not None else t) for t in texts)

    def _candidates(self, texts: Sequence[str]) -> set[str]:
        """Every substring of every pre-tokenized word (and its WordPiece continuation form), up to the
        vocabulary's longest piece: a Chinese line is one "word" to the pre-tokenizer, and all its
        substrings would be quadratic in its length."""
        normalizer, pre_tokenizer = self._front
        out: set[str] = set()
        for text in texts:
            normalized = normalizer.normalize_str(text) if normalizer is not None else text
            words = [w for w, _ in pre_tokenizer.pre_tokenize_str(normalized)] if pre_tokenizer else [normalized]
            for word in words:
                for i in range(len(word)):
                    for j in range(i + 1, min(len(word), i + self._longest) + 1):
                        sub = word[i:j]
                        out.add(sub)
                        if self._prefix:
                            out.add(self._prefix + sub)
        return out

    def _subset_tokenizer(self, keep: list[tuple[int, str]]):
        from tokenizers import Tokenizer

        new_id = {old: new for new, (old, _) in enumerate(keep)}
        data = {k: v for k, v in self._skeleton.items() if k != "_meta"}
        model = dict(data["model"])
        if self._kind == "Unigram":
            assert self._scores is not None
            model["vocab"] = [[piece, self._scores[i]] for i, piece in keep]
            model["unk_id"] = new_id[int(model["unk_id"])]
        else:
            model["vocab"] = {piece: n for n, (_, piece) in enumerate(keep)}
        data["model"] = model
        data["added_tokens"] = [dict(t, id=new_id[int(t["id"])]) for t in data.get("added_tokens", [])]
        data["post_processor"] = _remap_post_processor(data.get("post_processor"), new_id)
        tok = Tokenizer.from_str(json.dumps(data))
        tok.no_padding()
        tok.enable_truncation(self._truncation)
        return tok


class _SortedPieces:
    """The vocabulary as one sorted text with offsets: found by binary search, no per-piece objects."""

    def __init__(self, text: str, offsets: array, ids: array) -> None:
        if len(offsets) != len(ids) + 1 or offsets[-1] != len(text):
            raise ValueError("sorted piece index does not match its text")
        self._text, self._offsets, self._ids = text, offsets, ids

    def __len__(self) -> int:
        return len(self._ids)

    def _piece(self, n: int) -> str:
        return self._text[self._offsets[n] : self._offsets[n + 1] - 1]

    piece = _piece  # the n-th piece in sorted order

    def id(self, n: int) -> int:
        """The full vocabulary's id of the n-th piece in sorted order."""
        return int(self._ids[n])

    def find(self, piece: str) -> int | None:
        """The piece's id in the full vocabulary, or ``None``."""
        lo, hi = 0, len(self._ids)
        while lo < hi:
            mid = (lo + hi) // 2
            if self._piece(mid) < piece:
                lo = mid + 1
            else:
                hi = mid
        if lo < len(self._ids) and self._piece(lo) == piece:
            return int(self._ids[lo])
        return None


def _ints(path: Path, count: int) -> array:
    out = array("i")
    out.frombytes(path.read_bytes())
    if len(out) != count:
        raise ValueError(f"{path.name}: {len(out)} entries, expected {count}")
    return out


def _front_end(skeleton: dict):
    """The normalizer and pre-tokenizer of this tokenizer, built from a one-piece vocabulary."""
    from tokenizers import Tokenizer

    data = {k: v for k, v in skeleton.items() if k != "_meta"}
    model = dict(data["model"])
    if model["type"] == "Unigram":
        model["vocab"], model["unk_id"] = [["<unk>", 0.0]], 0
    else:
        model["vocab"] = {model["unk_token"]: 0}
    data.update(model=model, added_tokens=[], post_processor=None)
    tok = Tokenizer.from_str(json.dumps(data))
    return tok.normalizer, tok.pre_tokenizer


def _remap_post_processor(proc: dict | None, new_id: dict[int, int]) -> dict | None:
    if proc is None:
        return None
    proc = json.loads(json.dumps(proc))
    if proc.get("type") == "TemplateProcessing":
        for special in proc.get("special_tokens", {}).values():
            special["ids"] = [new_id[int(i)] for i in special["ids"]]
    elif proc.get("type") in ("BertProcessing", "RobertaProcessing"):
        for key in ("sep", "cls"):
            proc[key] = [proc[key][0], new_id[int(proc[key][1])]]
    else:
        raise ValueError(f"post-processor {proc.get('type')} not supported")
    return proc


def _build_cache(tokenizer_json: Path, folder: Path) -> None:
    data = json.loads(tokenizer_json.read_text(encoding="utf-8"))
    model = data.get("model", {})
    skeleton = {k: v for k, v in data.items() if k != "model"}
    skeleton["model"] = {k: v for k, v in model.items() if k != "vocab"}
    pieces: list[str] = []
    scores: list[float] = []
    always: list[tuple[int, str]] = []
    supported = True
    if model.get("type") == "Unigram" and not model.get("byte_fallback"):
        pieces = [str(p) for p, _ in model["vocab"]]
        scores = [float(s) for _, s in model["vocab"]]
        lowest = min(range(len(scores)), key=scores.__getitem__)
        unk = int(model["unk_id"])
        always = [(unk, pieces[unk]), (lowest, pieces[lowest])]
    elif model.get("type") == "WordPiece":
        by_id = sorted(model["vocab"].items(), key=lambda kv: kv[1])
        supported = [i for _, i in by_id] == list(range(len(by_id))) and model.get("unk_token") in model["vocab"]
        pieces = [p for p, _ in by_id]
        if supported:
            always = [(int(model["vocab"][model["unk_token"]]), str(model["unk_token"]))]
    else:
        supported = False
    proc = (data.get("post_processor") or {}).get("type")
    supported = supported and proc in (None, "TemplateProcessing", "BertProcessing", "RobertaProcessing")
    supported = supported and not any(SEPARATOR in p for p in pieces) and "" not in pieces
    supported = supported and len(set(pieces)) == len(pieces)
    private_dir(folder)
    if supported:
        order = sorted(range(len(pieces)), key=pieces.__getitem__)
        offsets = [0]
        for i in order:
            offsets.append(offsets[-1] + len(pieces[i]) + 1)
        write_private(folder / "sorted.txt", "".join(pieces[i] + SEPARATOR for i in order).encode("utf-8"))
        write_private(folder / "sorted_offsets.i32", array("i", offsets).tobytes())
        write_private(folder / "sorted_ids.i32", array("i", order).tobytes())
        if scores:
            write_private(folder / "scores.f64", array("d", scores).tobytes())
        longest = max((len(p.removeprefix(str(model.get(WORDPIECE_PREFIX_KEY, "")))) for p in pieces), default=0)
        skeleton["_meta"] = {"piece_count": len(pieces), "always": always, "longest": longest}
    else:
        skeleton = {"unsupported": True}
    # written last: its presence means the cache is complete
    write_private(folder / "skeleton.json", json.dumps(skeleton).encode("utf-8"))
    log.debug("query tokenizer cache written to %s (pid %d)", folder, os.getpid())
