"""The Seq2Seq next-track generator at run time: two ONNX graphs + a small track-side map, no torch.

The model (trained by ``export/train_seq2seq.py``, described in ``docs/seq2seq.md``) reads a listening session
as the encoder vectors of its tracks (``[n, 384]``, oldest first), one outcome per track (0 completed,
1 skipped, 2 liked) and an optional prompt vector, and generates ``K`` unit vectors in its own "track space"
of ``out_dim`` dimensions, one per upcoming slot, autoregressively. A library track is ranked by the dot product
of its *mapped* vector (:meth:`Seq2SeqGenerator.map_tracks`: the learned linear map, then L2 normalisation)
with the generated vectors.

Files (all checked against ``manifest.json`` sha256 sums before use):

- ``encoder.onnx``: ``session [B,S,dim] f32, outcomes [B,S] i64, prompt [B,dim] f32, has_prompt [B] f32``
  → ``memory [B,S+1,d]``, ``start [B,1,out_dim]``, ``prior [B,out_dim]`` (the session's recency-weighted mean
  vector, mapped into track space: the content prior every step adds with a learned gain).
- ``decoder.onnx``: ``memory [B,M,d], tokens [B,T,out_dim], prior [B,out_dim]`` → ``next [B,out_dim]`` (unit
  rows); the runtime
  feeds each generated vector back as the next token (no KV cache: T ≤ K is tiny).
- ``track_map.npz``: ``weight [dim,out_dim]``, ``bias [out_dim]`` (float32).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from player_plugin import paths
from player_plugin.nlp.manifest import TRACK_SPACES, Manifest, ModelError, is_seq2seq, load_manifest
from player_plugin.nlp.model_files import verified_file
from player_plugin.nlp.runtime import create_session

log = logging.getLogger(__name__)

DEFAULT_MODEL_ID = "seq2seq-v1"
REBUILD = "python export/train_seq2seq.py (see docs/seq2seq.md)"
RAW, SCRIPT_CENTRED = TRACK_SPACES  # the track vectors it reads (nlp/manifest.py)


def _verified(manifest: Manifest, name: str) -> Path:
    if name not in manifest.files:
        raise ModelError(f"{manifest.folder / 'manifest.json'}: does not list {name} with a sha256")
    path = verified_file(manifest, name, rebuild=REBUILD)
    assert path is not None  # required files raise instead
    return path


def _unit_rows(x: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(x, axis=-1, keepdims=True)
    return np.divide(x, n, out=np.zeros_like(x), where=n > 1e-12)


class Seq2SeqGenerator:
    """Generates the next ``K`` track-space vectors for a session. Not thread-safe per call."""

    def __init__(self, manifest: Manifest, encoder, decoder, weight: np.ndarray, bias: np.ndarray) -> None:
        self.manifest = manifest
        self.encoder = encoder
        self.decoder = decoder
        self.weight = np.ascontiguousarray(weight, dtype=np.float32)
        self.bias = np.ascontiguousarray(bias, dtype=np.float32)
        d = manifest.data
        self.dim = int(d["dim"])
        self.out_dim = int(d["out_dim"])
        self.steps = int(d["K"])
        self.max_context = int(d.get("max_context", 50))
        # the track vectors it was trained on (recommend/seq2seq_rec.TrackView; checked by validate_manifest)
        self.track_space = str(d.get("track_space", RAW))
        if self.weight.shape != (self.dim, self.out_dim) or self.bias.shape != (self.out_dim,):
            raise ModelError(
                f"{manifest.folder}: track map has shape {self.weight.shape}/{self.bias.shape}, "
                f"manifest says [{self.dim},{self.out_dim}]; rebuild with: {REBUILD}"
            )

    @classmethod
    def load(
        cls,
        model_id: str = DEFAULT_MODEL_ID,
        models_root: Path | None = None,
        prefer_gpu: bool = False,
        threads: int | None = 1,
    ) -> Seq2SeqGenerator:
        """Verify every file's sha256 against the manifest, then open the ONNX sessions.

        Raises :class:`ModelError` naming the file and the fix when anything is missing or corrupt.
        ``prefer_gpu`` defaults to False and ``threads`` to 1: the graphs are tiny, so per-call overhead dominates
        (10 steps for one session: ~5 ms on 1 thread vs ~8 ms on 2 on the 2-core dev machine).
        """
        folder = (models_root or paths.models_dir()) / model_id
        if not folder.is_dir():
            raise ModelError(f"{folder}: no such Seq2Seq model; rebuild with: {REBUILD}")
        manifest = load_manifest(folder)
        if manifest.model_id != model_id:
            raise ModelError(f"{folder / 'manifest.json'}: names model {manifest.model_id!r}, not {model_id!r}")
        if not is_seq2seq(manifest.data):
            raise ModelError(f"{folder / 'manifest.json'}: not a Seq2Seq generator's manifest; rebuild with: {REBUILD}")
        graphs = manifest.data.get("graphs", {})
        enc_path = _verified(manifest, graphs.get("encoder", "encoder.onnx"))
        dec_path = _verified(manifest, graphs.get("decoder", "decoder.onnx"))
        map_path = _verified(manifest, manifest.data.get("track_map", "track_map.npz"))
        try:
            with np.load(map_path, allow_pickle=False) as z:
                weight, bias = z["weight"], z["bias"]
        except Exception as exc:  # noqa: BLE001 - zip/npy errors of many kinds
            raise ModelError(f"{map_path}: unreadable track map ({exc}); rebuild with: {REBUILD}") from exc
        sessions = []
        for p in (enc_path, dec_path):
            try:
                sessions.append(create_session(p, prefer_gpu=prefer_gpu, threads=threads))
            except Exception as exc:  # noqa: BLE001 - onnxruntime raises its own types
                raise ModelError(f"{p}: onnxruntime cannot load it ({exc}); rebuild with: {REBUILD}") from exc
        return cls(manifest, sessions[0], sessions[1], weight, bias)

    # -- the track side ----------------------------------------------------------------------------

    def map_tracks(self, vectors: np.ndarray) -> np.ndarray:
        """``[n, dim]`` encoder vectors → ``[n, out_dim]`` unit rows in the generator's track space."""
        v = np.asarray(vectors, dtype=np.float32)
        return _unit_rows(v @ self.weight + self.bias)

    # -- generation --------------------------------------------------------------------------------

    def generate_batch(
        self,
        session_vectors: np.ndarray,
        outcomes: np.ndarray | None = None,
        prompt_vectors: np.ndarray | None = None,
        steps: int | None = None,
    ) -> np.ndarray:
        """``[B, S, dim]`` sessions of equal length (oldest first) → ``[B, steps, out_dim]`` float32 unit rows.

        ``outcomes`` ``[B, S]`` ints (default: all completed); ``prompt_vectors`` ``[B, dim]`` or None (a row of
        zeros also means "no prompt"). Sessions longer than the model's ``max_context`` keep their newest tracks.
        """
        x = np.asarray(session_vectors, dtype=np.float32)
        if x.ndim != 3 or x.shape[2] != self.dim:
            raise ValueError(f"session vectors must be [B, S, {self.dim}], got {x.shape}")
        b, s = x.shape[0], x.shape[1]
        if s == 0:
            raise ValueError("a session needs at least one track")
        o = np.zeros((b, s), np.int64) if outcomes is None else np.asarray(outcomes, dtype=np.int64).reshape(b, s)
        if s > self.max_context:
            x, o = x[:, -self.max_context :], o[:, -self.max_context :]
        o = np.clip(o, 0, 2)
        if prompt_vectors is None:
            p = np.zeros((b, self.dim), np.float32)
            has = np.zeros(b, np.float32)
        else:
            p = np.asarray(prompt_vectors, dtype=np.float32).reshape(b, self.dim)
            has = (np.linalg.norm(p, axis=1) > 1e-9).astype(np.float32)
        steps = self.steps if steps is None else int(steps)
        memory, start, prior = self.encoder.run(
            ["memory", "start", "prior"],
            {"session": np.ascontiguousarray(x), "outcomes": o, "prompt": p, "has_prompt": has},
        )
        tokens = start
        out = []
        for _ in range(steps):
            (nxt,) = self.decoder.run(["next"], {"memory": memory, "tokens": tokens, "prior": prior})
            out.append(nxt)
            tokens = np.concatenate([tokens, nxt[:, None, :]], axis=1)
        if not out:
            return np.zeros((b, 0, self.out_dim), np.float32)
        return np.stack(out, axis=1).astype(np.float32, copy=False)

    def generate(
        self,
        session_vectors: np.ndarray,
        outcomes: np.ndarray | None = None,
        prompt_vector: np.ndarray | None = None,
        steps: int | None = None,
    ) -> np.ndarray:
        """One session ``[n, dim]`` (oldest first) → ``[steps, out_dim]`` float32 unit rows (steps default K)."""
        x = np.asarray(session_vectors, dtype=np.float32)
        if x.ndim != 2:
            raise ValueError(f"session vectors must be [n, {self.dim}], got {x.shape}")
        o = None if outcomes is None else np.asarray(outcomes).reshape(1, -1)
        p = None if prompt_vector is None else np.asarray(prompt_vector, dtype=np.float32).reshape(1, -1)
        return self.generate_batch(x[None], o, p, steps)[0]
