"""The one onnxruntime session factory: provider choice, CPU fallback, threads, logging.

``onnxruntime-gpu`` lists ``CUDAExecutionProvider`` as available even when no CUDA libraries are
installed; creating a session then logs an error and silently runs on CPU. So we probe whether
the CUDA provider library actually loads before asking for it, and after creating a session we
read back ``get_providers()`` to report what really runs.
"""

from __future__ import annotations

import contextlib
import ctypes
import io
import logging
import os
import sys
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

CUDA = "CUDAExecutionProvider"
CPU = "CPUExecutionProvider"


@dataclass(frozen=True, slots=True)
class ProviderChoice:
    available: tuple[str, ...]
    chosen: str
    reason: str


def _ort():
    import onnxruntime

    if not getattr(_ort, "telemetry_off", False):
        # the environment switch is set in player_plugin/__init__.py; this is the library's own
        disable = getattr(onnxruntime, "disable_telemetry_events", None)
        if disable is not None:
            disable()
        _ort.telemetry_off = True  # type: ignore[attr-defined]
    return onnxruntime


def nvidia_driver_present() -> bool:
    """Whether the NVIDIA driver's user-space library loads (``libcuda.so.1``, which the driver, not
    any wheel, installs): without it the CUDA provider cannot run, so nothing of CUDA is loaded."""
    if sys.platform == "win32":
        return True  # the provider's own load check decides there
    try:
        ctypes.CDLL("libcuda.so.1")
    except OSError:
        return False
    return True


def _cuda_library_loads() -> tuple[bool, str]:
    """Whether onnxruntime's CUDA provider library and its CUDA/cuDNN dependencies load."""
    ort = _ort()
    capi = Path(ort.__file__).parent / "capi"
    name = "onnxruntime_providers_cuda.dll" if sys.platform == "win32" else "libonnxruntime_providers_cuda.so"
    lib = capi / name
    if not lib.exists():
        return False, "this onnxruntime build has no CUDA provider"
    preload = getattr(ort, "preload_dlls", None)
    if preload is not None:  # loads CUDA/cuDNN from nvidia-* wheels when those are installed
        try:
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                preload(directory="")
        except Exception as exc:  # noqa: BLE001 - any failure here just means "no CUDA"
            log.debug("onnxruntime.preload_dlls failed: %s", exc)
    try:
        ctypes.CDLL(str(lib))
    except OSError as exc:
        # e.g. "libcublasLt.so.13: cannot open shared object file: …": keep the library's name
        detail = str(exc).replace(f"{lib}: ", "").strip()
        return False, f"CUDA libraries not loadable ({detail})"
    return True, "CUDA provider library loads"


def choose_provider(prefer_gpu: bool = True) -> ProviderChoice:
    """Pick the execution provider for new sessions, without creating one."""
    ort = _ort()
    available = tuple(ort.get_available_providers())
    if os.environ.get("PLAYER_PLUGIN_DEVICE", "").lower() == "cpu":
        return ProviderChoice(available, CPU, "PLAYER_PLUGIN_DEVICE=cpu")
    if not prefer_gpu:
        return ProviderChoice(available, CPU, "GPU not requested")
    if CUDA not in available:
        return ProviderChoice(available, CPU, "no CUDA provider in this onnxruntime")
    if not nvidia_driver_present():
        # no driver, no GPU to use: skip loading the CUDA and cuDNN libraries (seconds, every start)
        return ProviderChoice(available, CPU, "no NVIDIA driver on this machine")
    ok, why = _cuda_library_loads()
    return ProviderChoice(available, CUDA if ok else CPU, why)


def default_threads() -> int:
    """Intra-op threads: the physical-ish core count, leaving the UI a little room on big machines."""
    n = os.cpu_count() or 1
    return max(1, n if n <= 4 else n - 1)


def create_session(model_path: Path, prefer_gpu: bool = True, threads: int | None = None, background: bool = False):
    """An ``InferenceSession`` on CUDA when it really works, else CPU; logs which one runs.
    ``background``: its intra-op threads run at :data:`player_plugin.priority.BACKGROUND_NICE` (bulk work
    that must not slow what the listener waits for; player_plugin/priority.py)."""
    if background:
        from player_plugin.priority import built_in_background

        return built_in_background(lambda: create_session(model_path, prefer_gpu, threads))
    ort = _ort()
    choice = choose_provider(prefer_gpu)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads or default_threads()
    opts.inter_op_num_threads = 1
    opts.log_severity_level = 4  # the CUDA fallback otherwise prints an alarming error line
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    providers = [CUDA, CPU] if choice.chosen == CUDA else [CPU]
    try:
        session = ort.InferenceSession(str(model_path), sess_options=opts, providers=providers)
    except Exception as exc:  # noqa: BLE001 - a broken CUDA install must not stop the app
        if providers[0] != CUDA:
            raise
        log.warning("CUDA session failed (%s); falling back to CPU", exc)
        session = ort.InferenceSession(str(model_path), sess_options=opts, providers=[CPU])
    running = session.get_providers()[0]
    if choice.chosen == CUDA and running != CUDA:
        log.warning("asked for CUDA for %s but onnxruntime runs it on %s", model_path.name, running)
    log.info("onnxruntime: %s runs on %s (%s)", model_path.name, running, choice.reason)
    return session
