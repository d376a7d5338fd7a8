"""How long the CLI takes to answer one query, against the floor of a bare onnxruntime session.

    .venv/bin/python bench/cli_latency.py [--runs 5] [--model multilingual-e5-small]

A warm-up scans and embeds the demo library into a temporary database (temporary HOME too, so the
checksum and graph caches start empty and are filled once, as on a user's first query). Then, in
alternation so that both see the same machine load, each run starts a fresh Python process for:

  (a) bare : ``import numpy, onnxruntime``; an ``InferenceSession`` on the model's CPU file with
             default options; one run on a short query's token ids — the least any query can cost;
  (b) cli  : ``player-plugin --db DB similar "rainy night"`` — the whole command a user types
             (interpreter start, imports, database, model checks, tokenizer, session, ranking, output).

Wall time from spawn to exit. Prints a table of medians, then one JSON line with the ratio
cli / bare (issue 10's goal: <= 1.5).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
QUERY = "rainy night"
GOAL_RATIO = 1.5

_BARE = """
import json, sys
import numpy as np
import onnxruntime as ort
sess = ort.InferenceSession(sys.argv[1], providers=["CPUExecutionProvider"])
ids = np.array([json.loads(sys.argv[2])], dtype=np.int64)
sess.run(None, {"input_ids": ids, "attention_mask": np.ones_like(ids)})
"""


def _cli() -> list[str]:
    exe = Path(sys.executable).with_name("player-plugin")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "player_plugin.cli"]


def query_ids(manifest) -> list[int]:
    """The query's token ids, so the bare process runs the same input without loading a tokenizer."""
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(manifest.folder / manifest.data["tokenizer"]))
    return tok.encode(manifest.data["prefixes"]["query"] + QUERY).ids


def timed(cmd: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"{cmd[:3]} failed ({proc.returncode}): {proc.stderr.strip()[-500:]}")
    return elapsed


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--model", default="multilingual-e5-small")
    args = ap.parse_args()

    from player_plugin import paths
    from player_plugin.nlp.manifest import load_manifest

    manifest = load_manifest(paths.models_dir() / args.model)
    model_file = manifest.folder / manifest.data["variants"]["cpu"]
    with tempfile.TemporaryDirectory(prefix="bench-cli-") as tmp:
        home = Path(tmp) / "home"
        home.mkdir()
        env = dict(os.environ, HOME=str(home), PLAYER_PLUGIN_DEVICE="cpu", PYTHONWARNINGS="ignore")
        # a user's Python writes bytecode caches (the bare process's numpy and onnxruntime have theirs
        # from pip): so may ours, or (b) would pay for compiling our modules at every run
        unset = ("XDG_CACHE_HOME", "XDG_DATA_HOME", "PLAYER_PLUGIN_HOME", "PLAYER_PLUGIN_DB", "PYTHONDONTWRITEBYTECODE")
        for var in unset:
            env.pop(var, None)
        db = str(Path(tmp) / "library.db")
        cli = [*_cli(), "--db", db]
        subprocess.run([*cli, "scan", str(paths.demo_library_dir())], env=env, check=True, capture_output=True)
        subprocess.run([*cli, "embed", "--model", args.model], env=env, check=True, capture_output=True)
        first = timed([*cli, "similar", QUERY], env)  # fills the caches a first query fills
        bare_cmd = [sys.executable, "-c", _BARE, str(model_file), json.dumps(query_ids(manifest))]
        times: dict[str, list[float]] = {"bare": [], "cli": []}
        for _ in range(args.runs):
            times["bare"].append(timed(bare_cmd, env))
            times["cli"].append(timed([*cli, "similar", QUERY], env))

    med = {k: statistics.median(v) for k, v in times.items()}
    ratio = med["cli"] / med["bare"]
    print(f"model {args.model} ({model_file.name}); {args.runs} alternating runs; query {QUERY!r}")
    print()
    print("| process | median (s) | min (s) | max (s) | vs bare |")
    print("|---|---|---|---|---|")
    labels = {"bare": "(a) bare session + one run", "cli": "(b) player-plugin similar"}
    for key, label in labels.items():
        vals = times[key]
        print(f"| {label} | {med[key]:.2f} | {min(vals):.2f} | {max(vals):.2f} | {med[key] / med['bare']:.2f}x |")
    print(f"| (b) first query (fills the caches) | {first:.2f} | | | {first / med['bare']:.2f}x |")
    print()
    print(f"cli / bare: {ratio:.2f}x (goal <= {GOAL_RATIO}x)")
    print(
        json.dumps(
            {
                "model": args.model,
                "runs": args.runs,
                "bare_s_median": round(med["bare"], 3),
                "cli_s_median": round(med["cli"], 3),
                "cli_first_s": round(first, 3),
                "ratio_cli_vs_bare": round(ratio, 3),
                "goal_ratio": GOAL_RATIO,
                "at": time.strftime("%Y-%m-%d"),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
