"""The Seq2Seq next-track model in PyTorch (training/export only; the app runs the ONNX graphs).

Small pre-LN Transformer encoder–decoder over frozen encoder track vectors, attention written with
``F.scaled_dot_product_attention`` (exports to ONNX ``Attention`` at opset 23, dynamic lengths, no
nn.Transformer export pitfalls). See docs/seq2seq.md.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

N_OUTCOMES = 3  # 0 completed, 1 skipped, 2 liked


class MHA(nn.Module):
    def __init__(self, d: int, heads: int, dropout: float):
        super().__init__()
        self.h = heads
        self.q = nn.Linear(d, d)
        self.kv = nn.Linear(d, 2 * d)
        self.o = nn.Linear(d, d)
        self.dropout = dropout

    def forward(self, x: torch.Tensor, mem: torch.Tensor, causal: bool = False) -> torch.Tensor:
        b, t, d = x.shape
        s = mem.shape[1]
        q = self.q(x).view(b, t, self.h, d // self.h).transpose(1, 2)
        k, v = self.kv(mem).view(b, s, 2, self.h, d // self.h).permute(2, 0, 3, 1, 4)
        y = F.scaled_dot_product_attention(q, k, v, is_causal=causal, dropout_p=self.dropout if self.training else 0.0)
        return self.o(y.transpose(1, 2).reshape(b, t, d))


class Block(nn.Module):
    def __init__(self, d: int, heads: int, ff: int, dropout: float, cross: bool):
        super().__init__()
        self.ln1 = nn.LayerNorm(d)
        self.att = MHA(d, heads, dropout)
        self.cross = cross
        if cross:
            self.ln2 = nn.LayerNorm(d)
            self.xatt = MHA(d, heads, dropout)
        self.ln3 = nn.LayerNorm(d)
        self.ff = nn.Sequential(nn.Linear(d, ff), nn.GELU(), nn.Linear(ff, d))
        self.drop = nn.Dropout(dropout)

    def forward(self, x, mem=None, causal=False):
        h = self.ln1(x)
        x = x + self.drop(self.att(h, h, causal=causal))
        if self.cross:
            x = x + self.drop(self.xatt(self.ln2(x), mem))
        return x + self.drop(self.ff(self.ln3(x)))


class Seq2Seq(nn.Module):
    def __init__(
        self,
        dim: int = 384,
        d: int = 128,
        out_dim: int = 128,
        heads: int = 4,
        ff: int = 512,
        enc_layers: int = 2,
        dec_layers: int = 2,
        K: int = 10,
        max_context: int = 50,
        dropout: float = 0.1,
    ):
        super().__init__()
        self.dim, self.d, self.out_dim, self.K, self.max_context = dim, d, out_dim, K, max_context
        self.in_proj = nn.Linear(dim, d)
        self.outcome = nn.Embedding(N_OUTCOMES, d)
        self.pos = nn.Embedding(max_context, d)  # 0 = newest track
        self.prompt_proj = nn.Linear(dim, d)
        self.prompt_type = nn.Parameter(torch.zeros(d))
        self.no_prompt = nn.Parameter(torch.zeros(d))
        self.enc = nn.ModuleList([Block(d, heads, ff, dropout, cross=False) for _ in range(enc_layers)])
        self.enc_ln = nn.LayerNorm(d)
        self.track_map = nn.Linear(dim, out_dim)  # the learned track-side map
        self.bos = nn.Parameter(torch.randn(out_dim) * 0.1)
        self.tok_proj = nn.Linear(out_dim, d)
        self.dec_pos = nn.Embedding(K + 1, d)
        self.dec = nn.ModuleList([Block(d, heads, ff, dropout, cross=True) for _ in range(dec_layers)])
        self.dec_ln = nn.LayerNorm(d)
        self.head = nn.Linear(d, out_dim)
        self.logit_scale = nn.Parameter(torch.tensor(3.0))  # exp → 1/temperature (≈20)
        # content prior: the session's recency-weighted mean vector, mapped like a track, added to every step's
        # output with a learned per-step gain, so training starts from the content baseline and learns the rest
        self.prior_gain = nn.Parameter(torch.full((K + 1,), 2.0))
        self.outcome_weight = nn.Parameter(torch.tensor([1.0, -0.5, 1.5]))
        self.prior_decay = 0.8
        self.in_drop = nn.Dropout(dropout)

    def map_tracks(self, v: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.track_map(v), dim=-1)

    def encode(self, session, outcomes, prompt, has_prompt):
        b, s, _ = session.shape
        pos = (s - 1) - torch.arange(s, device=session.device)
        x = self.in_proj(session) + self.outcome(outcomes) + self.pos(pos)[None]
        hp = has_prompt[:, None]
        ptok = hp * (self.prompt_proj(prompt) + self.prompt_type) + (1 - hp) * self.no_prompt
        x = torch.cat([ptok[:, None, :], x], dim=1)
        x = self.in_drop(x)
        for blk in self.enc:
            x = blk(x)
        return self.enc_ln(x)

    def prior(self, session, outcomes):
        """[B,out_dim]: normalise(map(sum_i decay**age_i * w(outcome_i) * v_i))."""
        s = session.shape[1]
        age = ((s - 1) - torch.arange(s, device=session.device)).float()
        w = torch.pow(torch.full_like(age, self.prior_decay), age)[None] * self.outcome_weight[outcomes]
        mean = (w[..., None] * session).sum(1)
        return self.map_tracks(mean)

    def decode(self, memory, tokens, prior):
        """tokens [B,T,out_dim] (BOS first), prior [B,out_dim] → [B,T,out_dim] unit vectors (causal)."""
        t = tokens.shape[1]
        x = self.tok_proj(tokens) + self.dec_pos(torch.arange(t, device=tokens.device))[None]
        x = self.in_drop(x)
        for blk in self.dec:
            x = blk(x, memory, causal=True)
        gain = F.softplus(self.prior_gain[:t])[None, :, None]
        return F.normalize(self.head(self.dec_ln(x)) + gain * prior[:, None, :], dim=-1)

    def start(self, b: int) -> torch.Tensor:
        return self.bos[None, None, :].expand(b, 1, self.out_dim)

    @torch.no_grad()
    def generate(self, session, outcomes, prompt, has_prompt, steps: int):
        memory = self.encode(session, outcomes, prompt, has_prompt)
        prior = self.prior(session, outcomes)
        tokens = self.start(session.shape[0])
        outs = []
        for _ in range(steps):
            nxt = self.decode(memory, tokens, prior)[:, -1]
            outs.append(nxt)
            tokens = torch.cat([tokens, nxt[:, None]], dim=1)
        return torch.stack(outs, 1)


class EncoderGraph(nn.Module):
    def __init__(self, m: Seq2Seq):
        super().__init__()
        self.m = m

    def forward(self, session, outcomes, prompt, has_prompt):
        memory = self.m.encode(session, outcomes, prompt, has_prompt)
        start = self.m.bos[None, None, :].expand(session.shape[0], 1, self.m.out_dim) + 0.0 * memory[:, :1, :1]
        return memory, start, self.m.prior(session, outcomes)


class DecoderGraph(nn.Module):
    def __init__(self, m: Seq2Seq):
        super().__init__()
        self.m = m

    def forward(self, memory, tokens, prior):
        return self.m.decode(memory, tokens, prior)[:, -1]
