"""int8 encoder quality on each CPU instruction set we ship to, against the fp32 graph.

    .venv/bin/python bench/int8_isa.py [--model multilingual-e5-small] [--texts 48] [--int8 FILE] [--fp32 FILE]

Dynamic int8 MatMuls run different kernels by instruction set: AVX-512 VNNI / AVX-VNNI machines
accumulate u8 x s8 products in int32, while AVX2-only machines (some of our AMD EPYCs) use
``vpmaddubsw``, which adds pairs of products in *saturating int16* — with full-range 8-bit weights
a pair can overflow, and the vectors drift (issue 10: cosine to the goldens 0.98 on MiniLM).
This bench embeds the bench corpus (``bench/embed.py``'s, one text per run, as the goldens are
made) with the fp32 graph natively (the reference) and with the int8 graph:

  * natively, on this machine's CPU (its flags are printed);
  * under ``qemu-x86_64 -cpu Haswell`` when qemu-user is installed (``apt-get install
    qemu-user``): an AVX2 CPU without AVX-512 or VNNI, emulated instruction by instruction, so
    MLAS picks its AVX2 kernels exactly as on such a machine (slow: keep ``--texts`` small).

The fp32 file is ``onnx_models/<id>/model.fp32.onnx`` when present, else it is exported from
PyTorch into a temporary folder (needs the ``export`` extra). Prints a table, then one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))
sys.path.insert(0, str(REPO))

from embed import build_corpus, ensure_fp32  # noqa: E402  (bench/embed.py)

EMULATED = {"avx2 (qemu Haswell)": ["qemu-x86_64", "-cpu", "Haswell"]}

_CHILD = """
import json, sys
import numpy as np
import onnxruntime as ort
so = ort.SessionOptions()
so.log_severity_level = 3
so.intra_op_num_threads = 1
sess = ort.InferenceSession(sys.argv[1], so, providers=["CPUExecutionProvider"])
ids = json.loads(open(sys.argv[2], encoding="utf-8").read())
out = [sess.run(["embedding"], {"input_ids": np.array([x], np.int64),
                                "attention_mask": np.ones((1, len(x)), np.int64)})[0][0] for x in ids]
np.save(sys.argv[3], np.stack(out))
"""


def cpu_flags() -> str:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return "unknown"
    flags = next((line.split(":", 1)[1].split() for line in text.splitlines() if line.startswith("flags")), [])
    keep = [f for f in ("avx2", "avx512f", "avx512bw", "avx512_vnni", "avx_vnni", "amx_int8") if f in flags]
    return " ".join(keep) or "no avx2"


def run_child(prefix: list[str], model: Path, ids_file: Path, out: Path) -> np.ndarray:
    env = dict(os.environ, OMP_NUM_THREADS="1", ORT_DISABLE_TELEMETRY="1")
    proc = subprocess.run(
        [*prefix, sys.executable, "-c", _CHILD, str(model), str(ids_file), str(out)],
        env=env,
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(prefix) or 'native'} run failed: {proc.stderr.strip()[-800:]}")
    return np.load(out)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="multilingual-e5-small")
    ap.add_argument("--texts", type=int, default=48)
    ap.add_argument("--int8", type=Path, help="int8 file to check (default: the model folder's)")
    ap.add_argument("--fp32", type=Path, help="fp32 reference file (default: the folder's, else exported)")
    ap.add_argument(
        "--golden", action="store_true", help="embed the model's golden texts instead (what the tests' bounds rest on)"
    )
    args = ap.parse_args()

    from tokenizers import Tokenizer

    folder = REPO / "onnx_models" / args.model
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    tok = Tokenizer.from_file(str(folder / manifest["tokenizer"]))
    tok.no_padding()
    tok.enable_truncation(max_length=int(manifest["tokenizer_config"]["truncation_max_length"]))
    prefix = manifest["prefixes"].get("passage", "")
    if args.golden:
        items = json.loads((folder / "golden.json").read_text(encoding="utf-8"))["items"]
        texts, ids = [it["input"] for it in items], [it["ids"] for it in items]
    else:
        texts = build_corpus(args.texts, lambda t: len(tok.encode(prefix + t).ids))
        ids = [e.ids for e in tok.encode_batch([prefix + t for t in texts])]
    int8 = args.int8 or folder / manifest["variants"]["cpu"]

    with tempfile.TemporaryDirectory(prefix="bench-isa-") as tmp:
        work = Path(tmp)
        fp32 = args.fp32 or ensure_fp32(args.model, folder, work)
        ids_file = work / "ids.json"
        ids_file.write_text(json.dumps(ids), encoding="utf-8")
        ref = run_child([], fp32, ids_file, work / "fp32.npy")
        rows = {f"native ({cpu_flags()})": []}
        for label, prefix_cmd in EMULATED.items():
            if shutil.which(prefix_cmd[0]):
                rows[label] = prefix_cmd
            else:
                print(f"[isa] {label}: {prefix_cmd[0]} not installed, skipped (apt-get install qemu-user)")
        results = {}
        for label, prefix_cmd in rows.items():
            vecs = run_child(prefix_cmd, int8, ids_file, work / "int8.npy")
            cos = np.sum(vecs * ref, axis=1) / (np.linalg.norm(vecs, axis=1) * np.linalg.norm(ref, axis=1))
            results[label] = cos

    lens = np.array([len(x) for x in ids])
    print(
        f"model {args.model}; int8 file {int8.name}; {len(texts)} texts, tokens mean {lens.mean():.0f}, "
        f"max {lens.max()}; reference: fp32 ONNX on this CPU, one text per run"
    )
    print()
    print("| CPU | mean cos vs fp32 | min cos vs fp32 | 5th percentile |")
    print("|---|---|---|---|")
    for label, cos in results.items():
        print(f"| {label} | {cos.mean():.5f} | {cos.min():.5f} | {np.percentile(cos, 5):.5f} |")
    print()
    print(
        json.dumps(
            {
                "model": args.model,
                "int8_file": int8.name,
                "texts": len(texts),
                "cpus": {
                    k: {"mean_cos": round(float(c.mean()), 5), "min_cos": round(float(c.min()), 5)}
                    for k, c in results.items()
                },
            },
            ensure_ascii=False,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
