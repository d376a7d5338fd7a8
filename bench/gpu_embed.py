#!/usr/bin/env python3
"""Embedding on CUDA and on the CPU, side by side: texts/s, the file and provider each runs, the cosine to fp32.

    python bench/gpu_embed.py [--model multilingual-e5-small] [--corpus 400] [--tracks 20000] [--passes 2]
                              [--models DIR] [--build] [--threads N]

Issue 16's device check, prepared to be one command on a lent GPU machine (docs/architecture.md, "For a
session that is lent one", says how its packages get there). What it embeds: ``bench/embed.py``'s corpus
(``--corpus`` texts: metadata lines and lyric windows of up to ~200 tokens, English and Chinese) and the
texts of ``--tracks`` tracks of ``bench/library_100k.py``'s library plan, as the app makes them
(``nlp/textview.py``: a metadata text per track, lyric windows for the tenth with lyrics).

Each provider runs through the product's own loader, ``Encoder.load`` (the file it picks for that provider,
its batch size, its check of where the nodes run): CUDA first when there is one (the ``cuda`` variant,
``model.fp16.onnx``), then the CPU (``model.int8.onnx``). Each embeds all the texts once to warm up, then
``--passes`` times; texts/s is the best pass. The reference is ``model.fp32.onnx`` on the CPU (written by
the export, which checks it against PyTorch): the cosine of every text's vector to it, mean and minimum,
for each provider. On CUDA the profile of one run says which provider ran each node; a work node (MatMul,
attention, layer norm, …) left on the CPU is listed.

``--build`` first makes the GPU variant into the models folder, as ``player-plugin models build --gpu``
does (``export/export_encoder.py --fp16``, keeping the folder's int8 file where there is one: the export
extra, torch and the weights' package).
Without CUDA (this project's CI, the development machine) the CUDA column says why and the CPU one runs;
without the fp32 file the cosines say so. A table, then one JSON line:
``{"model": …, "texts": n, "cuda": {"available": bool, "reason": …, "file": …, "texts_per_s": …,
"cos_fp32_mean": …, "cos_fp32_min": …, "cpu_hot_nodes": […]} | null, "cpu": {…}, "speedup": x | null}``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from embed import build_corpus  # noqa: E402  (bench/embed.py)
from embed import cos as embed_cos  # noqa: E402

from player_plugin.nlp.encoder import DEFAULT_MODEL_ID, Encoder  # noqa: E402
from player_plugin.nlp.runtime import CUDA, choose_provider, create_session  # noqa: E402
from player_plugin.nlp.textview import lyric_windows, metadata_text  # noqa: E402

LYRICS_WINDOW_TOKENS = 128  # as the app's text view packs them (nlp/textview.py's default)


def track_texts(n: int, count_tokens) -> list[str]:
    """The texts the app would embed for ``n`` tracks of the 100k bench's plan: metadata, then lyric windows."""
    from library_100k import plan_library

    texts: list[str] = []
    for t in plan_library(n):
        texts.append(metadata_text(t["title"], t["artists"], t["album"], [t["genre"]], (), t["year"]))
        if t["lyrics"] is not None:
            texts.extend(lyric_windows(t["lyrics"][1], count_tokens, LYRICS_WINDOW_TOKENS))
    return texts


def timed_embed(encoder: Encoder, ids: list[list[int]], passes: int) -> tuple[np.ndarray, float]:
    """(vectors, best texts/s over ``passes`` after one warm-up pass)."""
    vectors = encoder.embed_ids(ids)
    best = float("inf")
    for _ in range(passes):
        t0 = time.perf_counter()
        encoder.embed_ids(ids)
        best = min(best, time.perf_counter() - t0)
    return vectors, len(ids) / best


def fp32_reference(encoder: Encoder, ids: list[list[int]], threads: int | None) -> np.ndarray | None:
    """Every text's vector from ``model.fp32.onnx`` on the CPU, or None when the folder has no such file."""
    path = encoder.model_path.parent / encoder.manifest.data.get("variants", {}).get("fp32", "model.fp32.onnx")
    if not path.is_file():
        return None
    session = create_session(path, prefer_gpu=False, threads=threads)
    tokenizer = encoder.model_path.parent / encoder.manifest.data.get("tokenizer", "tokenizer.json")
    reference = Encoder(encoder.manifest, session, tokenizer_path=tokenizer)  # ids given: it never tokenises
    return reference.embed_ids(ids)


def build_gpu_variant(model: str, models: Path) -> None:
    """The export with ``--fp16``; it keeps the folder's int8 file, or quantises one where the folder has none
    (a lent machine, which the committed models cannot reach: docs/architecture.md)."""
    cmd = [sys.executable, str(REPO / "export" / "export_encoder.py"), "--model", model, "--fp16"]
    if (models / model / "model.int8.onnx").is_file():
        cmd.append("--reuse-int8")
    subprocess.run([*cmd, "--out", str(models)], check=True)


def provider_run(
    model: str, models: Path, prefer_gpu: bool, ids: list[list[int]], passes: int, threads: int | None
) -> dict:
    encoder = Encoder.load(model, models, prefer_gpu=prefer_gpu, threads=threads, background=False)
    vectors, rate = timed_embed(encoder, ids, passes)
    reference = fp32_reference(encoder, ids, threads)
    row = {
        "provider": encoder.provider,
        "file": encoder.model_path.name,
        "batch": encoder.batch_size,
        "texts_per_s": round(rate, 1),
        "cos_fp32_mean": None,
        "cos_fp32_min": None,
    }
    if reference is not None:
        cos = embed_cos(vectors, reference)  # bench/embed.py's, the same comparison
        row["cos_fp32_mean"], row["cos_fp32_min"] = round(float(cos.mean()), 6), round(float(cos.min()), 6)
    if encoder.provider == CUDA:
        from player_plugin.nlp.gpu import check_placement

        placed = check_placement(encoder.model_path, encoder.session.get_providers(), encoder.pad_id)
        row["cpu_hot_nodes"] = placed.cpu_hot if placed is not None else ["(the profile could not run)"]
    return row


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=DEFAULT_MODEL_ID)
    ap.add_argument("--models", type=Path, default=REPO / "onnx_models", help="the models folder (default: the repo's)")
    ap.add_argument("--corpus", type=int, default=400, help="texts of bench/embed.py's corpus")
    ap.add_argument("--tracks", type=int, default=20_000, help="tracks of bench/library_100k.py's plan")
    ap.add_argument("--passes", type=int, default=2)
    ap.add_argument("--threads", type=int, default=None, help="CPU threads (default: the app's)")
    ap.add_argument("--build", action="store_true", help="first build model.fp16.onnx (the export extra)")
    args = ap.parse_args()

    if args.build:
        build_gpu_variant(args.model, args.models)

    cpu = Encoder.load(args.model, args.models, prefer_gpu=False, threads=args.threads, background=False)

    def count_tokens(lines):
        return [len(x) for x in cpu.token_ids(list(lines))]

    texts = build_corpus(args.corpus, lambda t: count_tokens([t])[0]) + track_texts(args.tracks, count_tokens)
    ids = cpu.token_ids(cpu.prefixed(texts, "passage"))  # the same ids for every provider
    choice = choose_provider(True)
    result: dict = {"model": args.model, "texts": len(texts), "tokens": int(sum(len(x) for x in ids))}
    cuda_row = None
    if choice.chosen == CUDA:
        cuda_row = provider_run(args.model, args.models, True, ids, args.passes, args.threads)
    result["cuda"] = {"available": choice.chosen == CUDA, "reason": choice.reason, **(cuda_row or {})}
    result["cpu"] = provider_run(args.model, args.models, False, ids, args.passes, args.threads)
    on_cuda = cuda_row is not None and cuda_row["provider"] == CUDA
    result["speedup"] = round(cuda_row["texts_per_s"] / result["cpu"]["texts_per_s"], 2) if on_cuda else None

    rows = [("texts (tokens)", f"{len(texts):,} ({result['tokens']:,})")]
    for name in ("cuda", "cpu"):
        r = result[name]
        if name == "cuda" and cuda_row is None:
            rows.append(("CUDA", f"not available: {choice.reason}"))
            continue
        cos = "no fp32 file (--build writes it)" if r["cos_fp32_mean"] is None else (
            f"{r['cos_fp32_mean']:.6f} / {r['cos_fp32_min']:.6f}"
        )  # fmt: skip
        rows.append((f"{name}: file, provider, batch", f"{r['file']}, {r['provider']}, {r['batch']}"))
        rows.append((f"{name}: texts/s", f"{r['texts_per_s']:,.1f}"))
        rows.append((f"{name}: cosine to fp32, mean / min", cos))
        if "cpu_hot_nodes" in r:
            rows.append((f"{name}: work nodes left on the CPU", ", ".join(r["cpu_hot_nodes"]) or "none"))
    if result["speedup"] is not None:
        rows.append(("CUDA / CPU texts/s", f"{result['speedup']:.2f}x"))
    width = max(len(k) for k, _ in rows)
    print(f"{args.model} on {os.cpu_count()} CPU threads")
    for k, v in rows:
        print(f"{k:<{width}}  {v}")
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
