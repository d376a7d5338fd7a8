"""The prompt task (evaluate --dataset DIR --task prompt): a playlist's name typed as the prompt."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np

from player_plugin.evaluation.dataset import load_dataset, split_of
from player_plugin.evaluation.prompt_task import history_rows, is_cjk

EN = ["Rain on Glass", "Midnight Transit", "Quiet Harbour", "Summer Drive", "Neon Pulse", "Slow Morning"]
ZH = ["雨夜的信", "火车慢", "旧街灯", "南方以南", "城市在下沉", "夏天的风"]


def _ids_in(split: str, n: int) -> list[str]:
    out, i = [], 0
    while len(out) < n:
        if split_of(f"p{i}") == split:
            out.append(f"p{i}")
        i += 1
    return out


def write_dataset(folder):
    folder.mkdir()
    rows = ["track_id\ttitle\tartist\talbum\tgenre\ttags"]
    titles = EN + ZH
    rows += [f"t{i}\t{t}\tArtist {i % 4}\t\t{'Rock' if i % 2 else 'Folk'}\t" for i, t in enumerate(titles)]
    (folder / "tracks.tsv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    lines = []
    for k, pid in enumerate(_ids_in("train", 4)):
        lines.append({"playlist_id": pid, "name": f"mix {k}", "tracks": [f"t{(k + j) % 12}" for j in range(5)]})
    test = _ids_in("test", 2)
    lines.append({"playlist_id": test[0], "name": "rainy night", "tracks": ["t0", "t6", "t7"]})
    lines.append({"playlist_id": test[1], "name": "", "tracks": ["t1", "t2", "t3"]})  # no name: not a point
    (folder / "playlists.jsonl").write_text("\n".join(json.dumps(x) for x in lines) + "\n", encoding="utf-8")
    return folder


def test_cjk_titles_and_histories_from_other_playlists(tmp_path):
    assert is_cjk("雨夜的信") and is_cjk("夜のドライブ") and is_cjk("비 오는 날") and not is_cjk("Rain on Glass")
    ds = load_dataset(write_dataset(tmp_path / "d"))
    own = ds.split("train")[0]
    h = history_rows(ds, own.playlist_id, 12)
    assert len(h) == 12 and h == history_rows(ds, own.playlist_id, 12)  # fixed by the playlist's id
    others = np.concatenate([p.tracks for p in ds.split("train") if p.playlist_id != own.playlist_id])
    assert set(h) <= set(others.tolist()) and history_rows(ds, own.playlist_id, 0) == []


def test_cli_prompt_task_scores_the_engine_and_the_language_gap(tmp_path):
    folder = write_dataset(tmp_path / "d")
    base = [sys.executable, "-m", "player_plugin.cli", "evaluate", "--dataset", str(folder)]
    cmd = [*base, "--task", "prompt", "--json"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout)
    assert result["task"] == "prompt" and set(result["results"]) == {"content", "upnext"}
    for rec in ("content", "upnext"):
        assert set(result["results"][rec]) == {"h0", "h20", "h200"}
        for r in result["results"][rec].values():
            assert r["points"] == 1  # the unnamed test playlist is no prompt
            assert {"ndcg@10", "precision@10", "hit@10", "language_gap"} <= set(r)
            assert 0.0 <= r["language_gap"] <= 1.0 and 0.0 <= r["ndcg@10"] <= 1.0
    bad = subprocess.run([*cmd[:-1], "--compare", "a:b"], capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    wrong = subprocess.run([*base, "--split", "train+validation"], capture_output=True, text=True, timeout=120)
    assert wrong.returncode == 2 and "is for --task prompt" in wrong.stderr
