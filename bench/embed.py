#!/usr/bin/env python3
"""Embedding throughput: PyTorch fp32 vs ONNX Runtime fp32 vs ONNX Runtime int8, on one realistic corpus.

    python bench/embed.py [--model multilingual-e5-small|all-minilm-l6-v2] [--texts 400] [--threads 2]

Corpus (built deterministically): track metadata lines ("Title: ... | Artist: ... | Genre: ...") and lyric windows
of up to ~200 tokens, English and Chinese, about half/half; lyrics come from the demo library's sidecar/embedded
lyrics when present, plus built-in lines. The model's passage prefix is applied. Every engine gets the same token
ids.

  (a) torch  : PyTorch fp32 (the export's own module), batches of 32 in input order
  (b) onnx32 : ORT fp32 (model.fp32.onnx), same batching
  (c) int8   : ORT int8 (model.int8.onnx), batches of 32 after sorting by length

Each engine runs in its own child process (so peak RSS = that engine alone, from getrusage ru_maxrss), with
torch.set_num_threads / ORT intra_op threads = --threads. texts/s is the best of 2 passes after a warm-up batch.
Needs the export extra (torch). The fp32 file is the model folder's ``model.fp32.onnx`` when an export left one
there, else this bench exports it from PyTorch into a temporary folder first (about a minute; nothing is written
to the model folder), so it runs from a clean checkout.
The last line of output is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
BATCH = 32

# ------------------------------------------------------------------------------------------------ corpus
EN_TITLES = [
    "Paper Satellites",
    "Rain on Glass",
    "Midnight Transit",
    "Static Summer",
    "Night Bus Freestyle",
    "Lantern Blues",
    "Smoke and Velvet",
    "Fog Over the Harbour",
    "Strobe Heart",
    "Sunday Laundry",
    "Kids on the Overpass",
    "Concrete Gardens",
    "Nocturne in E Minor",
    "Slow Weather",
    "Northern Line",
    "Glass Houses",
    "Wildfire Season",
    "Salt and Honey",
    "Echo Park",
    "Last Train Home",
]
EN_ARTISTS = [
    "Harbor Lights",
    "Mira Vale",
    "Neon Tide",
    "Lowkey Atlas",
    "The Blue Hour Trio",
    "Elena Voss",
    "sleepyhead fm",
    "Iron Sermon",
    "June Parade",
    "The Quiet Engines",
]
EN_ALBUMS = [
    "Paper Satellites",
    "Slow Weather",
    "Midnight Transit",
    "Concrete Gardens",
    "After Hours at the Lantern",
    "Nocturnes for Empty Rooms",
    "Tape Hiss Diaries",
    "Blackened Psalms",
    "Greenhouse",
    "City of Kites",
]
EN_GENRES = [
    "Indie rock",
    "Ambient folk",
    "Synthwave",
    "Hip hop",
    "Jazz trio",
    "Classical piano",
    "Lo-fi beats",
    "Doom metal",
    "Dream pop",
    "Acoustic singer-songwriter",
    "Deep house",
    "Country ballad",
]
EN_TAGS = [
    "melancholic",
    "upbeat",
    "late night",
    "rainy day",
    "dance",
    "chill",
    "heartbreak",
    "road trip",
    "workout",
    "nostalgic",
    "study",
    "party",
    "romantic",
    "angry",
    "hopeful",
]
ZH_TITLES = [
    "月亮",
    "雨夜的信",
    "旧街灯",
    "不说再见",
    "你我之间",
    "半城烟火",
    "南方以南",
    "火车慢",
    "外婆的院子",
    "霓虹心跳",
    "周末不回家",
    "竹影",
    "渔舟夜归",
    "涨潮之前",
    "城市在下沉",
    "回声",
    "下雨天的咖啡馆",
    "星河",
    "晚风",
    "候鸟",
]
ZH_ARTISTS = ["林夕雨", "陈默", "周晴", "古月", "小河乐队", "苏念", "白鹭", "夏至未至"]
ZH_ALBUMS = ["夜", "雨夜的信", "半城烟火", "南方以南", "霓虹心跳", "山水清音", "河床", "春日来信", "十七岁"]
ZH_GENRES = ["Mandopop ballad", "华语流行", "民谣", "电子舞曲", "古风", "独立摇滚", "R&B", "国风器乐", "城市民谣"]
ZH_TAGS = ["伤感", "治愈", "失恋", "夜晚", "派对", "怀旧", "安静", "励志", "雨天", "思念", "青春", "快节奏"]

EN_LINES = [
    "The streetlights hum a song I used to know",
    "every window on this road is dark tonight",
    "I kept your letters in a shoebox by the door",
    "we said forever on a Tuesday in July",
    "the radio plays the same old melody",
    "hold on to the last of the light",
    "the trains are leaving and the platform is cold",
    "I'm a stranger in the city tonight",
    "carrying a heart that's too heavy to hold",
    "the river keeps on running to the sea",
    "turn it up, turn it up, let the speakers shake the floor",
    "hands in the air till the morning comes",
    "we were kids on the overpass counting the cars",
    "paper satellites falling out of the sky",
    "rain on the glass like a slow drum roll",
    "coffee gone cold and the record skips",
    "I drove all night with the windows down",
    "your name is written in the dust on my car",
    "dancing alone in a kitchen at two",
    "the bass drops and the whole room jumps",
    "we light a fire on the edge of town",
    "maybe someday you will walk along this street",
    "I'm singing to the ceiling of an empty room",
    "summer static on a borrowed radio",
    "fog over the harbour, ships that never call",
    "every heartbeat sounds like a goodbye",
    "shadows stretching long across the floor",
    "I'll wait for you where the wild roses grow",
    "neon lights are bleeding in the rain",
    "the city never sleeps and neither do I",
]
ZH_LINES = [
    "雨夜的信写到第三页",
    "窗外的街灯一盏一盏熄灭",
    "我把想说的话折成纸船",
    "放进那条你走过的小河边",
    "你说过春天会回来",
    "风吹过空荡荡的站台",
    "旧唱片转了一遍又一遍",
    "那首歌唱的都是从前",
    "我们曾在屋顶数星星",
    "后来城市太大人海太挤",
    "我把你弄丢在人群里",
    "月亮照着回家的路",
    "不说再见是因为还想见",
    "一个人在深夜里听雨",
    "霓虹闪烁心跳加速",
    "今晚我们不回家",
    "跟着节奏一起摇摆",
    "音乐响起就忘了烦恼",
    "外婆的院子开满了花",
    "火车慢慢开过南方",
    "竹影摇晃在山水之间",
    "渔舟唱晚夜色温柔",
    "涨潮之前我们还在海边",
    "城市在下沉灯火在燃烧",
    "下雨天的咖啡馆没有你",
    "晚风吹过你的长发",
    "候鸟飞过十七岁的夏天",
    "我学会了一个人旅行",
    "却学不会忘记你的名字",
    "眼泪在灯下闪着光",
]


def _read_lyrics_file(path: Path) -> str:
    raw = path.read_bytes()
    for enc in ("utf-8-sig", "utf-16", "gb18030", "big5", "latin-1"):
        try:
            text = raw.decode(enc)
        except UnicodeDecodeError:
            continue
        if enc == "utf-16" and not raw.startswith((b"\xff\xfe", b"\xfe\xff")):
            continue
        return text
    return ""


def _clean_lyrics(text: str) -> list[str]:
    lines = []
    for line in text.splitlines():
        line = re.sub(r"\[[^\]]*\]", "", line).strip()  # LRC time stamps and [ti:] tags
        if line:
            lines.append(line)
    return lines


def demo_lyrics(root: Path) -> tuple[list[str], list[str]]:
    """(English lines, Chinese lines) from the demo library's sidecar and embedded lyrics; empty if absent."""
    en: list[str] = []
    zh: list[str] = []
    if not root.is_dir():
        return en, zh
    texts: list[str] = []
    for p in sorted(root.rglob("*")):
        if p.suffix.lower() in (".lrc", ".txt") and p.name != "CREDITS.md":
            texts.append(_read_lyrics_file(p))
        elif p.suffix.lower() in (".mp3", ".flac", ".ogg", ".opus", ".m4a"):
            try:
                import mutagen

                f = mutagen.File(p)
                tags = getattr(f, "tags", None) or {}
                for key in list(tags.keys()):
                    k = str(key).lower()
                    if k.startswith("uslt") or k == "lyrics" or k == "\xa9lyr":
                        val = tags[key]
                        val = getattr(val, "text", val)
                        texts.append(val if isinstance(val, str) else "\n".join(map(str, val)))
            except Exception:
                pass
    for t in texts:
        for line in _clean_lyrics(t):
            (zh if re.search(r"[\u4e00-\u9fff]", line) else en).append(line)
    return sorted(set(en)), sorted(set(zh))


def build_corpus(n: int, count_tokens, seed: int = 0) -> list[str]:
    """n texts, half metadata lines, half lyric windows (<= ~200 tokens); English/Chinese alternating."""
    rng = random.Random(seed)
    d_en, d_zh = demo_lyrics(REPO / "resources" / "demo_library")
    en_lines, zh_lines = EN_LINES + d_en, ZH_LINES + d_zh
    texts: list[str] = []
    for i in range(n):
        zh = i % 2 == 1
        if (i // 2) % 2 == 0:  # metadata line
            if zh:
                fields = [
                    f"Title: {rng.choice(ZH_TITLES)}",
                    f"Artist: {rng.choice(ZH_ARTISTS)}",
                    f"Album: {rng.choice(ZH_ALBUMS)}",
                    f"Genre: {rng.choice(ZH_GENRES)}",
                ]
                tags = rng.sample(ZH_TAGS, rng.randint(0, 3))
            else:
                fields = [
                    f"Title: {rng.choice(EN_TITLES)}",
                    f"Artist: {rng.choice(EN_ARTISTS)}",
                    f"Album: {rng.choice(EN_ALBUMS)}",
                    f"Genre: {rng.choice(EN_GENRES)}",
                ]
                tags = rng.sample(EN_TAGS, rng.randint(0, 3))
            fields.append(f"Year: {rng.randint(1968, 2024)}")
            if tags:
                fields.append("Tags: " + ", ".join(tags))
            texts.append(" | ".join(fields))
        else:  # lyric window: lines until a target token count in 24..200
            target = rng.randint(24, 200)
            pool = zh_lines if zh else en_lines
            sep = "，" if zh else ", "
            parts: list[str] = []
            while True:
                parts.append(rng.choice(pool))
                candidate = sep.join(parts)
                if count_tokens(candidate) >= target:
                    if count_tokens(candidate) > 200 and len(parts) > 1:
                        parts.pop()
                        candidate = sep.join(parts)
                    break
            texts.append(candidate)
    return texts


# ------------------------------------------------------------------------------------------------ engines
def batches(order: list[int], size: int) -> list[list[int]]:
    return [order[i : i + size] for i in range(0, len(order), size)]


def pad(ids: list[list[int]], pad_id: int) -> tuple[np.ndarray, np.ndarray]:
    n = max(len(x) for x in ids)
    a = np.full((len(ids), n), pad_id, dtype=np.int64)
    m = np.zeros((len(ids), n), dtype=np.int64)
    for i, x in enumerate(ids):
        a[i, : len(x)] = x
        m[i, : len(x)] = 1
    return a, m


def child(engine: str, work: Path, model_id: str, threads: int, passes: int, fp32: Path) -> None:
    corpus = json.loads((work / "corpus.json").read_text(encoding="utf-8"))
    ids: list[list[int]] = corpus["ids"]
    pad_id: int = corpus["pad_id"]
    folder = REPO / "onnx_models" / model_id
    t_load = time.perf_counter()
    if engine == "torch":
        import torch

        torch.set_num_threads(threads)
        torch.set_num_interop_threads(1)
        sys.path.insert(0, str(REPO))
        from export.export_encoder import SPECS, load_source, make_encoder

        bert, _, _ = load_source(SPECS[model_id])
        enc = make_encoder(bert)

        def run(a: np.ndarray, m: np.ndarray) -> np.ndarray:
            with torch.inference_mode():
                return enc(torch.from_numpy(a), torch.from_numpy(m)).numpy()
    else:
        import onnxruntime as ort

        so = ort.SessionOptions()
        so.intra_op_num_threads = threads
        so.inter_op_num_threads = 1
        so.log_severity_level = 3
        path = fp32 if engine == "onnx32" else folder / "model.int8.onnx"
        sess = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])

        def run(a: np.ndarray, m: np.ndarray) -> np.ndarray:
            return sess.run(["embedding"], {"input_ids": a, "attention_mask": m})[0]

    load_s = time.perf_counter() - t_load
    order = list(range(len(ids)))
    if engine == "int8":
        order.sort(key=lambda i: len(ids[i]))
    plan = batches(order, BATCH)
    run(*pad([ids[i] for i in plan[0]], pad_id))  # warm-up
    times = []
    out = np.zeros((len(ids), 0), dtype=np.float32)
    for _ in range(passes):
        t = time.perf_counter()
        vecs = {}
        for b in plan:
            res = run(*pad([ids[i] for i in b], pad_id))
            for i, v in zip(b, res, strict=True):
                vecs[i] = v
        times.append(time.perf_counter() - t)
        out = np.stack([vecs[i] for i in range(len(ids))])
    np.save(work / f"{engine}.npy", out)
    padded_tokens = sum(len(b) * max(len(ids[i]) for i in b) for b in plan)
    (work / f"{engine}.json").write_text(
        json.dumps(
            {
                "engine": engine,
                "best_s": min(times),
                "times_s": times,
                "load_s": load_s,
                "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                "padded_tokens": padded_tokens,
            }
        )
    )


def ensure_fp32(model_id: str, folder: Path, work: Path) -> Path:
    """The fp32 reference graph: the folder's own file, else exported from PyTorch into ``work``.

    The export runs in a child process: a parent that had loaded torch would pass its peak RSS on to
    every engine child (Linux keeps ``ru_maxrss`` across exec), spoiling their memory figures."""
    existing = folder / "model.fp32.onnx"
    if existing.is_file():
        return existing
    path = work / "model.fp32.onnx"
    print(f"[bench] no {existing.name} in {folder}: exporting it from PyTorch to {path} ...", flush=True)
    proc = subprocess.run([sys.executable, __file__, "--export-fp32", str(path), "--model", model_id])
    if proc.returncode != 0 or not path.is_file():
        raise SystemExit(f"could not build {path} (exit {proc.returncode})")
    return path


def export_fp32(model_id: str, path: Path) -> int:
    try:
        import torch  # noqa: F401
    except ImportError:
        print(
            "model.fp32.onnx is absent and PyTorch is not installed to build it: install the export extra "
            "(python -m pip install torch==2.13.0 && python -m pip install -e '.[export]'), see export/README.md",
            file=sys.stderr,
        )
        return 2
    sys.path.insert(0, str(REPO))
    from export.export_encoder import SPECS, export_onnx, load_source, make_encoder

    spec = SPECS[model_id]
    bert, _, _ = load_source(spec)
    export_onnx(make_encoder(bert), path, int(spec.tokenizer_config["pad_id"]), spec.max_tokens)
    return 0


# --------------------------------------------------------------------------------------------------- main
def cos(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.sum(a * b, axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="multilingual-e5-small")
    ap.add_argument("--texts", type=int, default=400)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--passes", type=int, default=2)
    ap.add_argument("--child", choices=["torch", "onnx32", "int8"], help=argparse.SUPPRESS)
    ap.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--fp32", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--export-fp32", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.export_fp32:
        return export_fp32(args.model, args.export_fp32)
    if args.child:
        child(args.child, args.work, args.model, args.threads, args.passes, args.fp32)
        return 0

    from tokenizers import Tokenizer

    folder = REPO / "onnx_models" / args.model
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    if not (folder / "model.int8.onnx").is_file():
        print(f"missing model.int8.onnx in {folder}: run python export/export_encoder.py --model {args.model}")
        return 2
    cfg = manifest["tokenizer_config"]
    tok = Tokenizer.from_file(str(folder / manifest["tokenizer"]))
    tok.enable_truncation(max_length=int(cfg["truncation_max_length"]))
    tok.no_padding()
    prefix = manifest["prefixes"].get("passage", "")

    def count(text: str) -> int:
        return len(tok.encode(prefix + text).ids)

    texts = build_corpus(args.texts, count)
    full = [prefix + t for t in texts]
    ids = [e.ids for e in tok.encode_batch(full)]
    lens = np.array([len(x) for x in ids])
    zh = sum(bool(re.search(r"[\u4e00-\u9fff]", t)) for t in texts)
    print(
        f"corpus: {len(texts)} texts ({zh} Chinese, {len(texts) - zh} other), tokens mean {lens.mean():.1f}, "
        f"median {np.median(lens):.0f}, max {lens.max()}; model {args.model}; {args.threads} threads; "
        f"batch {BATCH}; best of {args.passes} passes"
    )

    with tempfile.TemporaryDirectory(prefix="bench-embed-") as tmp:
        work = Path(tmp)
        (work / "corpus.json").write_text(json.dumps({"ids": ids, "pad_id": int(cfg["pad_id"])}), encoding="utf-8")
        fp32 = ensure_fp32(args.model, folder, work)
        results = {}
        vecs = {}
        for engine in ("torch", "onnx32", "int8"):
            cmd = [
                sys.executable,
                __file__,
                "--child",
                engine,
                "--work",
                str(work),
                "--model",
                args.model,
                "--threads",
                str(args.threads),
                "--passes",
                str(args.passes),
                "--fp32",
                str(fp32),
            ]
            env = dict(os.environ, OMP_NUM_THREADS=str(args.threads), HF_HUB_OFFLINE="1", PYTHONWARNINGS="ignore")
            proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
            if proc.returncode != 0:
                print(proc.stdout[-2000:], proc.stderr[-4000:])
                return 1
            results[engine] = json.loads((work / f"{engine}.json").read_text())
            vecs[engine] = np.load(work / f"{engine}.npy")

    labels = {"torch": "(a) PyTorch fp32", "onnx32": "(b) ONNX Runtime fp32", "int8": "(c) ONNX Runtime int8"}
    batching = {"torch": "input order", "onnx32": "input order", "int8": "length-sorted"}
    tps = {e: len(texts) / r["best_s"] for e, r in results.items()}
    print()
    print(
        "| engine | batching (32) | texts/s | s per pass | padded tokens | peak RSS (MB) | load (s) "
        "| mean cos vs (a) | min cos vs (a) |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for e, r in results.items():
        c = cos(vecs[e], vecs["torch"])
        print(
            f"| {labels[e]} | {batching[e]} | {tps[e]:.1f} | {r['best_s']:.2f} | {r['padded_tokens']} "
            f"| {r['peak_rss_mb']:.0f} | {r['load_s']:.1f} | {c.mean():.5f} | {c.min():.5f} |"
        )
    speed = tps["int8"] / tps["torch"]
    c8 = float(cos(vecs["int8"], vecs["torch"]).mean())
    print()
    print(f"int8 vs torch: {speed:.2f}x texts/s (target >= 3x), mean cosine {c8:.4f} (target >= 0.98)")
    print(
        json.dumps(
            {
                "texts": len(texts),
                "torch_texts_per_s": round(tps["torch"], 2),
                "onnx_fp32_texts_per_s": round(tps["onnx32"], 2),
                "onnx_int8_texts_per_s": round(tps["int8"], 2),
                "speedup_int8_vs_torch": round(speed, 3),
                "mean_cosine_int8_vs_torch": round(c8, 5),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
