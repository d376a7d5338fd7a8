"""``player-plugin evaluate``: the playlist task (``--dataset``) and the replay task (``--replay``)."""

from __future__ import annotations

import argparse
import json
import sys

from player_plugin.cli_errors import EXIT_USAGE, UserError, check_model


def _names(args: argparse.Namespace, default: tuple[str, ...]) -> list[str]:
    return [n.strip() for n in (args.recommenders or ",".join(default)).split(",") if n.strip()]


def _compare(args: argparse.Namespace, names: list[str]) -> list[tuple[str, str]]:
    compare = []
    for pair in (args.compare or "").split(","):
        if pair.strip():
            a, sep, b = pair.strip().partition(":")
            if not sep or a not in names or b not in names:
                raise UserError(f"--compare wants A:B, both evaluated; got {pair!r}", EXIT_USAGE)
            compare.append((a, b))
    return compare


def _vectors(dataset, model_id: str):
    from player_plugin.evaluation.vector_cache import dataset_vectors
    from player_plugin.nlp.encoder import Encoder

    check_model(model_id)
    encoder = Encoder.load(model_id)

    def progress(done: int, total: int) -> None:
        print(f"embedding {dataset.name}: {done}/{total}", file=sys.stderr)

    return dataset_vectors(dataset, encoder, progress=progress)


def _needs_vectors(names: list[str]) -> bool:
    return any(n == "content" or n.startswith(("upnext", "seq2seq")) for n in names)


def cmd_evaluate(args: argparse.Namespace) -> int:
    if args.replay is not None:
        return _replay(args)
    from player_plugin.evaluation.dataset import DatasetError, load_dataset
    from player_plugin.evaluation.evaluate import (
        RECOMMENDERS,
        build_recommenders,
        evaluate,
        format_comparisons,
        format_table,
    )
    from player_plugin.nlp.encoder import DEFAULT_MODEL_ID

    if args.users:
        raise UserError("--users is for --replay (a playlist dataset has no listeners)", EXIT_USAGE)
    if args.task == "prompt":
        return _prompt(args)
    if args.split not in ("validation", "test"):
        raise UserError(
            f"--split {args.split} is for --task prompt; the continuation task scores validation or test", EXIT_USAGE
        )
    names = _names(args, RECOMMENDERS)
    compare = _compare(args, names)
    try:
        dataset = load_dataset(args.dataset)
    except (DatasetError, OSError) as exc:
        raise UserError(str(exc)) from None
    model_id = args.model or DEFAULT_MODEL_ID
    vectors = _vectors(dataset, model_id) if _needs_vectors(names) else None
    try:
        recs = build_recommenders(names, vectors=vectors)
    except ValueError as exc:
        raise UserError(str(exc), EXIT_USAGE) from None
    result = evaluate(dataset, recs, args.split, model=model_id if vectors is not None else None, compare=compare)
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        print(format_table(result))
        if compare:
            print(format_comparisons(result))
    return 0


def _prompt(args: argparse.Namespace) -> int:
    from player_plugin.evaluation.dataset import DatasetError, load_dataset
    from player_plugin.evaluation.prompt_task import PROMPT_RECOMMENDERS, evaluate_prompts, format_prompt_table
    from player_plugin.nlp.encoder import DEFAULT_MODEL_ID, Encoder

    names = _names(args, PROMPT_RECOMMENDERS)
    unknown = [n for n in names if n not in PROMPT_RECOMMENDERS]
    if unknown:
        raise UserError(
            f"unknown prompt-task recommender {', '.join(unknown)}; known: {', '.join(PROMPT_RECOMMENDERS)}", EXIT_USAGE
        )
    if args.compare:
        raise UserError("--compare is for the continuation and replay tasks", EXIT_USAGE)
    try:
        dataset = load_dataset(args.dataset)
    except (DatasetError, OSError) as exc:
        raise UserError(str(exc)) from None
    model_id = args.model or DEFAULT_MODEL_ID
    vectors = _vectors(dataset, model_id)
    encoder = Encoder.load(model_id)
    result = evaluate_prompts(dataset, names, vectors, encoder, model_id, args.split)
    print(json.dumps(result, ensure_ascii=False) if args.json else format_prompt_table(result))
    return 0


def _replay(args: argparse.Namespace) -> int:
    from player_plugin.evaluation.dataset import DatasetError
    from player_plugin.evaluation.histories import load_histories
    from player_plugin.evaluation.replay import DEFAULT_REPLAY, REPLAY_RECOMMENDERS, evaluate_replay, format_replay
    from player_plugin.nlp.encoder import DEFAULT_MODEL_ID

    if args.task != "continuation" or args.split != "test":
        raise UserError(
            "--task and --split are for --dataset; the replay task scores every listener's history", EXIT_USAGE
        )
    names = _names(args, DEFAULT_REPLAY)
    unknown = [n for n in names if n not in REPLAY_RECOMMENDERS]
    if unknown:
        raise UserError(
            f"unknown replay recommender {', '.join(unknown)}; known: {', '.join(REPLAY_RECOMMENDERS)}", EXIT_USAGE
        )
    compare = _compare(args, names)
    try:
        dataset = load_histories(args.replay)
    except (DatasetError, OSError) as exc:
        raise UserError(str(exc)) from None
    users = [u.strip() for u in (args.users or "").split(",") if u.strip()] or None
    model_id = args.model or DEFAULT_MODEL_ID
    vectors = _vectors(dataset, model_id) if _needs_vectors(names) else None

    def progress(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    try:
        result = evaluate_replay(
            dataset,
            names,
            vectors=vectors,
            model=model_id if vectors is not None else None,
            users=users,
            compare=compare,
            progress=progress if not args.json else None,
        )
    except ValueError as exc:
        raise UserError(str(exc), EXIT_USAGE) from None
    print(json.dumps(result, ensure_ascii=False) if args.json else format_replay(result))
    return 0
