"""The GPU path: which file a provider runs, where each node of a session runs, and how big a batch is.

On CUDA the encoder runs the manifest's ``cuda`` variant (``model.fp16.onnx``, built once on the user's
machine by ``player-plugin models build --gpu``; else ``fp32``): the int8 file's dynamic-quantisation
ops are CPU kernels, so on a GPU it would run mostly on the CPU. onnxruntime also places a node
on the CPU when the CUDA provider lacks a kernel for it, silently; :func:`placement` finds out by
profiling one run (the profile names each node's provider) and :func:`cpu_hot_nodes` says which of
the nodes that carry the work did not run on the GPU, so the encoder can say so in the log and
``doctor``.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

CPU_BATCH_SIZE = 32  # texts per run on the CPU: larger batches only pad more
CUDA_BATCH_SIZE = 256  # ... and on a GPU, where a run's fixed cost is the kernel launches, not the math
# The op types that carry an encoder's work. Elementwise ops and casts are left out: onnxruntime runs
# the shape arithmetic (Shape, Gather on dims, Cast, Add, Concat) on the CPU by design, at no cost.
HOT_OPS = frozenset(
    {"MatMul", "Gemm", "FusedMatMul", "MatMulInteger", "DynamicQuantizeMatMul", "Attention", "MultiHeadAttention",
     "LayerNormalization", "SkipLayerNormalization", "EmbedLayerNormalization", "Softmax", "Erf", "Gelu",
     "FastGelu", "BiasGelu", "ReduceMean"}
)  # fmt: skip


def batch_size_for(provider: str) -> int:
    return CUDA_BATCH_SIZE if provider == "CUDAExecutionProvider" else CPU_BATCH_SIZE


def variant_order(variants: dict[str, str], on_cuda: bool) -> list[tuple[str, str]]:
    """(variant, file) in the order a session tries them: on CUDA ``cuda`` then ``fp32`` then ``cpu``;
    on the CPU only ``cpu`` (the GPU files would run there several times slower than the int8 one)."""
    keys = ("cuda", "fp32", "cpu") if on_cuda else ("cpu",)
    order = [(k, variants[k]) for k in keys if variants.get(k)]
    if not any(k == "cpu" for k, _ in order):
        order.append(("cpu", "model.int8.onnx"))
    return order


@dataclass
class Placement:
    """Where the nodes of one profiled run ran: provider → node count, and the hot nodes on the CPU."""

    by_provider: Counter = field(default_factory=Counter)
    cpu_hot: list[str] = field(default_factory=list)  # "OpType (node name)"

    @property
    def all_on(self) -> str | None:
        """The one provider every node ran on, or None when they were split."""
        return next(iter(self.by_provider)) if len(self.by_provider) == 1 else None


def parse_profile(events: list[dict]) -> Placement:
    """A :class:`Placement` from onnxruntime's profile (its JSON list of trace events)."""
    out = Placement()
    seen: set[str] = set()
    for e in events:
        args = e.get("args") or {}
        provider, op, name = args.get("provider"), args.get("op_name"), str(e.get("name", ""))
        if e.get("cat") != "Node" or not provider or not op or not name.endswith("_kernel_time"):
            continue
        node = name[: -len("_kernel_time")]
        if node in seen:
            continue
        seen.add(node)
        out.by_provider[provider] += 1
        if provider == "CPUExecutionProvider" and op in HOT_OPS:
            out.cpu_hot.append(f"{op} ({node})")
    return out


def placement(model_path: Path, providers: list[str], inputs: dict[str, np.ndarray]) -> Placement:
    """Profile one run of ``model_path`` on ``providers`` with ``inputs``: where each node ran."""
    from player_plugin.nlp.runtime import _ort

    ort = _ort()
    opts = ort.SessionOptions()
    opts.log_severity_level = 4
    with tempfile.TemporaryDirectory(prefix="player-plugin-profile-") as tmp:
        opts.enable_profiling = True
        opts.profile_file_prefix = os.path.join(tmp, "run")
        session = ort.InferenceSession(str(model_path), sess_options=opts, providers=providers)
        session.run(None, inputs)
        profile = session.end_profiling()
        with open(profile, encoding="utf-8") as f:
            events = json.load(f)
    return parse_profile(events)


def check_placement(model_path: Path, providers: list[str], pad_id: int = 1) -> Placement | None:
    """On CUDA: profile one short batch and log the hot nodes that fell back to the CPU (None on the CPU,
    or when the check itself cannot run)."""
    if providers[0] != "CUDAExecutionProvider":
        return None
    ids = np.array([[0, 100, 200, 2], [0, 300, 2, pad_id]], dtype=np.int64)
    try:
        feed = {"input_ids": ids, "attention_mask": (ids != pad_id).astype(np.int64)}
        result = placement(model_path, providers, feed)
    except Exception as exc:  # noqa: BLE001 - a check, never a reason not to run
        log.warning("could not check where %s's nodes run on CUDA: %s", model_path.name, exc)
        return None
    if result.cpu_hot:
        shown = ", ".join(result.cpu_hot[:8]) + (", …" if len(result.cpu_hot) > 8 else "")
        log.warning("%s on CUDA: %d of its work nodes run on the CPU: %s", model_path.name, len(result.cpu_hot), shown)
    else:
        log.info("%s on CUDA: every work node runs on the GPU (%s)", model_path.name, dict(result.by_provider))
    return result
