"""Sentence encoder: ``tokenizers`` + an ONNX BERT → L2-normalised float32 vectors.

Lean on purpose (in the spirit of fastembed): the tokenizer and the graph come from a model
folder whose ``manifest.json`` lists every file's sha256; pooling and normalisation are inside the
graph, so the runtime only tokenises, pads each batch to its longest member and runs the session.
Texts are sorted by token length before batching, which cuts padding (and time) several-fold on a
mix of short tag lines and long lyric windows.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np

from player_plugin import paths
from player_plugin.nlp.gpu import batch_size_for, check_placement, variant_order
from player_plugin.nlp.manifest import REBUILD_HINT, Manifest, ModelError, load_manifest
from player_plugin.nlp.model_files import verified_file
from player_plugin.nlp.query_tokenizer import QueryTokenizer
from player_plugin.nlp.runtime import CUDA, choose_provider, create_session

log = logging.getLogger(__name__)

DEFAULT_MODEL_ID = "multilingual-e5-small"
Kind = Literal["query", "passage"]
# Up to this many characters per call are tokenised by a vocabulary subset (QueryTokenizer) while the
# full tokenizer is not loaded yet: a prompt or a search never pays for building 250k pieces.
QUERY_TOKENIZER_MAX_CHARS = 2000
# After this many subset calls a stream of short calls (an embedding job's lyric lines) goes to a
# tokenizer built once: the common-scripts subset when the texts allow it, else the full one.
QUERY_TOKENIZER_MAX_CALLS = 16


def _verified(manifest: Manifest, name: str, required: bool) -> Path | None:
    hint = REBUILD_HINT.format(model_id=manifest.model_id)
    return verified_file(manifest, name, rebuild=hint, required=required)


def _load_tokenizer(path: Path, truncation: int):
    from tokenizers import Tokenizer

    try:
        tokenizer = Tokenizer.from_file(str(path))
    except Exception as exc:  # noqa: BLE001 - tokenizers raises plain Exception
        raise ModelError(f"{path}: unreadable tokenizer ({exc})") from exc
    tokenizer.no_padding()
    tokenizer.enable_truncation(truncation)
    return tokenizer


def _session(model_path: Path, model_id: str, prefer_gpu: bool, threads: int | None, background: bool):
    try:
        return create_session(model_path, prefer_gpu=prefer_gpu, threads=threads, background=background)
    except Exception as exc:  # noqa: BLE001 - onnxruntime raises its own exception types
        raise ModelError(
            f"{model_path}: onnxruntime cannot load it ({exc}); rebuild with: {REBUILD_HINT.format(model_id=model_id)}"
        ) from exc


class Encoder:
    """Embeds texts with one model. Not thread-safe per call; make one per worker thread."""

    def __init__(
        self,
        manifest: Manifest,
        session,
        tokenizer=None,
        batch_size: int = 32,
        *,
        tokenizer_path: Path | None = None,
        query_tokenizer: QueryTokenizer | None = None,
    ) -> None:
        """``tokenizer`` given, or loaded from ``tokenizer_path`` the first time a long input needs it."""
        if tokenizer is None and tokenizer_path is None:
            raise ValueError("an Encoder needs a tokenizer or the path of one")
        self.manifest = manifest
        self.session = session
        self._tokenizer = tokenizer
        self._tokenizer_path = tokenizer_path
        self._query_tokenizer = query_tokenizer
        self._query_calls = 0
        self._common: tuple[Any, list[int]] | None = None  # the common-scripts subset and its ids, once built
        self.batch_size = batch_size
        cfg = manifest.data.get("tokenizer_config", {})
        self.pad_id = int(cfg.get("pad_id", 0))
        self.max_tokens = int(cfg.get("truncation_max_length", manifest.data.get("max_tokens", 512)))
        self.prefixes: dict[str, str] = dict(manifest.data.get("prefixes", {}))
        self.input_names = [i.name for i in session.get_inputs()]
        self.output_name = manifest.data.get("output", "embedding")
        self.model_path: Path | None = None  # the ONNX file the session runs (set by ``load``)

    # -- construction --------------------------------------------------------------------------

    @classmethod
    def load(
        cls,
        model_id: str = DEFAULT_MODEL_ID,
        models_root: Path | None = None,
        prefer_gpu: bool = True,
        threads: int | None = None,
        batch_size: int | None = None,
        background: bool = True,
    ) -> Encoder:
        """Verify and load a model folder. CUDA gets the fp16 (else fp32) file; CPU the int8 one
        (nlp/gpu.py). ``batch_size``: texts per run (default: larger on a GPU). ``background``: the
        session's threads yield the CPU to a fill or a repaint (player_plugin/priority.py): the
        encoder's bulk work, a library's first embed, takes minutes on every core; a prompt's query
        is one short run, and its calling thread keeps its own priority."""
        root = models_root or paths.models_dir()
        folder = root / model_id
        if not folder.is_dir():
            raise ModelError(f"{folder}: no such model; rebuild with: {REBUILD_HINT.format(model_id=model_id)}")
        manifest = load_manifest(folder)
        if manifest.model_id != model_id:
            # Vectors are stored under the manifest's id but looked up under the requested one:
            # a mismatch would silently embed into one key and search another.
            raise ModelError(
                f"{folder / 'manifest.json'}: names model {manifest.model_id!r}, not {model_id!r}; "
                f"rebuild with: {REBUILD_HINT.format(model_id=model_id)}"
            )
        variants = manifest.data.get("variants", {})
        choice = choose_provider(prefer_gpu)
        model_path: Path | None = None
        cpu_name = variants.get("cpu", "model.int8.onnx")
        if choice.chosen == CUDA:
            for key, name in variant_order(variants, on_cuda=True):
                if key != "cpu" and (model_path := _verified(manifest, name, required=False)):
                    break
        if model_path is None:
            model_path = _verified(manifest, cpu_name, required=True)
        tok_name = manifest.data.get("tokenizer", "tokenizer.json")
        tok_path = _verified(manifest, tok_name, required=True)
        cfg = manifest.data.get("tokenizer_config", {})
        truncation = int(cfg.get("truncation_max_length", manifest.data.get("max_tokens", 512)))
        query_tokenizer = QueryTokenizer.for_file(
            tok_path, manifest.files[tok_name], truncation, paths.cache_dir() / "tokenizers"
        )
        tokenizer = None if query_tokenizer is not None else _load_tokenizer(tok_path, truncation)
        session = _session(model_path, model_id, prefer_gpu, threads, background)
        if model_path.name != cpu_name and session.get_providers()[0] != CUDA:
            # CUDA looked usable but the session fell back to CPU (no GPU, broken driver): the
            # GPU file (fp16/fp32) would run there several times slower than the int8 CPU file.
            log.warning("%s: CUDA is not running it; loading the CPU model %s instead", model_path.name, cpu_name)
            model_path = _verified(manifest, cpu_name, required=True)
            session = _session(model_path, model_id, False, threads, background)
        if session.get_providers()[0] == CUDA:
            check_placement(model_path, session.get_providers(), int(cfg.get("pad_id", 1)))
        encoder = cls(
            manifest,
            session,
            tokenizer,
            batch_size=batch_size or batch_size_for(session.get_providers()[0]),
            tokenizer_path=tok_path,
            query_tokenizer=query_tokenizer,
        )
        encoder.model_path = model_path
        return encoder

    # -- facts -----------------------------------------------------------------------------------

    @property
    def tokenizer(self):
        """The full ``tokenizers.Tokenizer`` (built on first use: about a second for e5's vocabulary)."""
        if self._tokenizer is None:
            assert self._tokenizer_path is not None
            self._tokenizer = _load_tokenizer(self._tokenizer_path, self.max_tokens)
        return self._tokenizer

    @property
    def model_id(self) -> str:
        return self.manifest.model_id

    @property
    def dim(self) -> int:
        return int(self.manifest.data["dim"])

    @property
    def provider(self) -> str:
        return self.session.get_providers()[0]

    # -- work ------------------------------------------------------------------------------------

    def prefixed(self, texts: Sequence[str], kind: Kind) -> list[str]:
        prefix = self.prefixes.get(kind, "")
        return [prefix + t for t in texts]

    def token_ids(self, texts: Sequence[str]) -> list[list[int]]:
        """Token ids (with special tokens, truncated to the model's limit) of already-prefixed texts."""
        if (
            self._tokenizer is None
            and self._query_tokenizer is not None
            and self._query_calls < QUERY_TOKENIZER_MAX_CALLS
            and sum(len(t) for t in texts) <= QUERY_TOKENIZER_MAX_CHARS
        ):
            self._query_calls += 1
            ids = self._query_tokenizer.token_ids(texts)
            if ids is not None:
                return ids
        if self._tokenizer is None and self._query_tokenizer is not None and self._query_tokenizer.in_common(texts):
            # Latin and CJK texts (most libraries): a tokenizer of half e5's pieces, exact for them, whose
            # build holds the interpreter a fifth as long as the full one's (the window stutters less
            # when an embed starts); the full one waits for a text in another script.
            if self._common is None:
                self._common = self._query_tokenizer.common_subset()
            tok, keep = self._common
            return [[keep[i] for i in e.ids] for e in tok.encode_batch(list(texts))]
        return [e.ids for e in self.tokenizer.encode_batch(list(texts))]

    def embed(
        self,
        texts: Sequence[str],
        kind: Kind = "passage",
        progress: Callable[[int, int], None] | None = None,
    ) -> np.ndarray:
        """[len(texts), dim] float32, unit rows, in input order."""
        if len(texts) == 0:  # not ``not texts``: a numpy array of strings has no truth value
            return np.zeros((0, self.dim), dtype=np.float32)
        return self.embed_ids(self.token_ids(self.prefixed(texts, kind)), progress)

    def embed_ids(self, ids: Sequence[Sequence[int]], progress: Callable[[int, int], None] | None = None) -> np.ndarray:
        out = np.empty((len(ids), self.dim), dtype=np.float32)
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        done = 0
        for start in range(0, len(order), self.batch_size):
            batch = order[start : start + self.batch_size]
            width = max(len(ids[i]) for i in batch)
            input_ids = np.full((len(batch), width), self.pad_id, dtype=np.int64)
            mask = np.zeros((len(batch), width), dtype=np.int64)
            for row, i in enumerate(batch):
                seq = ids[i]
                input_ids[row, : len(seq)] = seq
                mask[row, : len(seq)] = 1
            feed = {"input_ids": input_ids, "attention_mask": mask}
            if "token_type_ids" in self.input_names:
                feed["token_type_ids"] = np.zeros_like(input_ids)
            (vectors,) = self.session.run([self.output_name], feed)
            out[batch] = vectors.astype(np.float32, copy=False)
            done += len(batch)
            if progress is not None:
                progress(done, len(ids))
        return out

    def embed_query(self, text: str) -> np.ndarray:
        """One free-text query (a mood prompt, a search) as a unit vector."""
        return self.embed([text], kind="query")[0]
