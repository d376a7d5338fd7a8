"""The vocabulary-subset tokenizer gives the full tokenizer's ids exactly, and the caches behind it hold up.

``QueryTokenizer`` lets a typed prompt skip building e5's 250k-piece vocabulary (about a second);
it is only worth having if it is exact, so it is compared with ``tokenizers`` on the committed
models' golden texts, the demo library's titles and lyrics, and random mixed-script strings.
"""

from __future__ import annotations

import json
import os
import random
import stat
from pathlib import Path

import pytest
from tokenizers import Tokenizer

from player_plugin import paths
from player_plugin.nlp import encoder as encoder_module
from player_plugin.nlp.encoder import Encoder
from player_plugin.nlp.file_cache import CHECKSUMS_FILE, cached_sha256
from player_plugin.nlp.manifest import load_manifest, sha256_file
from player_plugin.nlp.query_tokenizer import QueryTokenizer

MODELS_ROOT = Path(__file__).resolve().parents[1] / "onnx_models"
MODELS = ["all-minilm-l6-v2", "multilingual-e5-small"]
ALPHABET = (
    "abcdefXYZ éüñÅ  ,.!?'\"-_/()[]#&%$ 0123 雨夜的信下雨天的咖啡馆城市在下沉灯火 ｆｕｌｌ１２３。，！"
    "😀🎵 \u0301\u200b\t\n царь العربية 日本語カタカナ 한국어 ąęłż ß ﬁ Ⅻ"
)


def full_tokenizer(model_id: str) -> Tokenizer:
    m = load_manifest(MODELS_ROOT / model_id)
    tok = Tokenizer.from_file(str(m.folder / m.data["tokenizer"]))
    tok.no_padding()
    tok.enable_truncation(int(m.data["tokenizer_config"]["truncation_max_length"]))
    return tok


def query_tokenizer(model_id: str, cache: Path) -> QueryTokenizer:
    m = load_manifest(MODELS_ROOT / model_id)
    limit = int(m.data["tokenizer_config"]["truncation_max_length"])
    q = QueryTokenizer.for_file(m.folder / m.data["tokenizer"], m.files[m.data["tokenizer"]], limit, cache)
    assert q is not None
    return q


def sample_texts(model_id: str) -> list[str]:
    golden = json.loads((MODELS_ROOT / model_id / "golden.json").read_text(encoding="utf-8"))["items"]
    texts = [it["input"] for it in golden]
    demo = paths.demo_library_dir()
    texts += sorted({p.stem for p in demo.rglob("*") if p.is_file()})[:40]
    texts += [p.read_text(encoding="utf-8", errors="ignore")[:1500] for p in sorted(demo.rglob("*.lrc"))[:6]]
    rng = random.Random(1234)
    texts += ["".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 80))) for _ in range(150)]
    texts += ["", " ", "query: ", "word " * 700, "雨" * 900]  # empty, blank, prefix only, truncated
    return texts


@pytest.mark.parametrize("model_id", MODELS)
def test_subset_ids_equal_the_full_tokenizer(model_id, tmp_path):
    full = full_tokenizer(model_id)
    q = query_tokenizer(model_id, tmp_path)
    texts = sample_texts(model_id)
    one_by_one = [q.token_ids([t]) for t in texts]
    assert one_by_one == [[full.encode(t).ids] for t in texts]
    assert q.token_ids(texts[:20]) == [e.ids for e in full.encode_batch(texts[:20])]  # several texts at once


@pytest.mark.parametrize("model_id", MODELS)
def test_added_tokens_in_the_text_are_left_to_the_full_tokenizer(model_id, tmp_path):
    q = query_tokenizer(model_id, tmp_path)
    special = "<s>" if model_id.startswith("multilingual") else "[CLS]"
    assert q.token_ids([f"rain {special} night"]) is None


def test_cache_files_are_private_and_rebuilt_when_broken(tmp_path):
    cache = tmp_path / "tok"
    query_tokenizer("all-minilm-l6-v2", cache)
    (folder,) = cache.iterdir()
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    for f in folder.iterdir():
        assert stat.S_IMODE(f.stat().st_mode) == 0o600, f
    (folder / "sorted.txt").write_text("garbage", encoding="utf-8")  # damaged: rebuilt, never wrong ids
    m = load_manifest(MODELS_ROOT / "all-minilm-l6-v2")
    rebuilt = QueryTokenizer.for_file(m.folder / "tokenizer.json", m.files["tokenizer.json"], 256, cache)
    assert rebuilt is not None
    assert rebuilt.token_ids(["hello world"]) == [full_tokenizer("all-minilm-l6-v2").encode("hello world").ids]


def test_encoder_answers_queries_without_building_the_full_tokenizer(monkeypatch):
    built: list[Path] = []
    real = encoder_module._load_tokenizer
    monkeypatch.setattr(encoder_module, "_load_tokenizer", lambda p, n: built.append(p) or real(p, n))
    enc = Encoder.load("multilingual-e5-small", models_root=MODELS_ROOT, prefer_gpu=False)
    fast = enc.embed_query("rainy night, mellow")
    assert built == []
    expected = enc.tokenizer.encode("query: rainy night, mellow").ids  # builds the full one now
    assert len(built) == 1
    assert enc.token_ids(["query: rainy night, mellow"])[0] == expected
    assert float(fast @ enc.embed_query("rainy night, mellow")) > 0.9999


def test_a_stream_of_short_calls_switches_to_a_tokenizer_built_once(monkeypatch):
    enc = Encoder.load("all-minilm-l6-v2", models_root=MODELS_ROOT, prefer_gpu=False)
    for i in range(encoder_module.QUERY_TOKENIZER_MAX_CALLS + 1):
        enc.token_ids([f"line {i}"])
    assert enc._common is not None and enc._tokenizer is None  # Latin lines: the common-scripts subset
    enc.token_ids(["строка"])  # Cyrillic: only the full vocabulary knows it
    assert enc._tokenizer is not None


@pytest.mark.parametrize("model_id", MODELS)
def test_the_common_scripts_subset_equals_the_full_tokenizer_where_it_applies(model_id, tmp_path):
    """Latin, Chinese, Japanese and Korean texts get the full tokenizer's ids from the subset; a text
    with another script (Cyrillic, Arabic, emoji), or an added token's literal, is not given to it."""
    full = full_tokenizer(model_id)
    q = query_tokenizer(model_id, tmp_path)
    tok, keep = q.common_subset()
    if model_id.startswith("multilingual"):  # the point of it: e5 keeps far fewer pieces (MiniLM is English)
        assert len(keep) < full.get_vocab_size() * 0.6
    texts = sample_texts(model_id)
    rng = random.Random(99)
    common = "abcXYZ éüñÅąęłż ß ,.!?'\"-/()# 0123 雨夜的信下雨天 ｆｕｌｌ１２。，！ 日本語カタカナ ひらがな 한국어"
    texts += ["".join(rng.choice(common) for _ in range(rng.randint(1, 200))) for _ in range(200)]
    inside = [t for t in texts if q.in_common([t])]
    assert len(inside) > 200
    assert [[keep[i] for i in e.ids] for e in tok.encode_batch(inside)] == [e.ids for e in full.encode_batch(inside)]
    special = "<s>" if model_id.startswith("multilingual") else "[CLS]"
    for other in ("царь", "العربية", "rain 😀", f"rain {special} night"):
        assert not q.in_common([other]), other


def test_an_embed_of_latin_and_chinese_texts_never_builds_the_full_tokenizer(monkeypatch):
    """The embed job's texts (metadata lines, lyric windows) in Latin and CJK scripts: exact ids, and
    the full 250k-piece vocabulary — whose build holds the interpreter, the window included — is not built."""
    built: list[Path] = []
    real = encoder_module._load_tokenizer
    monkeypatch.setattr(encoder_module, "_load_tokenizer", lambda p, n: built.append(p) or real(p, n))
    enc = Encoder.load("multilingual-e5-small", models_root=MODELS_ROOT, prefer_gpu=False)
    texts = [t for t in sample_texts("multilingual-e5-small") if enc._query_tokenizer.in_common([t])]
    ids = [enc.token_ids(enc.prefixed(texts[i : i + 32], "passage")) for i in range(0, len(texts), 32)]
    assert built == [] and enc._tokenizer is None
    full = full_tokenizer("multilingual-e5-small")
    assert [x for chunk in ids for x in chunk] == [e.ids for e in full.encode_batch(enc.prefixed(texts, "passage"))]


def test_checksum_cache_hits_and_notices_a_changed_file(tmp_path):
    f = tmp_path / "model.bin"
    f.write_bytes(b"a" * 4096)
    assert cached_sha256(f) == sha256_file(f)
    cache_file = paths.cache_dir() / CHECKSUMS_FILE
    assert stat.S_IMODE(cache_file.stat().st_mode) == 0o600
    entry = next(iter(json.loads(cache_file.read_text()).values()))
    entry_sha = entry["sha256"]
    assert entry_sha == sha256_file(f)
    # same size, same mtime, other bytes: ctime moves, so the cache must not answer
    st = f.stat()
    f.write_bytes(b"b" * 4096)
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert cached_sha256(f) == sha256_file(f) != entry_sha


def test_corrupt_checksum_cache_is_ignored(tmp_path):
    f = tmp_path / "model.bin"
    f.write_bytes(b"x" * 100)
    cache_file = paths.cache_dir() / CHECKSUMS_FILE
    cache_file.parent.mkdir(parents=True, exist_ok=True)
    cache_file.write_text("{ not json", encoding="utf-8")
    assert cached_sha256(f) == sha256_file(f)
