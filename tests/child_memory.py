"""Run the CLI in a child process and learn that child's own peak memory.

``os.wait4``'s ``ru_maxrss`` is no good here: Linux counts the pages a child shared with its parent
before ``exec``, so every child of a large test process looks large. ``VmHWM`` in
``/proc/self/status`` starts afresh at ``exec``, so the child reads it itself on the way out.
"""

from __future__ import annotations

from pathlib import Path

# argv: PEAK_FILE ADDRESS_SPACE_LIMIT (0: none) CLI-ARGS...
PEAK_CLI = """
import resource, sys
peak_file, limit = sys.argv[1], int(sys.argv[2])
if limit:
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

def report():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                with open(peak_file, "w") as out:
                    out.write(line.split()[1])

from player_plugin.cli import main
try:
    code = main(sys.argv[3:])
finally:
    report()
sys.exit(code)
"""


def peak_kib(peak_file: Path) -> int:
    """The child's peak resident memory (KiB), as it wrote it."""
    return int(peak_file.read_text(encoding="ascii"))
