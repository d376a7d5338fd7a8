"""player_plugin: an on-device Up Next for your own music."""

import os as _os

__version__ = "0.1.0"

# No byte leaves the machine. onnxruntime 1.31 on Linux collects telemetry when a session is made
# (a device id under ~/.cache/Microsoft and a DNS lookup of its event server); this switch has to be
# in the environment before onnxruntime is first imported, and every entry point of ours imports this
# package first. nlp/runtime.py also calls onnxruntime.disable_telemetry_events(). tests/test_privacy.py
# checks the system calls.
_os.environ["ORT_DISABLE_TELEMETRY"] = "1"
