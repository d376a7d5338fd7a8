"""Reading a small fit shipped in ``resources/<folder>/<model id>.npz`` (the prompt-script head, the
prompt adapter): arrays plus a JSON ``about`` naming the encoder it was fitted for and the script of
the prompts it was fitted on. A missing file is no fit; a damaged one is no fit and one log line."""

from __future__ import annotations

import json
import logging
import zipfile
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np

from player_plugin import paths
from player_plugin.text_norm import has_cjk

log = logging.getLogger(__name__)
PROMPT_SCRIPTS = ("cjk", "latin", "any")
T = TypeVar("T")


def knows_script(prompts: str, prompt: str) -> bool:
    """Whether a fit made on prompts written in ``prompts`` ("cjk", "latin", "any") can read ``prompt``."""
    return prompts == "any" or (prompts == "cjk") == has_cjk(prompt)


def read_fit(folder: str, model_id: str, what: str, build: Callable[[dict, Any, str], T]) -> T | None:
    """``build(about, arrays, prompt script)`` for the file of ``model_id`` in ``folder``, or None when
    there is none, or when it is damaged, fitted for another encoder, or ``build`` rejects it
    (``ValueError``): then "ignoring the ``what`` …" is logged once per call."""
    path = paths.resources_dir() / folder / f"{model_id}.npz"
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as f:
            about = json.loads(str(f["about"]))
            if about.get("model_id") != model_id:
                raise ValueError(f"it was fitted for {about.get('model_id')!r}")
            prompts = about.get("prompt_script", "any")
            if prompts not in PROMPT_SCRIPTS:
                raise ValueError(f"unknown prompt script {prompts!r}")
            return build(about, f, prompts)
    except (OSError, KeyError, ValueError, TypeError, AttributeError, EOFError, zipfile.BadZipFile) as exc:
        log.warning("ignoring the %s %s: %s", what, path, exc)
        return None
