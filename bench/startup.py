"""Start-up time of the desktop app: process start → interactive main window, on the demo library.

"Models cached" and "returning user": a warm-up run first scans and embeds the demo library into a
temporary database; each timed run then starts a fresh Python process running ``run_app`` on that
database with ``PLAYER_PLUGIN_EXIT_WHEN_READY=1``, which prints ``READY`` once the window has been
shown and the event loop is idle, then quits. The time is measured by this script from just
before spawning the process to reading that line (interpreter start and imports included).

    .venv/bin/python bench/startup.py [--runs 7] [--model multilingual-e5-small]

Prints a table, then one JSON line: {"startup_s_median": x, "startup_s_best": y, "runs": n}.
Uses the offscreen Qt platform unless a DISPLAY is set. Target: median < 2 s.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_WARM = """
import sys
from player_plugin import paths
from player_plugin.shared_encoder import make_engine
engine = make_engine(sys.argv[1], model_id=sys.argv[2] or None)
engine.scan([paths.demo_library_dir()])
report = engine.embed()
engine.up_next(10)
print(report.embedded, report.provider)
engine.close()
"""

_RUN = """
import sys
from pathlib import Path
from player_plugin.ui.app import run_app
sys.exit(run_app(Path(sys.argv[1]), model_id=sys.argv[2] or None))
"""


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("QT_QPA_PLATFORM", "xcb" if env.get("DISPLAY") else "offscreen")
    env["PLAYER_PLUGIN_EXIT_WHEN_READY"] = "1"
    env.setdefault("QT_LOGGING_RULES", "qt.multimedia*=false")
    return env


def one_run(db: Path, model: str, timeout: float = 60.0) -> float:
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", _RUN, str(db), model],
        cwd=ROOT,
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    ready = None
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("READY"):
            ready = time.perf_counter() - started
            break
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise
    if ready is None:
        raise RuntimeError(f"the app exited ({proc.returncode}) without reporting READY")
    return ready


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--model", default="", help="model id (default: the app's default model)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "library.db"
        warm = subprocess.run(
            [sys.executable, "-c", _WARM, str(db), args.model], cwd=ROOT, capture_output=True, text=True, check=True
        )
        print(f"warm-up: embedded {warm.stdout.strip()}")
        times = [one_run(db, args.model) for _ in range(args.runs)]
    print(f"{'run':>4}  {'seconds':>8}")
    for i, t in enumerate(times, 1):
        print(f"{i:>4}  {t:8.3f}")
    median, best = statistics.median(times), min(times)
    print(f"{'best':>4}  {best:8.3f}\n{'med':>4}  {median:8.3f}   (target < 2 s)")
    print(json.dumps({"startup_s_median": round(median, 3), "startup_s_best": round(best, 3), "runs": len(times)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
