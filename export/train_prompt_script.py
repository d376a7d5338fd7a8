"""Fit the prompt-script head: which script (CJK or Latin titles) a typed wish wants, from its query vector.

    python export/train_prompt_script.py --dataset ../shared/data/netease-dev \
        --out resources/prompt_script/multilingual-e5-small.npz

Why: every named NetEase playlist is named in Chinese, yet 40 % of them hold almost only songs with
Latin titles and 30 % almost only CJK ones; the encoder's prompt-to-track closeness cannot tell which
(a Chinese name finds Chinese titles first), and most names do not say it in words
(recommend/prompt_language.py reads those that do). What the name means does say it, mostly:
"轻音乐" (light music) and "电音" (EDM) are Latin-titled, "古风" (Chinese ancient style) and
"伤感情歌" (sad love songs) CJK. A ridge regression from the prompt's query vector (the runtime's own
encoder: the int8 ONNX model the app loads) to the CJK share of the playlist's tracks learns that.

Data: the names and tracks of the train and validation splits (never the test split). At run time
the share becomes a lean (2 × share − 1) and the other script's tracks lose
``prompt_language.LEAN_PENALTY`` × |lean| of their fit. The ridge strength and the penalty were
chosen by the prompt task itself with a cross-validated head (``--prompt-task``: 5 folds, each name
judged by a head fitted without it, through the real engine; docs/evaluation.md, "The prompt task").

Writes ``weight [dim]``, ``bias`` and a JSON ``about`` (model id, data, the prompts' script, figures).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from player_plugin.evaluation.dataset import load_dataset  # noqa: E402
from player_plugin.nlp.encoder import DEFAULT_MODEL_ID, Encoder  # noqa: E402
from player_plugin.text_norm import has_cjk  # noqa: E402

LAMBDAS = (0.01, 0.03, 0.1, 0.3, 1.0)  # reported for comparison
FOLDS = 5
SEED = 0
# the head is used only for prompts in a script that this share of its names is written in (or any
# script, when neither is): it cannot know what a prompt in another script's part of the space means
KNOWN_SCRIPT_SHARE = 0.9


def ridge(x: np.ndarray, y: np.ndarray, lam: float) -> tuple[np.ndarray, float]:
    mu, ym = x.mean(axis=0), float(y.mean())
    xc = x - mu
    w = np.linalg.solve(xc.T @ xc + lam * np.eye(x.shape[1]), xc.T @ (y - ym))
    return w.astype(np.float32), float(ym - mu @ w)


def predict(x: np.ndarray, w: np.ndarray, b: float) -> np.ndarray:
    return np.clip(x @ w + b, 0.0, 1.0)


def cross_validated(x: np.ndarray, y: np.ndarray, lam: float) -> np.ndarray:
    fold = np.random.default_rng(SEED).integers(0, FOLDS, len(y))
    out = np.zeros_like(y)
    for f in range(FOLDS):
        w, b = ridge(x[fold != f], y[fold != f], lam)
        out[fold == f] = predict(x[fold == f], w, b)
    return out


def language_gap_bounds(share: np.ndarray, read: np.ndarray, names: list[str]) -> str:
    """What the prompt task's language gap could be, offline, were each name's top 10 given a share of
    CJK titles from its held-out reading ``read`` (a language the name names in words decides): all of
    the reading's side, the read share itself; and the floor of any one-script top 10 that knew each
    playlist's side, E[min(T, 1 - T)] (docs/evaluation.md, "Where the prompt task's language gap is left")."""
    from player_plugin.recommend.prompt_language import names_a_language, script_wish

    named = [script_wish(n) if names_a_language(n) else None for n in names]  # None: both or none named

    def gap(policy) -> float:
        tops = [policy(r) if w is None else float(w) for w, r in zip(named, read, strict=True)]
        return float(np.abs(np.asarray(tops) - share).mean())

    return (
        f"language gap offline: one script by the reading {gap(lambda r: float(r > 0.5)):.3f}, "
        f"the read share {gap(lambda r: round(r * 10) / 10):.3f}; "
        f"any one-script top 10 knowing each side {float(np.minimum(share, 1 - share).mean()):.3f}"
    )


def prompt_task(dataset, x: np.ndarray, y: np.ndarray, lam: float) -> str:
    """The prompt task on train + validation through the real engine, each name's lean read by a head
    fitted without it (the head's own names are in-sample for the shipped one)."""
    from player_plugin.recommend import prompt_language

    encoder = Encoder.load(DEFAULT_MODEL_ID)
    held_out = {q.astype(np.float32).tobytes(): float(s) for q, s in zip(x, cross_validated(x, y, lam), strict=True)}

    def lean(query: np.ndarray, _model_id: str) -> float:
        return 2.0 * held_out[np.asarray(query, np.float32).tobytes()] - 1.0  # every name of the run is there

    prompt_language.learned_lean = lean
    return engine_figures(dataset, encoder)


def engine_figures(dataset, encoder) -> str:
    """The prompt task on train + validation through the real engine (with whatever cross-validated
    head or adapter the caller has put in place), as one line."""
    from player_plugin.evaluation.prompt_task import evaluate_prompts
    from player_plugin.evaluation.vector_cache import dataset_vectors

    vectors = dataset_vectors(dataset, encoder)
    result = evaluate_prompts(dataset, ["upnext"], vectors, encoder, DEFAULT_MODEL_ID, "train+validation")
    figures = result["results"]["upnext"]
    return " ".join(f"{h}: NDCG@10 {v['ndcg@10']:.4f} (gap {v['language_gap']:.2f})" for h, v in figures.items())


def base_parser(doc: str, what: str, lam: float) -> argparse.ArgumentParser:
    """The options both prompt fits take (this head, export/train_prompt_adapter.py)."""
    ap = argparse.ArgumentParser(description=doc.split("\n")[0])
    ap.add_argument("--dataset", required=True, type=Path)
    ap.add_argument("--model", default=DEFAULT_MODEL_ID)
    ap.add_argument("--out", type=Path, help=f"where to write the {what} (nothing is written without it)")
    ap.add_argument("--lambda", dest="lam", type=float, default=lam)
    ap.add_argument("--prompt-task", action="store_true", help="also run the cross-validated prompt task (~1 min)")
    return ap


def main(argv: list[str] | None = None) -> int:
    ap = base_parser(__doc__, "head", 0.1)
    args = ap.parse_args(argv)

    dataset = load_dataset(args.dataset)
    cjk = np.fromiter((has_cjk(t) for t in dataset.titles), bool, dataset.n_tracks)
    points = [p for s in ("train", "validation") for p in dataset.split(s) if p.name.strip()]
    named = sorted({p.name.strip(): p for p in points}.items())  # one row per distinct name
    encoder = Encoder.load(args.model)
    x = np.stack([encoder.embed_query(name) for name, _p in named]).astype(np.float64)
    y = np.array([float(cjk[np.unique(p.tracks)].mean()) for _n, p in named])
    print(f"{len(y)} names; CJK share < 0.1: {np.mean(y < 0.1):.2f}, > 0.9: {np.mean(y > 0.9):.2f}")
    for lam in sorted({*LAMBDAS, args.lam}):
        pred = cross_validated(x, y, lam)
        print(f"lambda {lam}: held-out MAE {np.abs(pred - y).mean():.3f}, correlation {np.corrcoef(pred, y)[0, 1]:.2f}")
    pred = cross_validated(x, y, args.lam)
    mae = float(np.abs(pred - y).mean())
    print(language_gap_bounds(y, pred, [name for name, _p in named]))
    cjk_names = float(np.mean([has_cjk(n) for n, _ in named]))
    prompt_script = (
        "cjk" if cjk_names >= KNOWN_SCRIPT_SHARE else "latin" if cjk_names <= 1 - KNOWN_SCRIPT_SHARE else "any"
    )
    about = {
        "model_id": args.model,
        "prompt_script": prompt_script,
        "kind": "prompt-script-head",
        "predicts": "the share of CJK-titled tracks a prompt wants, from its query vector",
        "used_by": "player_plugin/recommend/prompt_language.py",
        "data": f"{dataset.name}: the names of its train and validation playlists ({len(y)} distinct)",
        "lambda": args.lam,
        "cross_validated": {"folds": FOLDS, "mae": round(mae, 4)},
        "command": "python export/train_prompt_script.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "trained": dt.date.today().isoformat(),
    }
    if args.prompt_task:
        about["prompt_task_cross_validated"] = prompt_task(dataset, x, y, args.lam)
        print("prompt task, train + validation, cross-validated head:", about["prompt_task_cross_validated"])
    if args.out is None:
        return 0
    w, b = ridge(x, y, args.lam)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("wb") as f:
        np.savez(f, weight=w, bias=np.float32(b), about=json.dumps(about, ensure_ascii=False))
    print(f"wrote {args.out}: lambda {args.lam}, for prompts written in {prompt_script}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
