"""Bulk work runs lowered (player_plugin/priority.py): one thread's nice value, inherited by the
threads it starts, and the text encoder's onnxruntime threads built that way, read back from
/proc (Linux; elsewhere a nice value is the process's and nothing is lowered)."""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from player_plugin import priority
from player_plugin.nlp.encoder import Encoder
from player_plugin.nlp.runtime import create_session

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice values are Linux's")

MODELS_ROOT = Path(__file__).resolve().parents[1] / "onnx_models"
MINILM = "all-minilm-l6-v2"


def _threads() -> dict[int, int]:
    """This process's threads and their nice values, from /proc (field 19 of each task's stat)."""
    out = {}
    for task in Path(f"/proc/{os.getpid()}/task").iterdir():
        try:
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:  # a thread that ended meanwhile
            continue
        out[int(task.name)] = int(fields[16])
    return out


def _in_thread(fn):
    box = {}
    t = threading.Thread(target=lambda: box.setdefault("v", fn()))
    t.start()
    t.join()
    return box["v"]


def test_lowering_a_thread_lowers_it_and_what_it_starts_not_the_caller():
    mine = priority.thread_nice()

    def lowered():
        assert priority.lower_this_thread()
        return priority.thread_nice(), _in_thread(priority.thread_nice)

    own, child = _in_thread(lowered)
    assert own >= priority.BACKGROUND_NICE and child == own
    assert priority.thread_nice() == mine
    assert _in_thread(priority.thread_nice) == mine  # a thread this one starts now is not lowered


def test_built_in_background_returns_and_raises_like_the_call_and_leaves_the_caller():
    mine = priority.thread_nice()
    assert priority.built_in_background(lambda: priority.thread_nice()) >= priority.BACKGROUND_NICE
    with pytest.raises(ValueError, match="broken"):
        priority.built_in_background(lambda: (_ for _ in ()).throw(ValueError("broken")))
    assert priority.thread_nice() == mine


def test_a_background_session_runs_its_threads_lowered_and_gives_the_same_output():
    path = MODELS_ROOT / MINILM / "model.int8.onnx"
    mine = priority.thread_nice()
    before = set(_threads())
    background = create_session(path, prefer_gpu=False, threads=2, background=True)
    new = {tid: nice for tid, nice in _threads().items() if tid not in before}
    assert new and all(nice >= priority.BACKGROUND_NICE for nice in new.values()), new
    assert priority.thread_nice() == mine
    before = set(_threads())
    plain = create_session(path, prefer_gpu=False, threads=2)
    assert all(nice == mine for tid, nice in _threads().items() if tid not in before)
    ids = np.array([[101, 2293, 2305, 102]], np.int64)
    feeds = {
        i.name: (ids if "input_ids" in i.name else np.zeros_like(ids) if "type" in i.name else np.ones_like(ids))
        for i in plain.get_inputs()
    }
    got, want = background.run(None, feeds)[0], plain.run(None, feeds)[0]
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-6)


def test_the_encoder_runs_in_the_background_unless_asked_not_to():
    before = set(_threads())
    encoder = Encoder.load(MINILM, models_root=MODELS_ROOT, prefer_gpu=False, threads=2)
    lowered = {tid: nice for tid, nice in _threads().items() if tid not in before}
    assert lowered and all(nice >= priority.BACKGROUND_NICE for nice in lowered.values()), lowered
    assert encoder.embed(["rain on glass"]).shape[0] == 1
    before = set(_threads())
    Encoder.load(MINILM, models_root=MODELS_ROOT, prefer_gpu=False, threads=2, background=False)
    assert all(nice < priority.BACKGROUND_NICE for tid, nice in _threads().items() if tid not in before)
