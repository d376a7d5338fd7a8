"""Golden vectors: what the int8 encoders must reproduce, on any CPU we support.

``onnx_models/<id>/golden.json`` holds each golden text's token ids and its vector from the fp32
graph, one text at a time (the export checks fp32 against PyTorch to 1e-6). Token ids are compared
exactly. The int8 model is compared by cosine, because dynamic int8 MatMuls run different kernels by
instruction set (AVX-512 VNNI, AVX-VNNI, AVX2, NEON) and their results differ in the last bits —
by up to 0.03 per component on AVX2-only CPUs. The bounds below hold on the weakest CPU we ship to:
measured with ``bench/int8_isa.py --golden`` on this machine (AVX-512 VNNI) and under
``qemu-x86_64 -cpu Haswell`` (AVX2, no AVX-512/VNNI), with a margin below the lower of the two.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

MODELS_ROOT = Path(__file__).resolve().parents[1] / "onnx_models"

# model -> (least cosine of any golden text, least mean over the golden texts), int8 vs fp32 golden
INT8_COSINE_BOUNDS = {
    # measured min/mean: VNNI 0.9948/0.9968, AVX2 0.9905/0.9954
    "multilingual-e5-small": (0.985, 0.99),
    # measured min/mean: VNNI 0.9843/0.9905, AVX2 0.9843/0.9905 (7-bit weights: no int16 saturation on AVX2)
    "all-minilm-l6-v2": (0.97, 0.985),
}
# fp32 is deterministic up to float summation order, which does differ between kernels
FP32_ATOL = 1e-4


def golden(model_id: str) -> dict:
    return json.loads((MODELS_ROOT / model_id / "golden.json").read_text(encoding="utf-8"))


def golden_items(model_id: str) -> list[dict]:
    return golden(model_id)["items"]


def cosines_to_golden(vectors: np.ndarray, items: list[dict]) -> np.ndarray:
    ref = np.asarray([it["embedding"] for it in items], dtype=np.float32)
    vecs = np.asarray(vectors, dtype=np.float32)
    return np.sum(vecs * ref, axis=1) / (np.linalg.norm(vecs, axis=1) * np.linalg.norm(ref, axis=1))


def assert_int8_matches_golden(model_id: str, vectors: np.ndarray, items: list[dict]) -> None:
    """Every vector within the per-text bound; the mean within the mean bound (when several)."""
    least, least_mean = INT8_COSINE_BOUNDS[model_id]
    cos = cosines_to_golden(vectors, items)
    worst = int(np.argmin(cos))
    assert float(cos[worst]) >= least, (
        f"{model_id}: cosine {cos[worst]:.4f} < {least} for {items[worst]['text'][:40]!r}"
    )
    if len(items) > 1:
        assert float(cos.mean()) >= least_mean, f"{model_id}: mean cosine {cos.mean():.4f} < {least_mean}"
