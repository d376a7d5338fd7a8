"""Fit the prompt adapter: where in the track space the music a typed wish names lies, from its query.

    python export/train_prompt_adapter.py --dataset ../shared/data/netease-dev \
        --out resources/prompt_adapter/multilingual-e5-small.npz [--prompt-task]

Why: the prompt's own ranking (recommend/prompt_space.py) compares the prompt's query vector with
each track's vector, and the e5 encoder puts a request ("欧美R&B入坑曲", "抖腿车载DJ硬曲") and the songs
it asks for in different regions of its space: a query is read as a sentence, a track as its title,
artist and lyrics. A ridge regression from the prompt's centred query vector (the runtime's own int8
encoder and centring) to the mean centred vector of the tracks its playlist holds learns the step
from one to the other; at run time the fit goes by ``q + alpha · q W`` (unit length) instead of
``q`` (recommend/prompt_adapter.py).

Data: the train and validation playlists of the dataset (never the test split), each twice: its
name, and its tags joined by spaces ("欧美 R&B/Soul 90后") as a second request for the same tracks.
The ridge strength and ``alpha`` were chosen by the prompt task through the real engine with the
adapter and the prompt-script head both fitted without each name's fold (``--prompt-task``; the
sweep is in docs/evaluation.md, "The prompt task").

Writes ``weight [dim, dim]`` (float32) and a JSON ``about`` (model id, alpha, the prompts' script,
data, figures, the command).
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "export"))

import train_prompt_script  # noqa: E402

from player_plugin.evaluation.dataset import Dataset, Playlist, load_dataset  # noqa: E402
from player_plugin.nlp.encoder import Encoder  # noqa: E402
from player_plugin.recommend.prompt_space import LibraryCentre, centred_query, query_centre  # noqa: E402
from player_plugin.text_norm import has_cjk  # noqa: E402

LAMBDA = 2.0  # ridge strength (0.5-4 measured within 0.001-0.004 of each other at h0)
ALPHA = 2.0  # how far the fit's query moves towards the predicted tracks (1.0-2.5 alike; 3.0 worse)
FOLDS, SEED = train_prompt_script.FOLDS, train_prompt_script.SEED  # the head's folds, so one name is out of both


def fit_adapter(x: np.ndarray, y: np.ndarray, lam: float) -> np.ndarray:
    """``W`` minimising ``|x W - y|² + lam |W|²`` (no intercept: both sides are centred already)."""
    return np.linalg.solve(x.T @ x + lam * np.eye(x.shape[1]), x.T @ y).astype(np.float32)


def training_pairs(
    dataset: Dataset, matrix: np.ndarray, encoder: Encoder
) -> tuple[list[tuple[str, Playlist]], np.ndarray, list[np.ndarray | None], np.ndarray]:
    """(the distinct names and a playlist of each, their centred queries, their tags' centred queries
    or None, the targets: the mean of each playlist's tracks in the fit's space, unit length)."""
    points = [p for s in ("train", "validation") for p in dataset.split(s) if p.name.strip()]
    named = sorted({p.name.strip(): p for p in points}.items())
    centres = query_centre(lambda texts: encoder.embed(list(texts), kind="query"))
    n = dataset.n_tracks

    def centred(text: str) -> np.ndarray:
        return centred_query(text, encoder.embed_query(text), centres, n)

    library = LibraryCentre(matrix, dataset.titles)
    space = library.centred(np.arange(len(matrix)), matrix)  # fit = space @ q
    queries = np.stack([centred(name) for name, _p in named])
    tags = [" ".join(t for t in (p.tags or []) if t.strip()) for _n, p in named]
    tag_queries = [centred(t) if t else None for t in tags]
    targets = []
    for _n, p in named:
        mean = space[np.unique(p.tracks)].mean(axis=0)
        targets.append(mean / max(float(np.linalg.norm(mean)), 1e-12))
    return named, queries, tag_queries, np.stack(targets).astype(np.float32)


def stacked(rows: list[int], queries: np.ndarray, tag_queries: list, targets: np.ndarray):
    x = [queries[i] for i in rows] + [tag_queries[i] for i in rows if tag_queries[i] is not None]
    y = [targets[i] for i in rows] + [targets[i] for i in rows if tag_queries[i] is not None]
    return np.stack(x).astype(np.float64), np.stack(y).astype(np.float64)


def prompt_task(dataset: Dataset, encoder: Encoder, named, queries, tag_queries, targets, lam, alpha) -> str:
    """The prompt task on train + validation through the real engine, each name's adapter and lean
    fitted without its fold (the shipped ones saw every name: in-sample)."""
    from player_plugin.recommend import prompt_adapter, prompt_language

    fold = np.random.default_rng(SEED).integers(0, FOLDS, len(named))
    weights = [
        fit_adapter(*stacked(np.flatnonzero(fold != f).tolist(), queries, tag_queries, targets), lam)
        for f in range(FOLDS)
    ]
    raw = np.stack([encoder.embed_query(name) for name, _p in named]).astype(np.float64)
    cjk = np.fromiter((has_cjk(t) for t in dataset.titles), bool, dataset.n_tracks)
    share = np.array([float(cjk[np.unique(p.tracks)].mean()) for _n, p in named])
    held = train_prompt_script.cross_validated(raw, share, 0.1)
    lean_of = {r.astype(np.float32).tobytes(): 2.0 * s - 1.0 for r, s in zip(raw, held, strict=True)}

    adapters = [prompt_adapter.PromptAdapter(w, alpha, "any") for w in weights]

    def lead(query: np.ndarray, _text: str, _model_id: str) -> np.ndarray:
        # every name of the run is among the queries (the engine centres it alike; matched by cosine)
        return adapters[int(fold[int(np.argmax(queries @ np.asarray(query, np.float32)))])].lead(query)

    prompt_adapter.learned_lead = lead
    prompt_language.learned_lean = lambda query, _m: lean_of[np.asarray(query, np.float32).tobytes()]
    return train_prompt_script.engine_figures(dataset, encoder)


def main(argv: list[str] | None = None) -> int:
    ap = train_prompt_script.base_parser(__doc__, "adapter", LAMBDA)
    ap.add_argument("--alpha", type=float, default=ALPHA)
    args = ap.parse_args(argv)

    from player_plugin.evaluation.vector_cache import dataset_vectors

    dataset = load_dataset(args.dataset)
    encoder = Encoder.load(args.model)
    matrix = np.asarray(dataset_vectors(dataset, encoder), np.float32)
    named, queries, tag_queries, targets = training_pairs(dataset, matrix, encoder)
    x, y = stacked(list(range(len(named))), queries, tag_queries, targets)
    print(f"{len(named)} names, {sum(t is not None for t in tag_queries)} with tags: {len(x)} requests")
    cjk_prompts = float(np.mean([has_cjk(name) for name, _p in named]))
    prompt_script = "cjk" if cjk_prompts >= train_prompt_script.KNOWN_SCRIPT_SHARE else "any"
    about = {
        "model_id": args.model,
        "kind": "prompt-adapter",
        "predicts": "the mean centred vector of the tracks a prompt asks for, from its centred query vector",
        "used_by": "player_plugin/recommend/prompt_adapter.py",
        "prompt_script": prompt_script,
        "alpha": args.alpha,
        "lambda": args.lam,
        "data": f"{dataset.name}: the names and tags of its train and validation playlists ({len(named)} names)",
        "command": "python export/train_prompt_adapter.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "trained": dt.date.today().isoformat(),
    }
    if args.prompt_task:
        about["prompt_task_cross_validated"] = prompt_task(
            dataset, encoder, named, queries, tag_queries, targets, args.lam, args.alpha
        )
        print("prompt task, train + validation, cross-validated:", about["prompt_task_cross_validated"])
    if args.out is None:
        return 0
    weight = fit_adapter(x, y, args.lam)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("wb") as f:
        np.savez(f, weight=weight, about=json.dumps(about, ensure_ascii=False))
    print(f"wrote {args.out}: lambda {args.lam}, alpha {args.alpha}, for prompts written in {prompt_script}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
